package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.ApplyResult;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GcpNetworkInstanceTest {
    static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: vision
          labels:
            team: ml
        spec:
          provider: gcp
          region: us-central1
          resources:
            - type: network
              name: net
              cidr: 10.10.0.0/16
              privateStorageAccess: true
              subnets:
                - name: train
                  cidr: 10.10.0.0/20
                  zone: us-central1-b
                - name: pub
                  cidr: 10.10.16.0/24
                  private: false
              firewall:
                - name: ssh
                  ports: [22]
                  sources: [203.0.113.0/24]
                - name: out
                  direction: egress
                  protocol: udp
                  ports: [53, 123]
                  sources: [10.0.0.0/8]
            - type: instance
              name: box
              machineType: n1-standard-8
              accelerator:
                type: nvidia-tesla-t4
              spot: true
              subnet: net/train
              diskGb: 200
        """;

    @TempDir
    Path dir;
    GcpNetworkInstanceRig rig;

    @BeforeEach
    void setUp() {
        rig = new GcpNetworkInstanceRig(dir);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    @Test
    void applyFromNothingThenACleanPlan() {
        Environment env = GcpNetworkInstanceRig.env(SPEC);
        ApplyResult r = rig.apply(env);
        assertThat(r.failures()).as("%s", rig.failed).isEmpty();
        assertThat(r.created()).isEqualTo(2);
        Plan again = rig.plan(env);
        assertThat(again.changes()).as("%s", again.changes()).isEmpty();
        rig.fakes.compute().instances(GcpNetworkInstanceRig.PROJECT).forEach(i -> System.out.println("INSTANCE " + io.mlctl.fake.gcp.Json.print(i, false)));
        rig.fakes.compute().firewalls(GcpNetworkInstanceRig.PROJECT).forEach(i -> System.out.println("FW " + io.mlctl.fake.gcp.Json.print(i, false)));
        rig.fakes.compute().subnetworks(GcpNetworkInstanceRig.PROJECT).forEach(i -> System.out.println("SUB " + io.mlctl.fake.gcp.Json.print(i, false)));
        rig.fakes.compute().networks(GcpNetworkInstanceRig.PROJECT).forEach(i -> System.out.println("NET " + io.mlctl.fake.gcp.Json.print(i, false)));
        System.out.println("REQUESTS " + rig.fakes.faults().total());
    }
}
