package io.mlctl.fake.gcp;

/** STUB: to be written. */
final class ComputeFake implements FakeService {
    private final GcpFakes fakes;

    ComputeFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
    }
}
