package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstancesSetLabelsRequest;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.SetLabelsInstanceRequest;
import com.google.cloud.compute.v1.SetTagsInstanceRequest;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.cloud.compute.v1.Tags;
import com.google.cloud.compute.v1.UpdateFirewallRequest;
import io.mlctl.apply.ApplyResult;
import io.mlctl.fake.gcp.ComputeFake;
import io.mlctl.fake.gcp.Faults;
import io.mlctl.fake.gcp.GoogleError;
import io.mlctl.plan.Action;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The GCP network and instance kinds end to end (inventory, plan, apply) against the Compute
 * Engine fake: what lands in Compute Engine, each attribute changed, drift made out of band as
 * another person would make it (through the Compute API), other teams' resources, lost answers,
 * throttling, permission and quota errors, destroy.
 */
class GcpNetworkInstanceTest {
    static final String PROJECT = GcpNetworkInstanceRig.PROJECT;
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
    static final String ZONE = "us-central1-b";

    @TempDir
    Path dir;
    GcpNetworkInstanceRig rig;
    GcpClients other;

    @BeforeEach
    void setUp() {
        rig = new GcpNetworkInstanceRig(dir);
        other = rig.clients();
    }

    @AfterEach
    void tearDown() {
        other.close();
        rig.close();
    }

    ComputeFake compute() {
        return rig.fakes.compute();
    }

    Instance box() {
        return compute().instance(PROJECT, ZONE, "vision-box").orElseThrow(() -> new AssertionError("no instance vision-box in " + ZONE));
    }

    ApplyResult ok(ApplyResult r) {
        assertThat(r.failures()).as("%s", rig.failed).isEmpty();
        assertThat(r.skipped()).isEmpty();
        return r;
    }

    Environment converge(String spec) {
        Environment env = GcpNetworkInstanceRig.env(spec);
        ok(rig.apply(env));
        Plan again = rig.plan(env);
        assertThat(again.changes()).as("a second plan after apply").isEmpty();
        return env;
    }

    static Change change(Plan plan, String address) {
        return plan.changes().stream().filter(c -> c.address().toString().equals(address)).findFirst()
            .orElseThrow(() -> new AssertionError("no change of " + address + " in " + plan.changes()));
    }

    static List<String> paths(Change c) {
        return c.attributes().stream().map(AttributeChange::path).toList();
    }

    static <T> T await(com.google.api.gax.longrunning.OperationFuture<com.google.cloud.compute.v1.Operation, com.google.cloud.compute.v1.Operation> f) {
        try {
            f.get();
            return null;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    // ------------------------------------------------------------------ from nothing

    @Test
    void applyFromNothingMakesWhatAGcpUserExpectsThenPlansClean() {
        converge(SPEC);
        Network net = compute().network(PROJECT, "vision-net").orElseThrow();
        assertThat(net.getAutoCreateSubnetworks()).isFalse();
        assertThat(net.getDescription()).startsWith("mlctl: environment=vision address=network.net ").contains("cidr=10.10.0.0/16");

        Subnetwork train = compute().subnetwork(PROJECT, "us-central1", "vision-net-train").orElseThrow();
        assertThat(train.getIpCidrRange()).isEqualTo("10.10.0.0/20");
        assertThat(train.getPrivateIpGoogleAccess()).isTrue();
        assertThat(train.getNetwork()).endsWith("/global/networks/vision-net");
        assertThat(train.getDescription()).startsWith("mlctl: environment=vision address=network.net.subnet.train ");

        Firewall ssh = compute().firewall(PROJECT, "vision-net-ssh").orElseThrow();
        assertThat(ssh.getDirection()).isEqualTo("INGRESS");
        assertThat(ssh.getAllowedList()).containsExactly(Allowed.newBuilder().setIPProtocol("tcp").addPorts("22").build());
        assertThat(ssh.getSourceRangesList()).containsExactly("203.0.113.0/24");
        assertThat(ssh.getTargetTagsList()).containsExactly("vision-net");
        Firewall out = compute().firewall(PROJECT, "vision-net-out").orElseThrow();
        assertThat(out.getDirection()).isEqualTo("EGRESS");
        assertThat(out.getAllowedList()).containsExactly(Allowed.newBuilder().setIPProtocol("udp").addPorts("53").addPorts("123").build());
        assertThat(out.getDestinationRangesList()).containsExactly("10.0.0.0/8");

        Instance box = box();
        assertThat(box.getMachineType()).endsWith("/zones/us-central1-b/machineTypes/n1-standard-8");
        assertThat(box.getGuestAccelerators(0).getAcceleratorType()).endsWith("/acceleratorTypes/nvidia-tesla-t4");
        assertThat(box.getGuestAccelerators(0).getAcceleratorCount()).isEqualTo(1);
        assertThat(box.getScheduling().getProvisioningModel()).isEqualTo("SPOT");
        assertThat(box.getScheduling().getInstanceTerminationAction()).isEqualTo("STOP");
        assertThat(box.getScheduling().getOnHostMaintenance()).isEqualTo("TERMINATE");
        assertThat(box.getScheduling().getAutomaticRestart()).isFalse();
        assertThat(box.getDisks(0).getDiskSizeGb()).isEqualTo(200);
        assertThat(box.getTags().getItemsList()).containsExactly("vision-net");
        assertThat(box.getNetworkInterfaces(0).getSubnetwork()).endsWith("/regions/us-central1/subnetworks/vision-net-train");
        assertThat(box.getNetworkInterfaces(0).getAccessConfigsList()).as("no external IP in a private subnet").isEmpty();
        assertThat(box.getLabelsMap()).containsEntry("mlctl-environment", "vision").containsEntry("mlctl-type", "instance")
            .containsEntry("mlctl-name", "box").containsEntry("managed-by", "mlctl").containsEntry("team", "ml");
        assertThat(box.getServiceAccountsList()).isEmpty();
        assertThat(box.getStatus()).isEqualTo("RUNNING");
    }

    @Test
    void aNoChangeInventoryOfManyInstancesIsFourRequests() {
        StringBuilder spec = new StringBuilder(SPEC);
        for (int i = 1; i <= 8; i++) {
            spec.append("""
                    - type: instance
                      name: worker-%d
                      machineType: e2-standard-4
                      subnet: net/%s
                """.formatted(i, i % 2 == 0 ? "train" : "pub"));
        }
        Environment env = converge(spec.toString());
        rig.fakes.faults().resetCounts();
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).isEmpty();
        // networks.list, subnetworks.list, firewalls.list, instances.aggregatedList: one page each for 10 resources.
        assertThat(rig.fakes.faults().count("^GET /compute/v1/")).isEqualTo(4);
        // Buckets, service accounts, GKE clusters and Vertex endpoints: one empty listing each on top, whatever the size
        // (docs/benchmarks.md measures the ratio on 300 resources).
        assertThat(rig.requestsOfLastPlan()).isEqualTo(4 + 4);
    }

    // ------------------------------------------------------------------ each attribute changed

    @Test
    void theMachineTypeAndLabelsChangeInPlace() {
        converge(SPEC);
        String id = box().getId() + "";
        Environment env = GcpNetworkInstanceRig.env(SPEC.replace("machineType: n1-standard-8", "machineType: n1-standard-16")
            .replace("team: ml", "team: vision\n    owner: ana"));
        Plan plan = rig.plan(env);
        Change c = change(plan, "instance.box");
        assertThat(c.action()).isEqualTo(Action.UPDATE);
        assertThat(paths(c)).contains("machineType", "tags.team", "tags.owner");
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        Instance box = box();
        assertThat(box.getId() + "").isEqualTo(id);
        assertThat(box.getMachineType()).endsWith("/machineTypes/n1-standard-16");
        assertThat(box.getStatus()).as("started again after the change").isEqualTo("RUNNING");
        assertThat(box.getLabelsMap()).containsEntry("team", "vision").containsEntry("owner", "ana");
        assertThat(rig.fakes.faults().count("POST .*/instances/vision-box/stop$")).isEqualTo(1);
        assertThat(rig.fakes.faults().count("POST .*/instances/vision-box/start$")).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"diskGb", "spot", "accelerator", "subnet"})
    void whatComputeEngineFixesAtCreationReplacesTheInstance(String attribute) {
        converge(SPEC);
        long id = box().getId();
        String changed = switch (attribute) {
            case "diskGb" -> SPEC.replace("diskGb: 200", "diskGb: 300");
            case "spot" -> SPEC.replace("spot: true", "spot: false");
            case "accelerator" -> SPEC.replace("type: nvidia-tesla-t4", "type: nvidia-tesla-t4\n        count: 2");
            default -> SPEC.replace("subnet: net/train", "subnet: net/pub");
        };
        Environment env = GcpNetworkInstanceRig.env(changed);
        Change c = change(rig.plan(env), "instance.box");
        assertThat(c.action()).isEqualTo(Action.REPLACE);
        assertThat(paths(c)).anyMatch(p -> p.startsWith(attribute));
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        List<Instance> all = compute().instances(PROJECT);
        assertThat(all).hasSize(1);
        Instance box = all.get(0);
        assertThat(box.getId()).isNotEqualTo(id);
        switch (attribute) {
            case "diskGb" -> assertThat(box.getDisks(0).getDiskSizeGb()).isEqualTo(300);
            case "spot" -> {
                assertThat(box.getScheduling().getProvisioningModel()).isEqualTo("STANDARD");
                assertThat(box.getScheduling().getOnHostMaintenance()).as("GPUs do not live-migrate").isEqualTo("TERMINATE");
                assertThat(box.getScheduling().getAutomaticRestart()).isTrue();
            }
            case "accelerator" -> assertThat(box.getGuestAccelerators(0).getAcceleratorCount()).isEqualTo(2);
            default -> {
                assertThat(box.getNetworkInterfaces(0).getSubnetwork()).endsWith("/subnetworks/vision-net-pub");
                assertThat(box.getNetworkInterfaces(0).getAccessConfigsList()).as("an external IP in a public subnet").hasSize(1);
                // A subnet without a zone: the region's first zone.
                assertThat(box.getZone()).endsWith("/zones/us-central1-a");
            }
        }
    }

    @Test
    void anAcceleratorOptimizedMachineTypeBringsItsOwnGpus() {
        converge(SPEC.replace("machineType: n1-standard-8\n      accelerator:\n        type: nvidia-tesla-t4\n", "machineType: a2-highgpu-1g\n"));
        Instance box = box();
        assertThat(box.getMachineType()).endsWith("/machineTypes/a2-highgpu-1g");
        assertThat(box.getGuestAccelerators(0).getAcceleratorType()).endsWith("/acceleratorTypes/nvidia-tesla-a100");
        assertThat(box.getScheduling().getOnHostMaintenance()).isEqualTo("TERMINATE");
        // Moving between N1 and an accelerator-optimized series is not a machine type change Compute Engine can make in place.
        Environment n1 = GcpNetworkInstanceRig.env(SPEC.replace("machineType: n1-standard-8\n      accelerator:\n        type: nvidia-tesla-t4\n",
            "machineType: n1-standard-8\n"));
        assertThat(paths(change(rig.plan(n1), "instance.box"))).containsExactly("machineType");
        rig.apply(n1);
        assertThat(rig.failed).anyMatch(f -> f.contains("cannot change machine type a2-highgpu-1g to n1-standard-8 in place")).allMatch(f -> !f.contains("\n"));
        assertThat(box().getMachineType()).endsWith("/machineTypes/a2-highgpu-1g");
        assertThat(box().getStatus()).isEqualTo("RUNNING");
    }

    @Test
    void firewallRulesChangeInPlace() {
        converge(SPEC);
        long sshId = compute().firewall(PROJECT, "vision-net-ssh").orElseThrow().getId();
        Environment env = GcpNetworkInstanceRig.env(SPEC.replace("ports: [22]", "ports: [22, 2222]")
            .replace("direction: egress\n", "direction: ingress\n")
            .replace("        - name: out\n", "        - name: web\n          ports: [443]\n          sources: [0.0.0.0/0]\n        - name: out\n"));
        Change c = change(rig.plan(env), "network.net");
        assertThat(c.action()).isEqualTo(Action.UPDATE);
        assertThat(paths(c)).contains("firewall[ssh].ports", "firewall[out].direction", "firewall[web]");
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        Firewall ssh = compute().firewall(PROJECT, "vision-net-ssh").orElseThrow();
        assertThat(ssh.getId()).isEqualTo(sshId);
        assertThat(ssh.getAllowed(0).getPortsList()).containsExactly("22", "2222");
        Firewall out = compute().firewall(PROJECT, "vision-net-out").orElseThrow();
        assertThat(out.getDirection()).isEqualTo("INGRESS");
        assertThat(out.getSourceRangesList()).containsExactly("10.0.0.0/8");
        assertThat(compute().firewall(PROJECT, "vision-net-web")).isPresent();
        // A rule the spec no longer names goes.
        String withoutOut = SPEC.replace("        - name: out\n          direction: egress\n          protocol: udp\n          ports: [53, 123]\n"
            + "          sources: [10.0.0.0/8]\n", "");
        assertThat(withoutOut).isNotEqualTo(SPEC);
        converge(withoutOut);
        assertThat(compute().firewall(PROJECT, "vision-net-out")).isEmpty();
        assertThat(compute().firewall(PROJECT, "vision-net-web")).isEmpty();
    }

    @Test
    void aWiderSubnetRangeIsExpandedAMovedOneIsANewSubnetwork() {
        converge(SPEC);
        long pubId = compute().subnetwork(PROJECT, "us-central1", "vision-net-pub").orElseThrow().getId();
        Environment wider = GcpNetworkInstanceRig.env(SPEC.replace("cidr: 10.10.16.0/24", "cidr: 10.10.16.0/23"));
        Change c = change(rig.plan(wider), "network.net.subnet.pub");
        assertThat(c.action()).isEqualTo(Action.REPLACE);
        assertThat(change(rig.plan(wider), "network.net").action()).isEqualTo(Action.UPDATE);
        ok(rig.apply(wider));
        assertThat(rig.plan(wider).changes()).isEmpty();
        Subnetwork pub = compute().subnetwork(PROJECT, "us-central1", "vision-net-pub").orElseThrow();
        assertThat(pub.getIpCidrRange()).isEqualTo("10.10.16.0/23");
        assertThat(pub.getId()).as("widened in place with expandIpCidrRange").isEqualTo(pubId);

        converge(SPEC.replace("cidr: 10.10.16.0/24", "cidr: 10.10.32.0/24"));
        Subnetwork moved = compute().subnetwork(PROJECT, "us-central1", "vision-net-pub").orElseThrow();
        assertThat(moved.getIpCidrRange()).isEqualTo("10.10.32.0/24");
        assertThat(moved.getId()).isNotEqualTo(pubId);
    }

    @Test
    void privateStorageAccessSubnetsAndTheNetworkRange() {
        converge(SPEC);
        String off = SPEC.replace("privateStorageAccess: true", "privateStorageAccess: false")
            .replace("        - name: pub\n          cidr: 10.10.16.0/24\n          private: false\n", "        - name: extra\n          cidr: 10.10.64.0/24\n");
        assertThat(off).doesNotContain("name: pub");
        converge(off);
        assertThat(compute().subnetwork(PROJECT, "us-central1", "vision-net-train").orElseThrow().getPrivateIpGoogleAccess()).isFalse();
        assertThat(compute().subnetwork(PROJECT, "us-central1", "vision-net-extra").orElseThrow().getPrivateIpGoogleAccess()).isFalse();
        assertThat(compute().subnetwork(PROJECT, "us-central1", "vision-net-pub")).isEmpty();

        // A custom-mode network has no range: the recorded one changes only with a new network, and the instance in it goes with it.
        long box = box().getId();
        Environment wider = GcpNetworkInstanceRig.env(SPEC.replace("cidr: 10.10.0.0/16", "cidr: 10.10.0.0/17"));
        Plan plan = rig.plan(wider);
        assertThat(change(plan, "network.net").action()).isEqualTo(Action.REPLACE);
        assertThat(change(plan, "instance.box").action()).isEqualTo(Action.REPLACE);
        ok(rig.apply(wider));
        assertThat(rig.plan(wider).changes()).isEmpty();
        assertThat(compute().network(PROJECT, "vision-net").orElseThrow().getDescription()).contains("cidr=10.10.0.0/17");
        assertThat(box().getId()).isNotEqualTo(box);
    }

    @Test
    void aSubnetZoneIsWhereInstancesGoNotADifference() {
        Environment env = converge(SPEC);
        Environment moved = GcpNetworkInstanceRig.env(SPEC.replace("zone: us-central1-b", "zone: us-central1-c"));
        assertThat(rig.plan(moved).changes()).as("GCP subnetworks are regional").isEmpty();
        assertThat(env).isNotNull();
    }

    // ------------------------------------------------------------------ drift made out of band

    @Test
    void aFirewallRuleEditedOutOfBandIsDriftAndCorrected() {
        Environment env = converge(SPEC);
        Firewall ssh = compute().firewall(PROJECT, "vision-net-ssh").orElseThrow();
        // Someone opens SSH to the world and drops the target tag (the rule now applies to every instance in the network).
        await(other.firewalls().updateAsync(UpdateFirewallRequest.newBuilder().setProject(PROJECT).setFirewall("vision-net-ssh")
            .setFirewallResource(ssh.toBuilder().clearSourceRanges().addSourceRanges("0.0.0.0/0").clearTargetTags()).build()));
        Change c = change(rig.plan(env), "network.net");
        assertThat(c.action()).isEqualTo(Action.UPDATE);
        assertThat(paths(c)).contains("firewall[ssh].sources", "firewall[ssh].appliesTo");
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        Firewall fixed = compute().firewall(PROJECT, "vision-net-ssh").orElseThrow();
        assertThat(fixed.getSourceRangesList()).containsExactly("203.0.113.0/24");
        assertThat(fixed.getTargetTagsList()).containsExactly("vision-net");
    }

    @Test
    void aSubnetworkWithPrivateGoogleAccessTurnedOffIsDriftAndCorrected() {
        Environment env = converge(SPEC);
        await(other.subnetworks().setPrivateIpGoogleAccessAsync(PROJECT, "us-central1", "vision-net-pub",
            com.google.cloud.compute.v1.SubnetworksSetPrivateIpGoogleAccessRequest.newBuilder().setPrivateIpGoogleAccess(false).build()));
        Change c = change(rig.plan(env), "network.net");
        assertThat(paths(c)).containsExactly("privateStorageAccess");
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(compute().subnetwork(PROJECT, "us-central1", "vision-net-pub").orElseThrow().getPrivateIpGoogleAccess()).isTrue();
    }

    @Test
    void aLabelRemovedOutOfBandIsDriftAndCorrectedAndOtherLabelsStay() {
        Environment env = converge(SPEC);
        Instance box = box();
        Map<String, String> labels = new java.util.TreeMap<>(box.getLabelsMap());
        labels.remove("team");
        labels.put("cost-center", "cc-42");
        await(other.instances().setLabelsAsync(SetLabelsInstanceRequest.newBuilder().setProject(PROJECT).setZone(ZONE).setInstance("vision-box")
            .setInstancesSetLabelsRequestResource(InstancesSetLabelsRequest.newBuilder().putAllLabels(labels).setLabelFingerprint(box.getLabelFingerprint()))
            .build()));
        Change c = change(rig.plan(env), "instance.box");
        assertThat(c.action()).isEqualTo(Action.UPDATE);
        assertThat(paths(c)).allMatch(p -> p.startsWith("tags"));
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(box().getLabelsMap()).containsEntry("team", "ml").containsEntry("cost-center", "cc-42");
    }

    @Test
    void anInstanceThatLostItsNetworkTagIsDriftAndCorrected() {
        Environment env = converge(SPEC);
        Instance box = box();
        await(other.instances().setTagsAsync(SetTagsInstanceRequest.newBuilder().setProject(PROJECT).setZone(ZONE).setInstance("vision-box")
            .setTagsResource(Tags.newBuilder().addItems("debug").setFingerprint(box.getTags().getFingerprint())).build()));
        Change c = change(rig.plan(env), "instance.box");
        assertThat(paths(c)).containsExactly("firewall");
        ok(rig.apply(env));
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(box().getTags().getItemsList()).containsExactly("debug", "vision-net");
    }

    @Test
    void makingASubnetPrivateTakesTheExternalIpAway() {
        String onPub = SPEC.replace("subnet: net/train", "subnet: net/pub");
        converge(onPub);
        Instance box = compute().instances(PROJECT).get(0);
        assertThat(box.getNetworkInterfaces(0).getAccessConfigsCount()).isEqualTo(1);
        Environment closed = GcpNetworkInstanceRig.env(onPub.replace("private: false", "private: true"));
        Change c = change(rig.plan(closed), "instance.box");
        assertThat(c.action()).isEqualTo(Action.UPDATE);
        assertThat(paths(c)).containsExactly("externalIp");
        ok(rig.apply(closed));
        assertThat(rig.plan(closed).changes()).isEmpty();
        assertThat(compute().instances(PROJECT).get(0).getNetworkInterfaces(0).getAccessConfigsList()).isEmpty();
    }

    // ------------------------------------------------------------------ identity

    @Test
    void anInstanceRunsAsItsIdentitysServiceAccountAndCanChangeIt() {
        String withIdentity = SPEC.replace("diskGb: 200", "diskGb: 200\n      identity: runner") + """
                - type: identity
                  name: runner
                - type: identity
                  name: auditor
            """;
        converge(withIdentity);
        Instance box = box();
        assertThat(box.getServiceAccounts(0).getEmail()).isEqualTo("vision-runner@" + PROJECT + ".iam.gserviceaccount.com");
        assertThat(box.getServiceAccounts(0).getScopesList()).containsExactly("https://www.googleapis.com/auth/cloud-platform");
        Environment changed = GcpNetworkInstanceRig.env(withIdentity.replace("identity: runner", "identity: auditor"));
        Change c = change(rig.plan(changed), "instance.box");
        assertThat(c.action()).isEqualTo(Action.UPDATE);
        assertThat(paths(c)).containsExactly("identity");
        ok(rig.apply(changed));
        assertThat(rig.plan(changed).changes()).isEmpty();
        assertThat(box().getServiceAccounts(0).getEmail()).isEqualTo("vision-auditor@" + PROJECT + ".iam.gserviceaccount.com");
        assertThat(box().getStatus()).isEqualTo("RUNNING");
    }

    // ------------------------------------------------------------------ other teams

    @Test
    void anotherTeamsSameNamedNetworkIsRefusedAndUntouched() {
        await(other.networks().insertAsync(PROJECT, Network.newBuilder().setName("vision-net").setAutoCreateSubnetworks(false)
            .setDescription("the data team's network").build()));
        ApplyResult r = rig.apply(GcpNetworkInstanceRig.env(SPEC));
        assertThat(r.failures()).hasSize(1);
        assertThat(rig.failed).anyMatch(f -> f.contains("network.net: VPC network vision-net already exists and is not managed by mlctl"));
        assertThat(rig.failed.get(0)).doesNotContain("\n");
        assertThat(compute().network(PROJECT, "vision-net").orElseThrow().getDescription()).isEqualTo("the data team's network");
        assertThat(compute().subnetworks(PROJECT)).isEmpty();
        assertThat(compute().firewalls(PROJECT)).isEmpty();
        assertThat(compute().instances(PROJECT)).isEmpty();
    }

    @Test
    void anotherEnvironmentsNetworkOfTheSameNameIsRefused() {
        String spec = SPEC.replace("name: vision\n", "name: vision\n");
        await(other.networks().insertAsync(PROJECT, Network.newBuilder().setName("vision-net").setAutoCreateSubnetworks(false)
            .setDescription(GcpMarker.INSTANCE.description("vision-old", new io.mlctl.spec.Address(io.mlctl.spec.ResourceType.NETWORK, "net"))).build()));
        rig.apply(GcpNetworkInstanceRig.env(spec));
        assertThat(rig.failed).anyMatch(f -> f.contains("managed by mlctl environment vision-old as network.net"));
        assertThat(compute().subnetworks(PROJECT)).isEmpty();
    }

    @Test
    void anotherTeamsSameNamedFirewallRuleIsRefusedAndUntouched() {
        await(other.networks().insertAsync(PROJECT, Network.newBuilder().setName("shared").setAutoCreateSubnetworks(false).build()));
        Firewall theirs = Firewall.newBuilder().setName("vision-net-ssh").setNetwork("global/networks/shared")
            .addAllowed(Allowed.newBuilder().setIPProtocol("tcp").addPorts("22")).addSourceRanges("10.0.0.0/8").build();
        await(other.firewalls().insertAsync(PROJECT, theirs));
        rig.apply(GcpNetworkInstanceRig.env(SPEC));
        assertThat(rig.failed).anyMatch(f -> f.contains("firewall rule vision-net-ssh already exists and is not managed by mlctl"));
        Firewall still = compute().firewall(PROJECT, "vision-net-ssh").orElseThrow();
        assertThat(still.getNetwork()).endsWith("/networks/shared");
        assertThat(still.getSourceRangesList()).containsExactly("10.0.0.0/8");
    }

    @Test
    void aSubnetworkSomeoneElseAddedKeepsTheNetworkAndIsNamed() {
        Environment env = converge(SPEC);
        await(other.subnetworks().insertAsync(PROJECT, "us-central1", Subnetwork.newBuilder().setName("theirs").setNetwork("global/networks/vision-net")
            .setIpCidrRange("10.10.200.0/24").build()));
        assertThat(rig.plan(env).changes()).as("someone else's subnetwork is not ours to show").isEmpty();
        ApplyResult r = rig.destroy(env);
        assertThat(r.failures()).hasSize(1);
        assertThat(rig.failed).anyMatch(f -> f.contains("holds subnetwork theirs (10.10.200.0/24) that mlctl does not manage; move or delete it first"));
        assertThat(compute().network(PROJECT, "vision-net")).isPresent();
        assertThat(compute().subnetwork(PROJECT, "us-central1", "vision-net-train")).as("nothing of the network deleted").isPresent();
        assertThat(compute().firewall(PROJECT, "vision-net-ssh")).isPresent();
    }

    // ------------------------------------------------------------------ failures on the way

    @ParameterizedTest
    @ValueSource(strings = {"POST /compute/v1/projects/[^/]+/global/networks$", "POST /compute/v1/projects/[^/]+/regions/[^/]+/subnetworks$",
        "POST /compute/v1/projects/[^/]+/global/firewalls$", "POST /compute/v1/projects/[^/]+/zones/[^/]+/instances$"})
    void aCreateWhoseAnswerIsLostMakesNothingTwice(String insert) throws Exception {
        rig.fakes.faults().dropResponse(insert, 1);
        converge(SPEC);
        // The drop fired during the apply: a matching request now gets an answer (Google's 400 for an empty body).
        String probe = insert.replace("[^/]+/global", PROJECT + "/global").replace("[^/]+/regions/[^/]+", PROJECT + "/regions/us-central1")
            .replace("[^/]+/zones/[^/]+", PROJECT + "/zones/us-central1-a").replace("POST ", "").replace("$", "");
        java.net.http.HttpResponse<String> answer = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + rig.fakes.httpPort() + probe)).POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).isEqualTo(400);
        // Found after the lost answer, not sent again (a second insert would have been a 409 or a second resource).
        long made = insert.contains("subnetworks") || insert.contains("firewalls") ? 2 : 1;
        assertThat(rig.fakes.faults().count(insert)).isEqualTo(made + 1); // the probe is the +1
        assertThat(compute().networks(PROJECT)).hasSize(1);
        assertThat(compute().subnetworks(PROJECT)).hasSize(2);
        assertThat(compute().firewalls(PROJECT)).hasSize(2);
        assertThat(compute().instances(PROJECT)).hasSize(1);
    }

    @Test
    void unavailableAndRateLimitedAreRetried() {
        rig.fakes.faults().fail("POST /compute/v1/projects/[^/]+/zones/[^/]+/instances$", 2, Faults.unavailable());
        rig.fakes.faults().fail("POST /compute/v1/projects/[^/]+/global/networks$", 1, Faults.rateLimited());
        converge(SPEC);
        assertThat(rig.retried).anyMatch(r -> r.contains("instance.box")).anyMatch(r -> r.contains("network.net"));
        assertThat(rig.fakes.faults().count("POST /compute/v1/projects/[^/]+/zones/[^/]+/instances$")).isEqualTo(3);
        assertThat(compute().instances(PROJECT)).hasSize(1);
        assertThat(compute().networks(PROJECT)).hasSize(1);
    }

    @Test
    void permissionDeniedIsOneLineNamingPermissionAndResource() {
        String resource = "projects/" + PROJECT + "/zones/" + ZONE + "/instances/vision-box";
        rig.fakes.faults().fail("POST /compute/v1/projects/[^/]+/zones/[^/]+/instances$", 1,
            GoogleError.permissionDenied("compute.instances.create", resource));
        ApplyResult r = rig.apply(GcpNetworkInstanceRig.env(SPEC));
        assertThat(r.failures()).hasSize(1);
        String line = rig.failed.get(0);
        assertThat(line).doesNotContain("\n").contains("permission denied").contains("compute.instances.create").contains(resource);
        assertThat(compute().instances(PROJECT)).isEmpty();
    }

    @Test
    void aGpuQuotaErrorIsOneLineNamingQuotaAndRegion() {
        compute().gpuQuota("us-central1", "PREEMPTIBLE_NVIDIA_T4_GPUS", 0);
        ApplyResult r = rig.apply(GcpNetworkInstanceRig.env(SPEC));
        assertThat(r.failures()).hasSize(1);
        String line = rig.failed.get(0);
        assertThat(line).doesNotContain("\n").contains("instance.box").contains("quota PREEMPTIBLE_NVIDIA_T4_GPUS exceeded in region us-central1 (limit 0)");
        assertThat(rig.retried).as("a quota is not retried").noneMatch(x -> x.contains("instance.box"));
        assertThat(compute().instances(PROJECT)).isEmpty();
    }

    // ------------------------------------------------------------------ destroy

    @Test
    void destroyLeavesNothingOwnedAndOthersUntouched() {
        await(other.networks().insertAsync(PROJECT, Network.newBuilder().setName("data-net").setAutoCreateSubnetworks(false).build()));
        Environment env = converge(SPEC);
        ApplyResult r = ok(rig.destroy(env));
        assertThat(r.deleted()).isEqualTo(2);
        assertThat(compute().instances(PROJECT)).isEmpty();
        assertThat(compute().firewalls(PROJECT)).isEmpty();
        assertThat(compute().subnetworks(PROJECT)).isEmpty();
        assertThat(compute().networks(PROJECT)).extracting(Network::getName).containsExactly("data-net");
        assertThat(rig.plan(env).changes()).extracting(Change::action).containsOnly(Action.CREATE);
        assertThat(Optional.of(r)).isPresent();
    }
}
