package io.mlctl.fake.gcp;

/** STUB: to be written. */
final class IamFake implements FakeService {
    private final GcpFakes fakes;

    IamFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
    }
}
