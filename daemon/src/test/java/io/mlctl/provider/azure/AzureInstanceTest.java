package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.ComputeTypes;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.provider.DriverException;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Azure VMs through the real engine, the Azure driver and SDK against the ARM fake: the mapping, a clean
 * re-plan, each attribute's update or replace, drift, prune, destroy, ownership, lost answers, failed
 * operations and their repair, timeouts, quota, throttling and Resource Graph's lag. The network and
 * identities the VMs use are the real driver's too.
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

    /** The real engine and the real Azure driver, every kind its own: the network and identities the VMs use are made as a user's would be. */
    static AzureRig rig(Path dir) throws Exception {
        return new AzureRig(dir);
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
        // The new label changes the network and identities too (their own tests' business); the VM changes in place.
        assertThat(changes(p)).contains("UPDATE instance.box").noneMatch(c -> c.startsWith("REPLACE") || c.startsWith("CREATE"));
        assertThat(AzureRig.paths(p)).filteredOn(x -> x.startsWith("instance.")).containsExactlyInAnyOrder("instance.box:machineType",
            "instance.box:identity", "instance.box:diskGb", "instance.box:tags.team");
        rig.apply(changed);
        Map<String, Object> vm = vm();
        assertThat(vm.get("id")).isEqualTo(id);
        assertThat(at(vm, "properties.hardwareProfile.vmSize")).isEqualTo("Standard_NC12s_v3");
        assertThat(at(vm, "properties.storageProfile.osDisk.diskSizeGB")).isEqualTo(300);
        assertThat((Map<String, Object>) at(vm, "identity.userAssignedIdentities")).containsOnlyKeys(rig.id("dev",
            "Microsoft.ManagedIdentity/userAssignedIdentities/other"));
        assertThat((Map<String, String>) vm.get("tags")).containsEntry("team", "vision");
        // Deallocated to grow the disk, and running again (a power state only Resource Graph shows, never ARM's GET).
        assertThat(ComputeTypes.powerState(rig.arm, id)).isEqualTo("PowerState/running");
        assertThat(rig.arm.faults().count("POST .*/virtualMachines/box/(deallocate|start)$")).isEqualTo(2);
        assertThat(at(vm, "properties.extended")).isNull();
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
    void aFailedCreateIsOneLineThenShowsInThePlanAndTheNextApplyRepairsIt() {
        rig.arm.faults().failOperation("PUT .*/virtualMachines/box$", 1, new ArmError(200, "AllocationFailed",
            "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.\nRead more at https://aka.ms/allocation"));
        Environment e = env(BOX);
        List<String> failures = rig.applyFailing(e);
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("virtual machine box").contains("AllocationFailed").doesNotContain("\n"));
        assertThat(at(vm(), "properties.provisioningState")).isEqualTo("Failed");
        // Not a clean plan forever: the failed VM shows, and the next apply sends it again as it is.
        Plan p = rig.plan(e);
        assertThat(changes(p)).containsExactly("UPDATE instance.box");
        assertThat(AzureRig.paths(p)).containsExactly("instance.box:provisioningState");
        rig.apply(e);
        assertThat(at(vm(), "properties.provisioningState")).isEqualTo("Succeeded");
        assertThat(rig.arm.faults().count("PUT .*/virtualMachines/box$")).as("the create, then its repair").isEqualTo(2);
        assertThat(rig.arm.list("Microsoft.Network/networkInterfaces")).hasSize(1);
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void aFailedVmIsRepairedBeforeAChangeIsMade() {
        Environment e = env(BOX);
        rig.apply(e);
        Map<String, Object> vm = vm();
        ((Map<String, Object>) vm.get("properties")).put("provisioningState", "Failed");
        rig.arm.put(String.valueOf(vm.get("id")), vm);
        Environment bigger = env(BOX.replace("Standard_NC6s_v3", "Standard_NC12s_v3"));
        assertThat(AzureRig.paths(rig.plan(bigger))).containsExactlyInAnyOrder("instance.box:machineType", "instance.box:provisioningState");
        rig.apply(bigger);
        assertThat(at(vm(), "properties.provisioningState")).isEqualTo("Succeeded");
        assertThat(at(vm(), "properties.hardwareProfile.vmSize")).isEqualTo("Standard_NC12s_v3");
        assertThat(rig.plan(bigger).changes()).isEmpty();
    }

    @Test
    void anOperationThatNeverEndsTimesOutRetryablyNamingTheVmAndItsState() {
        Environment e = env(BOX);
        rig.apply(e);
        String id = String.valueOf(vm().get("id"));
        Address box = new Address(ResourceType.INSTANCE, "box");
        AzureClients cloud = rig.azure.clients(e);
        InstanceKind kind = new InstanceKind(Duration.ofMillis(300));
        rig.arm.operationTime(Duration.ofHours(1)); // Azure never finishes
        assertThatThrownBy(() -> kind.delete(cloud, e, new ObservedResource(box, id, Map.of(), Map.of()))).isInstanceOf(DriverException.class)
            .hasMessageContaining("timed out").hasMessageContaining("delete virtual machine box").hasMessageContaining("last state Deleting")
            .satisfies(x -> assertThat(((DriverException) x).retryable()).as("a deadline is not retried: six more would hold the apply for hours").isFalse());
        // Waiting for a VM some operation holds (a killed run's create, here the delete) ends the same way.
        assertThatThrownBy(() -> kind.complete(cloud, e, id, e.resource(box).orElseThrow(), Map.of())).isInstanceOf(DriverException.class)
            .hasMessageContaining("timed out").hasMessageContaining("virtual machine box").hasMessageContaining("last state Deleting")
            .satisfies(x -> assertThat(((DriverException) x).retryable()).as("a deadline is not retried: six more would hold the apply for hours").isFalse());
    }

    @Test
    void theOsDiskGoesOnlyWhenTheVmSaidSoAndADiskMerelyOfThatNameStays() {
        Environment e = env(BOX);
        rig.apply(e);
        String vmId = String.valueOf(vm().get("id"));
        String osdisk = rig.id("dev", "Microsoft.Compute/disks/box-osdisk");
        // Someone swapped the OS disk: box-osdisk is now an unattached disk of theirs, box-os2 the VM's (and goes with it).
        String os2 = rig.id("dev", "Microsoft.Compute/disks/box-os2");
        Map<String, Object> theirs = rig.arm.get(osdisk).orElseThrow();
        theirs.remove("managedBy");
        theirs.put("tags", Map.of("owner", "data-eng"));
        ((Map<String, Object>) theirs.get("properties")).put("diskState", "Unattached");
        rig.arm.put(osdisk, theirs);
        Map<String, Object> swapped = rig.arm.get(osdisk).orElseThrow();
        swapped.put("id", os2);
        swapped.put("name", "box-os2");
        swapped.put("managedBy", vmId);
        swapped.put("tags", Map.of());
        rig.arm.put(os2, swapped);
        Map<String, Object> vm = vm();
        Map<String, Object> os = (Map<String, Object>) at(vm, "properties.storageProfile.osDisk");
        os.put("name", "box-os2");
        ((Map<String, Object>) os.get("managedDisk")).put("id", os2);
        rig.arm.put(vmId, vm);
        rig.destroy(e);
        assertThat(rig.arm.get(vmId)).isEmpty();
        assertThat(rig.arm.get(os2)).as("the VM's own OS disk went with it").isEmpty();
        assertThat(rig.arm.get(osdisk)).as("a disk merely named <instance>-osdisk is not the VM's").isPresent();
        assertThat(rig.arm.all()).extracting(r -> r.get("name")).containsExactly("box-osdisk");
    }

    @Test
    void anOsDiskDetachedOnPurposeSurvivesTheDestroy() {
        Environment e = env(BOX);
        rig.apply(e);
        Map<String, Object> vm = vm();
        ((Map<String, Object>) at(vm, "properties.storageProfile.osDisk")).put("deleteOption", "Detach");
        rig.arm.put(String.valueOf(vm.get("id")), vm);
        rig.destroy(e);
        Map<String, Object> disk = rig.arm.get(rig.id("dev", "Microsoft.Compute/disks/box-osdisk")).orElseThrow();
        assertThat(disk.get("managedBy")).isNull();
        assertThat(rig.arm.all()).extracting(r -> r.get("name")).containsExactly("box-osdisk");
    }

    @Test
    void aVmInARealSubnetIsPrunedAloneOrWithItsNetworkAndDestroyedWithoutFailures() {
        rig.apply(env(BOX));
        // The VM alone goes; its network stays.
        rig.apply(env(""));
        assertThat(rig.arm.list("Microsoft.Compute/virtualMachines")).isEmpty();
        assertThat(rig.arm.list("Microsoft.Network/networkInterfaces")).isEmpty();
        assertThat(rig.arm.list("Microsoft.Compute/disks")).isEmpty();
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/virtualNetworks/net"))).isPresent();
        // The VM and the network it sits in go in one apply: the VM (and its NIC) first, or the subnet would be in use.
        rig.apply(env(BOX));
        Plan both = rig.apply(rig.env("dev", "team: ml", "- type: identity\n  name: trainer\n"));
        assertThat(changes(both)).contains("DELETE instance.box", "DELETE network.net");
        assertThat(rig.arm.list("Microsoft.Network/virtualNetworks")).isEmpty();
        rig.destroy(rig.env("dev", "team: ml", "- type: identity\n  name: trainer\n"));
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void rightAfterAnApplyResourceGraphsLagNeitherMakesThePlanDirtyNorKeepsADestroyFromFinishing() {
        rig.arm.graphLag(Duration.ofHours(1)); // Graph shows nothing this test makes
        String noIdentity = BOX.replace("  identity: trainer\n", "");
        Environment e = rig.env("dev", "team: ml", BASE.substring(0, BASE.indexOf("- type: identity")) + noIdentity);
        rig.apply(e);
        assertThat(rig.plan(e).changes()).isEmpty();
        Plan destroy = rig.destroy(e);
        assertThat(changes(destroy)).containsExactlyInAnyOrder("DELETE instance.box", "DELETE network.net");
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void theKeyVariableIsNeverEchoedAndSecurityKeysAreKeys() {
        String pasted = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----";
        assertThatThrownBy(() -> InstanceSshKey.publicKey(Map.of(InstanceKind.KEY_VARIABLE, pasted, "HOME", dir.toString())))
            .isInstanceOf(DriverException.class).hasMessageContaining("is neither an SSH public key nor a readable file")
            .satisfies(x -> assertThat(x.getMessage()).doesNotContain("b3BlbnNzaC1rZXkt").doesNotContain("PRIVATE"));
        String sk = "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIKdtLKvpwRRMdmoo1Exj8/MxSVOb5zN47eJmVg9ttVP2AAAABHNzaDo= me@yubikey";
        assertThat(InstanceSshKey.publicKey(Map.of(InstanceKind.KEY_VARIABLE, sk, "HOME", dir.toString()))).isEqualTo(sk);
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
        rig.arm.faults().resetCounts();
        assertThat(rig.plan(e).changes()).isEmpty();
        long requests = rig.graphQueries("virtualmachines") + rig.graphQueries("networkinterfaces");
        System.out.println("no-change plan of 12 VMs: " + requests + " requests for them, " + rig.arm.faults().total() + " in all");
        // One Graph query for the VMs, one for their NICs; no read of any single resource.
        assertThat(requests).isEqualTo(2);
        assertThat(rig.nonGraphRequests()).isZero();
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
