package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.ComputeTypes;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Plan;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Azure VMs through the real engine, the Azure driver and SDK against the ARM fake: the mapping, a clean
 * re-plan, each attribute's update or replace, drift, prune, destroy, ownership, lost answers, failed
 * operations, quota and throttling. The network and identity the VMs use come from stand-in kinds (the
 * network and identity helpers' kinds replace them when the branches meet).
 */
@SuppressWarnings("unchecked")
class AzureInstanceTest {
    static final String KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDmlctltestkeymlctltestkeymlctltestkey0000 dev@laptop";

    @TempDir
    Path dir;
    AzureRig rig;

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(dir.resolve(".ssh"));
        Files.writeString(dir.resolve(".ssh/id_rsa.pub"), KEY + "\n");
        rig = rig(dir);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    /** The real driver with this branch's compute kinds and stand-ins for the network and identity kinds. */
    static AzureRig rig(Path dir) throws Exception {
        return new AzureRig(dir, ArmFake.start(), settings -> new AzureDriver(settings, List.of(StandIn.network(), StandIn.identity(),
            new InstanceKind(Duration.ofSeconds(20)), new ClusterKind(Duration.ofSeconds(20)), new BucketKind(), new EndpointKind())));
    }

    /**
     * A stand-in kind for another helper's type: it seeds the fake with what the real kind would make
     * (a VNet and its subnets, a user-assigned identity) through {@code arm.put}, and reports it as the
     * spec says while the fake holds it.
     */
    record StandIn(ResourceType type, String armType) implements ResourceKind<AzureClients> {
        static final Map<String, ArmFake> FAKES = new java.util.concurrent.ConcurrentHashMap<>();

        static StandIn network() {
            return new StandIn(ResourceType.NETWORK, "Microsoft.Network/virtualNetworks");
        }

        static StandIn identity() {
            return new StandIn(ResourceType.IDENTITY, "Microsoft.ManagedIdentity/userAssignedIdentities");
        }

        private ArmFake fake(AzureClients cloud) {
            return FAKES.get(cloud.settings().resourceManager().toString());
        }

        private String id(AzureClients cloud, Environment env, Address a) {
            return AzureKind.resourceId(cloud, env, armType, a.name());
        }

        @Override
        public ResourceRules rules() {
            return new ResourceRules(Set.of("region"));
        }

        @Override
        public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
            List<ObservedResource> out = new ArrayList<>();
            for (ResourceSpec r : env.resources()) {
                if (r.address().type() != type) continue;
                fake(cloud).get(id(cloud, env, r.address())).ifPresent(x -> out.add(observed(cloud, env, r)));
            }
            return new Page(out, Optional.empty());
        }

        private ObservedResource observed(AzureClients cloud, Environment env, ResourceSpec r) {
            return new ObservedResource(r.address(), id(cloud, env, r.address()), r.attributes(), TagMarker.INSTANCE.marker(env.name(), r.address()));
        }

        @Override
        public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
            return fake(cloud).get(id(cloud, env, address)).map(x -> new Existing(id(cloud, env, address), "stand-in " + address,
                AzureKind.tags(x.get("tags"))));
        }

        @Override
        @SuppressWarnings("unchecked")
        public String create(AzureClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
            String id = id(cloud, env, desired.address());
            Map<String, Object> props = new LinkedHashMap<>();
            props.put("provisioningState", "Succeeded");
            if (type == ResourceType.IDENTITY) {
                props.put("principalId", "principal-" + desired.address().name());
                props.put("clientId", "client-" + desired.address().name());
            }
            fake(cloud).put(id, Map.of("id", id, "name", desired.address().name(), "type", armType, "location", env.region(), "tags", marker,
                "properties", props));
            for (Object s : (List<Object>) desired.attributes().getOrDefault("subnets", List.of())) {
                Map<String, Object> subnet = (Map<String, Object>) s;
                String sid = id + "/subnets/" + subnet.get("name");
                fake(cloud).put(sid, Map.of("id", sid, "name", subnet.get("name"), "type", armType + "/subnets",
                    "properties", Map.of("addressPrefix", subnet.get("cidr"), "provisioningState", "Succeeded")));
            }
            return id;
        }

        @Override
        public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker) {
            return observed(cloud, env, desired);
        }

        @Override
        public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
            return observed(cloud, env, desired);
        }

        @Override
        public void delete(AzureClients cloud, Environment env, ObservedResource current) {
            fake(cloud).remove(current.cloudId());
        }
    }

    static final String BASE = """
        - type: network
          name: net
          cidr: 10.1.0.0/16
          subnets:
            - {name: a, cidr: 10.1.0.0/24}
            - {name: b, cidr: 10.1.1.0/24}
        - type: identity
          name: trainer
        - type: identity
          name: other
        """;

    Environment env(String instance) {
        StandIn.FAKES.put(rig.arm.endpoint(), rig.arm);
        return rig.env("dev", "team: ml", BASE + instance);
    }

    static final String BOX = """
        - type: instance
          name: box
          machineType: Standard_NC6s_v3
          spot: true
          diskGb: 200
          subnet: net/a
          identity: trainer
        """;

    Map<String, Object> vm() {
        return rig.arm.get(rig.id("dev", "Microsoft.Compute/virtualMachines/box")).orElseThrow();
    }

    @SuppressWarnings("unchecked")
    static Object at(Map<String, Object> m, String path) {
        Object cur = m;
        for (String k : path.split("\\.")) cur = cur instanceof Map<?, ?> x ? ((Map<String, Object>) x).get(k) : null;
        return cur;
    }

    static List<String> changes(Plan p) {
        return p.changes().stream().map(c -> c.action() + " " + c.address()).toList();
    }

    @Test
    void applyMakesTheVmWithItsNicDiskImageSpotAndIdentityThenPlansClean() {
        Environment e = env(BOX);
        rig.apply(e);
        Map<String, Object> vm = vm();
        assertThat(at(vm, "properties.hardwareProfile.vmSize")).isEqualTo("Standard_NC6s_v3");
        assertThat(at(vm, "properties.priority")).isEqualTo("Spot");
        assertThat(at(vm, "properties.evictionPolicy")).isEqualTo("Deallocate");
        assertThat(at(vm, "properties.billingProfile.maxPrice")).isEqualTo(-1.0);
        assertThat(at(vm, "properties.storageProfile.osDisk.diskSizeGB")).isEqualTo(200);
        assertThat(at(vm, "properties.storageProfile.osDisk.name")).isEqualTo("box-osdisk");
        assertThat(at(vm, "properties.storageProfile.osDisk.deleteOption")).isEqualTo("Delete");
        assertThat(at(vm, "properties.storageProfile.imageReference")).isEqualTo(Map.of("publisher", "microsoft-dsvm", "offer", "ubuntu-2204",
            "sku", "2204-gen2", "version", "latest"));
        assertThat(at(vm, "properties.osProfile.adminUsername")).isEqualTo("azureuser");
        assertThat(at(vm, "properties.osProfile.linuxConfiguration.disablePasswordAuthentication")).isEqualTo(true);
        assertThat(String.valueOf(at(vm, "properties.osProfile.linuxConfiguration.ssh"))).contains(KEY);
        assertThat((Map<String, Object>) at(vm, "identity.userAssignedIdentities")).containsOnlyKeys(rig.id("dev",
            "Microsoft.ManagedIdentity/userAssignedIdentities/trainer"));
        assertThat((Map<String, String>) vm.get("tags")).containsEntry("mlctl-address", "instance.box").containsEntry("team", "ml");
        Map<String, Object> nic = rig.arm.get(rig.id("dev", "Microsoft.Network/networkInterfaces/box-nic")).orElseThrow();
        assertThat(String.valueOf(at(nic, "properties.ipConfigurations"))).contains(rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/a"))
            .doesNotContain("publicIPAddress");
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Compute/disks/box-osdisk"))).isPresent();

        rig.arm.faults().resetCounts();
        Plan again = rig.plan(e);
        assertThat(again.changes()).isEmpty();
        // Inventory of the VMs and their NICs: one Graph query each (and one for the clusters).
        assertThat(rig.graphQueries("virtualmachines")).isEqualTo(1);
        assertThat(rig.graphQueries("networkinterfaces")).isEqualTo(1);
        assertThat(rig.nonGraphRequests()).isZero();
    }

    @Test
    void sizeIdentityTagsAndABiggerDiskChangeInPlace() {
        rig.apply(env(BOX));
        String id = String.valueOf(vm().get("id"));
        Environment changed = rig.env("dev", "team: vision", BASE + BOX.replace("Standard_NC6s_v3", "Standard_NC12s_v3")
            .replace("identity: trainer", "identity: other").replace("diskGb: 200", "diskGb: 300"));
        Plan p = rig.plan(changed);
        assertThat(changes(p)).containsExactly("UPDATE instance.box");
        assertThat(AzureRig.paths(p)).containsExactlyInAnyOrder("instance.box:machineType", "instance.box:identity", "instance.box:diskGb",
            "instance.box:tags.team");
        rig.apply(changed);
        Map<String, Object> vm = vm();
        assertThat(vm.get("id")).isEqualTo(id);
        assertThat(at(vm, "properties.hardwareProfile.vmSize")).isEqualTo("Standard_NC12s_v3");
        assertThat(at(vm, "properties.storageProfile.osDisk.diskSizeGB")).isEqualTo(300);
        assertThat((Map<String, Object>) at(vm, "identity.userAssignedIdentities")).containsOnlyKeys(rig.id("dev",
            "Microsoft.ManagedIdentity/userAssignedIdentities/other"));
        assertThat((Map<String, String>) vm.get("tags")).containsEntry("team", "vision");
        // Deallocated to grow the disk, and running again.
        assertThat(at(vm, "properties.extended.instanceView.powerState.code")).isEqualTo("PowerState/running");
        assertThat(rig.plan(changed).changes()).isEmpty();
    }

    @Test
    void spotSubnetAndASmallerDiskNeedANewVm() {
        rig.apply(env(BOX));
        for (String variant : List.of(BOX.replace("spot: true", "spot: false"), BOX.replace("net/a", "net/b"), BOX.replace("diskGb: 200", "diskGb: 150"))) {
            String before = String.valueOf(vm().get("properties") instanceof Map<?, ?> p ? p.get("vmId") : "");
            Environment e = env(variant);
            Plan p = rig.plan(e);
            assertThat(changes(p)).as(variant).containsExactly("REPLACE instance.box");
            rig.apply(e);
            assertThat(String.valueOf(at(vm(), "properties.vmId"))).isNotEqualTo(before);
            assertThat(rig.plan(e).changes()).as(variant).isEmpty();
        }
        assertThat(at(vm(), "properties.storageProfile.osDisk.diskSizeGB")).isEqualTo(150);
        assertThat(rig.arm.list("Microsoft.Network/networkInterfaces")).hasSize(1);
    }

    @Test
    void driftInSizeAndTagsShowsAndIsCorrectedLeavingOthersTags() {
        Environment e = env(BOX);
        rig.apply(e);
        Map<String, Object> vm = vm();
        ((Map<String, Object>) at(vm, "properties.hardwareProfile")).put("vmSize", "Standard_NC24s_v3");
        Map<String, Object> tags = new LinkedHashMap<>((Map<String, Object>) vm.get("tags"));
        tags.remove("team");
        tags.put("cost-center", "42");
        vm.put("tags", tags);
        rig.arm.put(String.valueOf(vm.get("id")), vm);
        Plan p = rig.plan(e);
        assertThat(AzureRig.paths(p)).containsExactlyInAnyOrder("instance.box:machineType", "instance.box:tags");
        rig.apply(e);
        assertThat(at(vm(), "properties.hardwareProfile.vmSize")).isEqualTo("Standard_NC6s_v3");
        assertThat((Map<String, String>) vm().get("tags")).containsEntry("team", "ml").containsEntry("cost-center", "42");
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void pruneAndDestroyLeaveNothingOwned() {
        rig.apply(env(BOX + BOX.replace("name: box", "name: box2")));
        Plan prune = rig.apply(env(BOX));
        assertThat(changes(prune)).containsExactly("DELETE instance.box2");
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Compute/virtualMachines/box2"))).isEmpty();
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/networkInterfaces/box2-nic"))).isEmpty();
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Compute/disks/box2-osdisk"))).isEmpty();
        rig.destroy(env(BOX));
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).as("the group mlctl made goes when empty").isEmpty();
    }

    @Test
    void someoneElsesVmOrNicOfTheSameNameIsRefusedNamingIt() throws Exception {
        rig.arm.putGroup(AzureRig.SUBSCRIPTION, "dev", "eastus", Map.of());
        String nic = rig.id("dev", "Microsoft.Network/networkInterfaces/box-nic");
        rig.arm.put(nic, Map.of("id", nic, "name", "box-nic", "type", "Microsoft.Network/networkInterfaces", "location", "eastus",
            "tags", Map.of("owner", "data-eng"), "properties", Map.of()));
        List<String> failures = rig.applyFailing(env(BOX));
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("network interface box-nic").contains("not managed by mlctl"));
        assertThat(rig.arm.list("Microsoft.Compute/virtualMachines")).isEmpty();
        rig.arm.remove(nic);
        String vm = rig.id("dev", "Microsoft.Compute/virtualMachines/box");
        rig.arm.put(vm, Map.of("id", vm, "name", "box", "type", "Microsoft.Compute/virtualMachines", "location", "eastus",
            "tags", Map.of("mlctl-environment", "prod", "mlctl-address", "instance.box"), "properties", Map.of("provisioningState", "Succeeded")));
        assertThat(rig.applyFailing(env(BOX))).anySatisfy(f -> assertThat(f).contains("virtual machine box").contains("environment prod"));
    }

    @Test
    void lostAnswersCreateOneVmAndOneNic() {
        rig.arm.faults().dropResponse("PUT .*/networkInterfaces/box-nic", 1).dropResponse("PUT .*/virtualMachines/box$", 1);
        Environment e = env(BOX);
        rig.apply(e);
        assertThat(rig.arm.list("Microsoft.Compute/virtualMachines")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.Network/networkInterfaces")).hasSize(1);
        assertThat(rig.arm.faults().count("PUT .*/virtualMachines/box$")).isGreaterThanOrEqualTo(2);
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void aFailedCreateIsOneLine() {
        rig.arm.faults().failOperation("PUT .*/virtualMachines/box$", 1, new ArmError(200, "AllocationFailed",
            "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.\nRead more at https://aka.ms/allocation"));
        List<String> failures = rig.applyFailing(env(BOX));
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("virtual machine box").contains("AllocationFailed").doesNotContain("\n"));
    }

    @Test
    void aQuotaErrorNamesTheFamilyAndRegionAndLeavesNoNic() {
        ComputeTypes.quota(rig.arm, AzureRig.SUBSCRIPTION, "eastus", "standardNCSv3Family", 4);
        List<String> failures = rig.applyFailing(env(BOX.replace("spot: true", "spot: false")));
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("quota exceeded: standardNCSv3Family cores in eastus")
            .contains("limit 4, in use 0, 6 more needed").doesNotContain("\n"));
        assertThat(rig.arm.list("Microsoft.Network/networkInterfaces")).isEmpty();
        // A family whose name holds an underscore is named too.
        ComputeTypes.quota(rig.arm, AzureRig.SUBSCRIPTION, "eastus", "standardNCASv3_T4Family", 0);
        assertThat(rig.applyFailing(env(BOX.replace("Standard_NC6s_v3", "Standard_NC4as_T4_v3").replace("spot: true", "spot: false"))))
            .anySatisfy(f -> assertThat(f).contains("quota exceeded: standardNCASv3_T4Family cores in eastus"));
    }

    @Test
    void throttlingIsWaitedOut() {
        rig.arm.faults().throttle("PUT .*/virtualMachines/box$", 1, 1);
        rig.apply(env(BOX));
        assertThat(rig.arm.list("Microsoft.Compute/virtualMachines")).hasSize(1);
        assertThat(rig.arm.faults().count("PUT .*/virtualMachines/box$")).isEqualTo(2);
    }

    @Test
    void withoutAKeyOfItsOwnTheVmGetsAThrowawayKeyAndNoPassword() throws Exception {
        Files.delete(dir.resolve(".ssh/id_rsa.pub"));
        rig.apply(env(BOX));
        String ssh = String.valueOf(at(vm(), "properties.osProfile.linuxConfiguration.ssh"));
        assertThat(ssh).contains("ssh-rsa AAAA").contains("mlctl-no-private-key").doesNotContain(KEY);
        assertThat(at(vm(), "properties.osProfile.adminPassword")).isNull();
    }

    @Test
    void anAcceleratorIsRefusedBeforeAnyPlanSinceAzureGpusComeWithTheSize() {
        assertThatThrownBy(() -> env(BOX + "  accelerator: {type: nvidia-tesla-v100}\n"))
            .hasMessageContaining("azure attaches GPUs through the machine type");
    }

    @Test
    void manyVmsPlanInFewerRequestsThanResources() {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 12; i++) many.append(BOX.replace("name: box", "name: box" + i).replace("Standard_NC6s_v3", "Standard_D2s_v3"));
        Environment e = env(many.toString());
        rig.apply(e);
        long before = rig.azure.requestCount();
        assertThat(rig.plan(e).changes()).isEmpty();
        long requests = rig.azure.requestCount() - before;
        System.out.println("no-change plan of 12 VMs: " + requests + " requests");
        assertThat(requests).isLessThan(12);
    }

    @Test
    void changesOutsideTheSpecAreNotTouched() {
        Environment e = env(BOX);
        rig.apply(e);
        // A change of something the spec does not hold (the image's version) is nobody's drift.
        Map<String, Object> vm = vm();
        ((Map<String, Object>) at(vm, "properties.storageProfile.imageReference")).put("version", "24.01.01");
        rig.arm.put(String.valueOf(vm.get("id")), vm);
        assertThat(rig.plan(e).changes()).isEmpty();
        assertThat(rig.plan(e).unchanged()).extracting(u -> u.address().toString()).contains("instance.box");
        // A NIC whose tags someone replaced is out of the Graph query's reach: it is read directly, and the VM stays.
        String nicId = rig.id("dev", "Microsoft.Network/networkInterfaces/box-nic");
        Map<String, Object> nic = rig.arm.get(nicId).orElseThrow();
        nic.put("tags", Map.of("owner", "netops"));
        rig.arm.put(nicId, nic);
        assertThat(rig.plan(e).changes()).isEmpty();
    }
}
