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

    /** Whether a service account with this email exists (instances, GKE and Vertex run as one). */
    public boolean hasServiceAccount(String email) {
        return true; // STUB
    }
}
