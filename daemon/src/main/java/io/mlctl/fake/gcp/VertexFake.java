package io.mlctl.fake.gcp;

/** STUB: to be written. */
final class VertexFake implements FakeService {
    private final GcpFakes fakes;

    VertexFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
    }
}
