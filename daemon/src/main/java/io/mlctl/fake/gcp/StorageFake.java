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

    /** Whether the bucket exists (Vertex reads models from gs:// URIs). */
    public boolean hasBucket(String bucket) {
        return true; // STUB
    }
}
