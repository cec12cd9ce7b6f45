package io.mlctl.fake.gcp;

/** STUB: to be written. */
final class StorageFake implements FakeService {
    private final GcpFakes fakes;

    StorageFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
    }
}
