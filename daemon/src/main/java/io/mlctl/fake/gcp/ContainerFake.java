package io.mlctl.fake.gcp;

/** STUB: to be written. */
final class ContainerFake implements FakeService {
    private final GcpFakes fakes;

    ContainerFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
    }
}
