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

    /** Whether the project has this network (GKE and instances refer to it). */
    public boolean hasNetwork(String project, String network) {
        return true; // STUB
    }

    /** Whether the project has this subnetwork in the region. */
    public boolean hasSubnetwork(String project, String region, String subnetwork) {
        return true; // STUB
    }
}
