package io.mlctl.fake.gcp;

/** STUB: to be written. */
final class ResourceManagerFake implements FakeService {
    private final GcpFakes fakes;

    ResourceManagerFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
    }
}
