package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.management.exception.ManagementException;
import com.azure.resourcemanager.compute.fluent.VirtualMachinesClient;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineUpdateInner;
import com.azure.resourcemanager.compute.models.DeleteOptions;
import com.azure.resourcemanager.compute.models.DiskCreateOptionTypes;
import com.azure.resourcemanager.compute.models.DiskDeleteOptionTypes;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.ImageReference;
import com.azure.resourcemanager.compute.models.LinuxConfiguration;
import com.azure.resourcemanager.compute.models.NetworkInterfaceReference;
import com.azure.resourcemanager.compute.models.NetworkProfile;
import com.azure.resourcemanager.compute.models.OSDisk;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.ResourceIdentityType;
import com.azure.resourcemanager.compute.models.SshConfiguration;
import com.azure.resourcemanager.compute.models.SshPublicKey;
import com.azure.resourcemanager.compute.models.StorageProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineEvictionPolicyTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineIdentity;
import com.azure.resourcemanager.compute.models.VirtualMachineIdentityUserAssignedIdentities;
import com.azure.resourcemanager.compute.models.VirtualMachinePriorityTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import com.azure.resourcemanager.network.fluent.NetworkInterfacesClient;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import io.mlctl.provider.azure.AzureClients;
import io.mlctl.provider.azure.AzureSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake's virtual machines, disks and network interfaces refuse what Compute and Network refuse, through the real SDK. */
class ComputeFakeTest {
    static final String SUB = "22222222-2222-3333-4444-555555555555";
    static final String RG = "/subscriptions/" + SUB + "/resourceGroups/rg";
    static final String SUBNET = RG + "/providers/Microsoft.Network/virtualNetworks/net/subnets/a";
    static final String KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7fakefakefakefakefakefakefakefakefakefakefakefake me@host";
    static ArmFake arm;
    AzureClients clients;
    VirtualMachinesClient vms;
    NetworkInterfacesClient nics;

    @BeforeAll
    static void start() throws Exception {
        arm = ArmFake.start();
    }

    @AfterAll
    static void stop() {
        arm.close();
    }

    @BeforeEach
    void reset() {
        arm.reset();
        arm.putGroup(SUB, "rg", "eastus", Map.of());
        // Stand-ins for the network and identity helpers' resources.
        arm.put(RG + "/providers/Microsoft.Network/virtualNetworks/net", Map.of("id", RG + "/providers/Microsoft.Network/virtualNetworks/net",
            "name", "net", "type", "Microsoft.Network/virtualNetworks", "location", "eastus", "properties", Map.of()));
        arm.put(SUBNET, Map.of("id", SUBNET, "name", "a", "type", "Microsoft.Network/virtualNetworks/subnets",
            "properties", Map.of("addressPrefix", "10.1.0.0/24")));
        arm.put(identity("trainer"), Map.of("id", identity("trainer"), "name", "trainer", "type", "Microsoft.ManagedIdentity/userAssignedIdentities",
            "location", "eastus", "properties", Map.of("principalId", "p-1", "clientId", "c-1")));
        clients = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), SUB, "eastus");
        vms = clients.compute().serviceClient().getVirtualMachines();
        nics = clients.network().serviceClient().getNetworkInterfaces();
    }

    static String identity(String name) {
        return RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name;
    }

    private String nic(String name) {
        return nics.createOrUpdate("rg", name, new NetworkInterfaceInner().withLocation("eastus").withIpConfigurations(List.of(
            new NetworkInterfaceIpConfigurationInner().withName("ipconfig1").withSubnet(new SubnetInner().withId(SUBNET))))).id();
    }

    private static VirtualMachineInner vm(String size, String nicId) {
        return vm("v", size, nicId);
    }

    private static VirtualMachineInner vm(String name, String size, String nicId) {
        return new VirtualMachineInner().withLocation("eastus")
            .withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString(size)))
            .withStorageProfile(new StorageProfile().withImageReference(new ImageReference().withPublisher("microsoft-dsvm").withOffer("ubuntu-2204")
                .withSku("2204-gen2").withVersion("latest")).withOsDisk(new OSDisk().withName(name + "-osdisk").withCreateOption(DiskCreateOptionTypes.FROM_IMAGE)
                .withDiskSizeGB(100).withDeleteOption(DiskDeleteOptionTypes.DELETE)))
            .withOsProfile(new OSProfile().withComputerName(name).withAdminUsername("azureuser").withLinuxConfiguration(new LinuxConfiguration()
                .withDisablePasswordAuthentication(true).withSsh(new SshConfiguration().withPublicKeys(List.of(
                    new SshPublicKey().withPath("/home/azureuser/.ssh/authorized_keys").withKeyData(KEY))))))
            .withNetworkProfile(new NetworkProfile().withNetworkInterfaces(List.of(new NetworkInterfaceReference().withId(nicId).withPrimary(true)
                .withDeleteOption(DeleteOptions.DELETE))));
    }

    private static void refused(Runnable call, int status, String code) {
        assertThatThrownBy(call::run).isInstanceOf(ManagementException.class)
            .satisfies(e -> {
                assertThat(((ManagementException) e).getResponse().getStatusCode()).isEqualTo(status);
                assertThat(((ManagementException) e).getValue().getCode()).isEqualTo(code);
            });
    }

    @Test
    void aValidVmIsMadeWithItsOsDiskAndHoldsItsNic() {
        String nicId = nic("v-nic");
        VirtualMachineInner made = vms.createOrUpdate("rg", "v", vm("Standard_NC6s_v3", nicId));
        assertThat(made.provisioningState()).isEqualTo("Succeeded");
        assertThat(made.storageProfile().osDisk().managedDisk().id()).endsWith("/disks/v-osdisk");
        assertThat(arm.get(RG + "/providers/Microsoft.Compute/disks/v-osdisk").orElseThrow()).containsEntry("managedBy", made.id());
        assertThat(arm.get(nicId).orElseThrow()).extractingByKey("properties").asString().contains("virtualMachine");
        // A NIC in a VM's use cannot go; with the VM gone (deleteOption Delete) the NIC and the disk went with it.
        refused(() -> nics.delete("rg", "v-nic"), 409, "NicInUse");
        vms.delete("rg", "v");
        assertThat(arm.get(nicId)).isEmpty();
        assertThat(arm.get(RG + "/providers/Microsoft.Compute/disks/v-osdisk")).isEmpty();
    }

    @Test
    void aDetachedNicStaysAndCanThenBeDeleted() {
        String nicId = nic("v-nic");
        VirtualMachineInner body = vm("Standard_D2s_v3", nicId);
        body.networkProfile().networkInterfaces().get(0).withDeleteOption(DeleteOptions.DETACH);
        vms.createOrUpdate("rg", "v", body);
        vms.delete("rg", "v");
        assertThat(arm.get(nicId)).isPresent();
        nics.delete("rg", "v-nic");
        assertThat(arm.get(nicId)).isEmpty();
    }

    @Test
    void missingProfilesUnknownSizesAndGen1ImagesOnGen2SizesAreRefused() {
        String nicId = nic("v-nic");
        refused(() -> vms.createOrUpdate("rg", "v", vm("Standard_NC6s_v3", nicId).withOsProfile(null)), 400, "InvalidParameter");
        refused(() -> vms.createOrUpdate("rg", "v", vm("Standard_Imaginary_v9", nicId)), 400, "InvalidParameter");
        VirtualMachineInner gen1 = vm("Standard_ND96asr_v4", nicId);
        gen1.storageProfile().imageReference().withSku("2204");
        refused(() -> vms.createOrUpdate("rg", "v", gen1), 400, "BadRequest");
        VirtualMachineInner password = vm("Standard_D2s_v3", nicId);
        password.osProfile().linuxConfiguration().withDisablePasswordAuthentication(false).withSsh(null);
        refused(() -> vms.createOrUpdate("rg", "v", password), 400, "InvalidParameter");
        assertThat(arm.list("Microsoft.Compute/virtualMachines")).isEmpty();
    }

    @Test
    void referencesToNothingAreRefused() {
        refused(() -> vms.createOrUpdate("rg", "v", vm("Standard_D2s_v3", RG + "/providers/Microsoft.Network/networkInterfaces/none")), 400,
            "InvalidResourceReference");
        refused(() -> nics.createOrUpdate("rg", "n", new NetworkInterfaceInner().withLocation("eastus").withIpConfigurations(List.of(
            new NetworkInterfaceIpConfigurationInner().withName("ip").withSubnet(new SubnetInner().withId(SUBNET.replace("/a", "/nope")))))),
            400, "InvalidResourceReference");
        VirtualMachineInner withIdentity = vm("Standard_D2s_v3", nic("v-nic")).withIdentity(new VirtualMachineIdentity()
            .withType(ResourceIdentityType.USER_ASSIGNED).withUserAssignedIdentities(Map.of(identity("ghost"), new VirtualMachineIdentityUserAssignedIdentities())));
        refused(() -> vms.createOrUpdate("rg", "v", withIdentity), 400, "FailedIdentityOperation");
    }

    @Test
    void spotNeedsAnEvictionPolicyAndPriorityCannotChange() {
        String nicId = nic("v-nic");
        refused(() -> vms.createOrUpdate("rg", "v", vm("Standard_NC6s_v3", nicId).withPriority(VirtualMachinePriorityTypes.SPOT)), 400, "InvalidParameter");
        vms.createOrUpdate("rg", "v", vm("Standard_NC6s_v3", nicId).withPriority(VirtualMachinePriorityTypes.SPOT)
            .withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DEALLOCATE));
        refused(() -> vms.createOrUpdate("rg", "v", vm("Standard_NC6s_v3", nicId).withPriority(VirtualMachinePriorityTypes.REGULAR)), 409,
            "PropertyChangeNotAllowed");
    }

    @Test
    void anOsDiskGrowsOnlyWhileDeallocatedAndNeverShrinks() {
        vms.createOrUpdate("rg", "v", vm("Standard_D2s_v3", nic("v-nic")));
        VirtualMachineUpdateInner grow = new VirtualMachineUpdateInner().withStorageProfile(new StorageProfile().withOsDisk(new OSDisk()
            .withCreateOption(DiskCreateOptionTypes.FROM_IMAGE).withDiskSizeGB(200)));
        refused(() -> vms.update("rg", "v", grow), 409, "OperationNotAllowed");
        vms.deallocate("rg", "v");
        assertThat(vms.update("rg", "v", grow).storageProfile().osDisk().diskSizeGB()).isEqualTo(200);
        vms.start("rg", "v");
        VirtualMachineUpdateInner shrink = new VirtualMachineUpdateInner().withStorageProfile(new StorageProfile().withOsDisk(new OSDisk()
            .withCreateOption(DiskCreateOptionTypes.FROM_IMAGE).withDiskSizeGB(50)));
        refused(() -> vms.update("rg", "v", shrink), 409, "PropertyChangeNotAllowed");
    }

    @Test
    void aFamilyQuotaRefusesTheVmThatWouldExceedIt() {
        ComputeTypes.quota(arm, SUB, "eastus", "standardNCSv3Family", 8);
        vms.createOrUpdate("rg", "v", vm("Standard_NC6s_v3", nic("v-nic")));
        assertThatThrownBy(() -> vms.createOrUpdate("rg", "w", vm("w", "Standard_NC6s_v3", nic("w-nic")))).isInstanceOf(ManagementException.class)
            .hasMessageContaining("OperationNotAllowed").hasMessageContaining("standardNCSv3Family Cores quota")
            .hasMessageContaining("Current Limit: 8, Current Usage: 6, Additional Required: 6");
        // Another family, and Spot (its own quota), are not limited by it.
        vms.createOrUpdate("rg", "x", vm("x", "Standard_D2s_v3", nic("x-nic")));
        vms.createOrUpdate("rg", "y", vm("y", "Standard_NC6s_v3", nic("y-nic")).withPriority(VirtualMachinePriorityTypes.SPOT)
            .withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DEALLOCATE));
        assertThat(arm.list("Microsoft.Compute/virtualMachines")).hasSize(3);
    }

    private static String send(String method, String path, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1) + "?api-version=2025-04-01"))
            .method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    @Test
    void aVmsPowerStateIsInResourceGraphsRowOnlyNeverInArmsGet() {
        String id = vms.createOrUpdate("rg", "v", vm("Standard_D2s_v3", nic("v-nic"))).id();
        assertThat(arm.get(id).orElseThrow()).extractingByKey("properties").asString().doesNotContain("extended").doesNotContain("powerState");
        String query = "resources | where type =~ 'microsoft.compute/virtualmachines' | where resourceGroup =~ 'rg'";
        Map<String, Object> row = clients.queryAll("list", query).get(0);
        assertThat(ArmFake.properties(row)).extractingByKey("extended").asString().contains("PowerState/running");
        vms.deallocate("rg", "v");
        assertThat(ArmFake.properties(clients.queryAll("list", query).get(0))).extractingByKey("extended").asString().contains("PowerState/deallocated");
        assertThat(vms.getByResourceGroup("rg", "v").instanceView()).isNull();
        assertThat(ComputeTypes.powerState(arm, id)).isEqualTo("PowerState/deallocated");
        assertThat(Optional.ofNullable(ArmFake.properties(arm.get(id).orElseThrow()).get("extended"))).isEmpty();
    }

    @Test
    void patchesTakeWhatAzuresPatchModelsTake() throws Exception {
        String nicId = nic("v-nic");
        String vmId = vms.createOrUpdate("rg", "v", vm("Standard_D2s_v3", nicId)).id();
        // A VM's PATCH is a VirtualMachineUpdate: no location (a PUT's), nothing read-only.
        assertThat(send("PATCH", vmId, "{\"location\":\"eastus\"}")).startsWith("400 ").contains("location");
        assertThat(send("PATCH", vmId, "{\"properties\":{\"vmId\":\"x\"}}")).startsWith("400 ").contains("vmId");
        assertThat(send("PATCH", vmId, "{\"tags\":{\"team\":\"ml\"}}")).startsWith("200 ");
        // A NIC's PATCH changes its tags only (TagsObject).
        assertThat(send("PATCH", nicId, "{\"properties\":{\"enableAcceleratedNetworking\":true}}")).startsWith("400 ").contains("properties");
        assertThat(send("PATCH", nicId, "{\"tags\":{\"team\":\"ml\"}}")).startsWith("200 ");
        assertThat(nics.getByResourceGroup("rg", "v-nic").tags()).containsEntry("team", "ml");
    }

    @Test
    void aNicOfAnotherVmCannotBeTaken() {
        String nicId = nic("v-nic");
        vms.createOrUpdate("rg", "v", vm("Standard_D2s_v3", nicId));
        VirtualMachineInner other = vm("w", "Standard_D2s_v3", nicId);
        refused(() -> vms.createOrUpdate("rg", "w", other), 409, "NicInUse");
    }
}
