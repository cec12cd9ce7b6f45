package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.models.DeleteOptions;
import com.azure.resourcemanager.compute.models.DiskCreateOptionTypes;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.LinuxConfiguration;
import com.azure.resourcemanager.compute.models.NetworkInterfaceReference;
import com.azure.resourcemanager.compute.models.NetworkProfile;
import com.azure.resourcemanager.compute.models.OSDisk;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.SshConfiguration;
import com.azure.resourcemanager.compute.models.SshPublicKey;
import com.azure.resourcemanager.compute.models.StorageProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import com.azure.resourcemanager.containerservice.fluent.models.ManagedClusterInner;
import com.azure.resourcemanager.containerservice.models.AgentPoolMode;
import com.azure.resourcemanager.containerservice.models.ManagedClusterAgentPoolProfile;
import com.azure.resourcemanager.containerservice.models.ManagedClusterIdentity;
import com.azure.resourcemanager.containerservice.models.ResourceIdentityType;
import com.azure.resourcemanager.msi.fluent.models.IdentityInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import com.azure.resourcemanager.network.models.AddressSpace;
import com.azure.resourcemanager.network.models.IpAllocationMethod;
import com.azure.resourcemanager.resources.fluent.models.GenericResourceInner;
import com.azure.resourcemanager.resources.models.Identity;
import com.azure.resourcemanager.storage.fluent.models.BlobContainerInner;
import com.azure.resourcemanager.storage.fluent.models.BlobServicePropertiesInner;
import com.azure.resourcemanager.storage.models.Kind;
import com.azure.resourcemanager.storage.models.MinimumTlsVersion;
import com.azure.resourcemanager.storage.models.PublicAccess;
import com.azure.resourcemanager.storage.models.Sku;
import com.azure.resourcemanager.storage.models.SkuName;
import com.azure.resourcemanager.storage.models.StorageAccountCreateParameters;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Normalizer;
import io.mlctl.spec.ResourceSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Import on Azure, for every kind, through the real driver and SDK against the ARM fake: a resource made out of band (as the
 * portal or {@code az} makes it, with someone's own tag and no marker) is read by its id as inventory would list it; adopted,
 * it carries the marker and the labels, inventory lists it at its address with the spec's attributes (a clean plan), its
 * outputs are what a person needs, and later updates and a destroy work on it. Another environment's resource is refused
 * and left as it was; an id of nothing reads as nothing; an id of the wrong form, subscription, resource group or name is a
 * one-line error.
 */
class AzureImportTest {
    static final String KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDmlctltestkeymlctltestkeymlctltestkey0000 dev@laptop";
    /** What mlctl makes first: the network and identity an imported VM or cluster sits in and runs as. */
    static final String BASE = """
        - type: network
          name: net
          cidr: 10.30.0.0/16
          subnets:
            - {name: a, cidr: 10.30.0.0/22}
        """;
    static final Map<String, String> THEIR_TAGS = Map.of("owner", "data-team");

    @TempDir
    Path dir;
    AzureRig rig;

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(dir.resolve(".ssh"));
        Files.writeString(dir.resolve(".ssh/id_rsa.pub"), KEY + "\n");
        rig = new AzureRig(dir);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    /**
     * One kind's import: its spec, how someone made it out of band (returns the id {@code mlctl import} takes), the attributes
     * a read finds (normalized, as the planner compares them), its outputs, and an id of nothing of that kind.
     */
    record Case(String name, Address address, String spec, Function<AzureImportTest, String> make, Map<String, Object> read,
                Function<AzureImportTest, Map<String, String>> outputs, Function<AzureImportTest, String> missing) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> kinds() {
        return Stream.of(
            new Case("identity", Address.parse("identity.trainer"), "- {type: identity, name: trainer}\n", AzureImportTest::identity,
                Map.of("region", "eastus"),
                t -> {
                    Map<String, Object> p = ArmFake.properties(t.rig.arm.get(t.rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer")).orElseThrow());
                    return Map.of("clientId", String.valueOf(p.get("clientId")), "principalId", String.valueOf(p.get("principalId")));
                },
                t -> t.rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer")),
            new Case("bucket", Address.parse("bucket.data"), "- {type: bucket, name: data, versioning: true}\n", AzureImportTest::bucket,
                Map.of("versioning", true, "encryption", "managed", "public", false, "region", "eastus"),
                t -> Map.of("uri", "https://legacydata01.blob.core.windows.net/data"),
                t -> t.rig.id("dev", "Microsoft.Storage/storageAccounts/nosuchaccount01/blobServices/default/containers/data")),
            new Case("network", Address.parse("network.lan"), """
                - type: network
                  name: lan
                  cidr: 10.40.0.0/16
                  subnets:
                    - {name: web, cidr: 10.40.1.0/24}
                  firewall:
                    - {name: ssh, direction: ingress, protocol: tcp, ports: [22], sources: [10.0.0.0/8]}
                """, AzureImportTest::network,
                Map.of("cidr", "10.40.0.0/16", "privateStorageAccess", false, "region", "eastus",
                    "subnets", List.of(Map.of("name", "web", "cidr", "10.40.1.0/24", "private", true, "networkSecurityGroup", "none"))),
                t -> Map.of("subnets", "web=" + t.rig.id("dev", "Microsoft.Network/virtualNetworks/lan/subnets/web")),
                t -> t.rig.id("dev", "Microsoft.Network/virtualNetworks/lan")),
            new Case("instance", Address.parse("instance.box"), "- {type: instance, name: box, machineType: Standard_D2s_v3, subnet: net/a, diskGb: 64}\n",
                AzureImportTest::instance,
                Map.of("machineType", "Standard_D2s_v3", "spot", false, "diskGb", 64L, "subnet", "net/a", "region", "eastus"),
                t -> Map.of("privateIp", "10.30.0.4", "publicIp", String.valueOf(ArmFake.properties(
                    t.rig.arm.get(t.rig.id("dev", "Microsoft.Network/publicIPAddresses/box-ip")).orElseThrow()).get("ipAddress"))),
                t -> t.rig.id("dev", "Microsoft.Compute/virtualMachines/box")),
            new Case("kubernetes_cluster", Address.parse("kubernetes_cluster.k"), """
                - type: kubernetes_cluster
                  name: k
                  version: "1.29"
                  subnet: net/a
                  nodePools:
                    - {name: gpu, machineType: Standard_NC6s_v3, min: 1, max: 3}
                """, AzureImportTest::cluster,
                Map.of("version", "1.29", "subnet", "net/a", "region", "eastus",
                    "nodePools", List.of(Map.of("name", "gpu", "machineType", "Standard_NC6s_v3", "min", 1L, "max", 3L, "spot", false))),
                t -> {
                    Map<String, Object> p = ArmFake.properties(t.rig.arm.get(t.rig.id("dev", "Microsoft.ContainerService/managedClusters/k")).orElseThrow());
                    return Map.of("endpoint", "https://" + p.get("fqdn") + ":443", "credentials", "az aks get-credentials --resource-group dev --name k",
                        "version", "1.29.9");
                },
                t -> t.rig.id("dev", "Microsoft.ContainerService/managedClusters/k")),
            new Case("inference_endpoint", Address.parse("inference_endpoint.sentiment"), """
                - type: inference_endpoint
                  name: sentiment
                  modelUri: azureml://registries/nlp/models/sentiment/versions/3
                  machineType: Standard_DS3_v2
                  minReplicas: 2
                  maxReplicas: 2
                """, AzureImportTest::endpoint,
                Map.of("modelUri", "azureml://registries/nlp/models/sentiment/versions/3", "machineType", "Standard_DS3_v2", "minReplicas", 2L,
                    "maxReplicas", 2L, "region", "eastus"),
                t -> Map.of("invokeUrl", "https://sentiment-prod.eastus.inference.ml.azure.com/score"),
                t -> t.rig.id("dev", "Microsoft.MachineLearningServices/workspaces/team-ws/onlineEndpoints/nothing-here")));
    }

    Environment env(String labels, Case c) {
        return rig.env("dev", labels, BASE + c.spec());
    }

    // ---- out of band, as the portal or az makes them ----

    String identity() {
        cloud().msi().serviceClient().getUserAssignedIdentities()
            .createOrUpdate("dev", "trainer", new IdentityInner().withLocation("eastus").withTags(THEIR_TAGS));
        return rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer");
    }

    AzureClients cloud() {
        return rig.azure.clients(rig.env("dev", "", BASE));
    }

    String bucket() {
        var storage = cloud().storage().serviceClient();
        storage.getStorageAccounts().create("dev", "legacydata01", new StorageAccountCreateParameters().withSku(new Sku().withName(SkuName.STANDARD_LRS))
            .withKind(Kind.STORAGE_V2).withLocation("eastus").withTags(THEIR_TAGS).withMinimumTlsVersion(MinimumTlsVersion.TLS1_2)
            .withEnableHttpsTrafficOnly(true).withAllowBlobPublicAccess(false));
        storage.getBlobContainers().create("dev", "legacydata01", "data", new BlobContainerInner().withPublicAccess(PublicAccess.NONE));
        storage.getBlobServices().setServiceProperties("dev", "legacydata01", new BlobServicePropertiesInner().withIsVersioningEnabled(true));
        return rig.id("dev", "Microsoft.Storage/storageAccounts/legacydata01/blobServices/default/containers/data");
    }

    String network() {
        cloud().network().serviceClient().getVirtualNetworks().createOrUpdate("dev", "lan", new VirtualNetworkInner().withLocation("eastus")
            .withTags(THEIR_TAGS).withAddressSpace(new AddressSpace().withAddressPrefixes(List.of("10.40.0.0/16")))
            .withSubnets(List.of(new SubnetInner().withName("web").withAddressPrefix("10.40.1.0/24").withDefaultOutboundAccess(false))));
        return rig.id("dev", "Microsoft.Network/virtualNetworks/lan");
    }

    String instance() {
        var network = cloud().network().serviceClient();
        PublicIpAddressInner ip = network.getPublicIpAddresses().createOrUpdate("dev", "box-ip", new PublicIpAddressInner().withLocation("eastus")
            .withPublicIpAllocationMethod(IpAllocationMethod.STATIC));
        NetworkInterfaceInner nic = network.getNetworkInterfaces().createOrUpdate("dev", "box-nic0", new NetworkInterfaceInner().withLocation("eastus")
            .withIpConfigurations(List.of(new NetworkInterfaceIpConfigurationInner().withName("primary").withPrimary(true)
                .withSubnet(new SubnetInner().withId(rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/a")))
                .withPublicIpAddress(new PublicIpAddressInner().withId(ip.id())))));
        cloud().compute().serviceClient().getVirtualMachines().createOrUpdate("dev", "box", new VirtualMachineInner().withLocation("eastus")
            .withTags(THEIR_TAGS).withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString("Standard_D2s_v3")))
            .withStorageProfile(new StorageProfile().withImageReference(InstanceKind.IMAGE)
                .withOsDisk(new OSDisk().withCreateOption(DiskCreateOptionTypes.FROM_IMAGE).withDiskSizeGB(64)))
            .withOsProfile(new OSProfile().withComputerName("box").withAdminUsername("ops").withLinuxConfiguration(new LinuxConfiguration()
                .withDisablePasswordAuthentication(true).withSsh(new SshConfiguration().withPublicKeys(List.of(
                    new SshPublicKey().withPath("/home/ops/.ssh/authorized_keys").withKeyData(KEY))))))
            .withNetworkProfile(new NetworkProfile().withNetworkInterfaces(List.of(
                new NetworkInterfaceReference().withId(nic.id()).withPrimary(true).withDeleteOption(DeleteOptions.DELETE)))));
        return rig.id("dev", "Microsoft.Compute/virtualMachines/box");
    }

    /** An AKS cluster as az makes one: its own System pool ("nodepool1"), and a GPU pool the spec names. */
    String cluster() {
        String subnet = rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/a");
        cloud().containers().serviceClient().getManagedClusters().createOrUpdate("dev", "k", new ManagedClusterInner().withLocation("eastus")
            .withTags(THEIR_TAGS).withKubernetesVersion("1.29").withDnsPrefix("k-dev-7f3a")
            .withIdentity(new ManagedClusterIdentity().withType(ResourceIdentityType.SYSTEM_ASSIGNED))
            .withAgentPoolProfiles(List.of(
                new ManagedClusterAgentPoolProfile().withName("nodepool1").withMode(AgentPoolMode.SYSTEM).withVmSize("Standard_D2s_v3").withCount(2)
                    .withVnetSubnetId(subnet),
                new ManagedClusterAgentPoolProfile().withName("gpu").withMode(AgentPoolMode.USER).withVmSize("Standard_NC6s_v3").withCount(1)
                    .withEnableAutoScaling(true).withMinCount(1).withMaxCount(3).withVnetSubnetId(subnet))));
        return rig.id("dev", "Microsoft.ContainerService/managedClusters/k");
    }

    /** A team's own workspace (not mlctl's), its endpoint under a name of theirs, and one deployment serving it on two instances. */
    String endpoint() {
        String store = rig.id("dev", "Microsoft.Storage/storageAccounts/teamstore01");
        String vault = rig.id("dev", "Microsoft.KeyVault/vaults/team-vault");
        String ws = rig.id("dev", "Microsoft.MachineLearningServices/workspaces/team-ws");
        rig.arm.put(store, Map.of("id", store, "name", "teamstore01", "type", "Microsoft.Storage/storageAccounts", "location", "eastus"));
        rig.arm.put(vault, Map.of("id", vault, "name", "team-vault", "type", "Microsoft.KeyVault/vaults", "location", "eastus"));
        rig.arm.put(ws, Map.of("id", ws, "name", "team-ws", "type", "Microsoft.MachineLearningServices/workspaces", "location", "eastus",
            "tags", Map.of(), "properties", Map.of("storageAccount", store, "keyVault", vault, "provisioningState", "Succeeded")));
        var resources = cloud().resources().serviceClient().getResources();
        String api = MachineLearningWorkspace.ML_API;
        String endpoint = ws + "/onlineEndpoints/sentiment-prod";
        GenericResourceInner e = new GenericResourceInner().withProperties(new LinkedHashMap<>(Map.of("authMode", "Key", "traffic", Map.of())))
            .withIdentity(new Identity().withType(com.azure.resourcemanager.resources.models.ResourceIdentityType.SYSTEM_ASSIGNED));
        e.withLocation("eastus").withTags(THEIR_TAGS);
        resources.createOrUpdateById(endpoint.substring(1), api, e);
        GenericResourceInner d = new GenericResourceInner().withProperties(new LinkedHashMap<>(Map.of("endpointComputeType", "Managed",
                "model", "azureml://registries/nlp/models/sentiment/versions/3", "instanceType", "Standard_DS3_v2", "scaleSettings", Map.of("scaleType", "Default"))))
            .withSku(new com.azure.resourcemanager.resources.models.Sku().withName("Default").withCapacity(2));
        d.withLocation("eastus");
        resources.createOrUpdateById((endpoint + "/deployments/main").substring(1), api, d);
        e.withProperties(new LinkedHashMap<>(Map.of("authMode", "Key", "traffic", Map.of("main", 100))));
        resources.createOrUpdateById(endpoint.substring(1), api, e);
        return endpoint;
    }

    // ---- helpers ----

    static Map<String, Object> normalized(ObservedResource r) {
        return Normalizer.normalize(r.attributes());
    }

    @SuppressWarnings("unchecked")
    Map<String, String> cloudTags(String id) {
        return AzureKind.tags(rig.arm.get(id).orElseThrow().get("tags"));
    }

    /** The planner's change between the resource read and the spec: the differences adoption implies. */
    Optional<Change> change(Environment env, ObservedResource read) {
        Plan p = new Planner(rig.azure::rules).plan(env, new Inventory("dev", Map.of(read.address(), read), List.of()),
            new PlanOptions(false, Set.of(read.address()), AzureRig.NOW));
        return p.changes().stream().filter(x -> x.address().equals(read.address())).findFirst();
    }

    /** The differences of an import, which never include one that forces a replacement (the planner refuses such an import). */
    List<AttributeChange> differences(Environment env, ObservedResource read) {
        Optional<Change> c = change(env, read);
        c.ifPresent(x -> assertThat(x).as("an import never replaces").isInstanceOf(Change.Update.class));
        return c.map(Change::attributes).orElse(List.of());
    }

    ObservedResource listed(Environment env, Address address) {
        return rig.azure.list(env, address.type(), Optional.empty()).items().stream().filter(r -> r.address().equals(address)).findFirst()
            .orElseThrow(() -> new AssertionError(address + " is not listed"));
    }

    // ---- the tests ----

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void aResourceMadeOutOfBandIsReadAdoptedListedAsTheSpecSaysThenUpdatedAndDeleted(Case c) {
        rig.apply(rig.env("dev", "team: ml", BASE));
        String id = c.make().apply(this);
        Environment env = env("team: ml", c);
        ResourceSpec spec = env.resource(c.address()).orElseThrow();

        // Read by its id: as list observes an owned one, with all its tags and no marker.
        ObservedResource read = rig.azure.read(env, c.address(), id).orElseThrow();
        assertThat(read.address()).isEqualTo(c.address());
        assertThat(normalized(read)).isEqualTo(Normalizer.normalize(c.read()));
        assertThat(read.tags()).containsAllEntriesOf(THEIR_TAGS).doesNotContainKeys("mlctl-environment", "mlctl-address");
        assertThat(rig.azure.list(env, c.address().type(), Optional.empty()).items()).noneMatch(r -> r.address().equals(c.address()));

        // Adopted: the marker and the labels are written, someone's own tag stays; list finds it at its address, as the spec says.
        List<AttributeChange> changes = differences(env, read);
        assertThat(changes).isNotEmpty();
        ObservedResource adopted = rig.azure.adopt(env, read, spec, changes);
        assertThat(cloudTags(read.cloudId())).containsEntry("mlctl-environment", "dev").containsEntry("mlctl-address", c.address().toString())
            .containsEntry("team", "ml").containsAllEntriesOf(THEIR_TAGS);
        ObservedResource owned = listed(env, c.address());
        assertThat(owned.cloudId()).isEqualToIgnoringCase(read.cloudId());
        assertThat(adopted.cloudId()).isEqualToIgnoringCase(read.cloudId());
        assertThat(rig.plan(env).changes()).as("after the import, inventory matches the spec").isEmpty();

        assertThat(rig.azure.outputs(env, owned)).isEqualTo(c.outputs().apply(this));

        // Later changes go through the ordinary update, and destroy deletes it.
        Environment relabelled = env("team: ai", c);
        assertThat(AzureRig.paths(rig.plan(relabelled))).contains(c.address() + ":tags.team");
        rig.apply(relabelled);
        assertThat(cloudTags(read.cloudId())).containsEntry("team", "ai").containsAllEntriesOf(THEIR_TAGS);
        assertThat(rig.plan(relabelled).changes()).isEmpty();
        rig.destroy(relabelled);
        assertThat(rig.arm.get(read.cloudId())).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void anotherEnvironmentsResourceIsReadWithItsMarkerRefusedAndLeftUnchanged(Case c) {
        rig.apply(rig.env("dev", "team: ml", BASE));
        String id = c.make().apply(this);
        Environment env = env("team: ml", c);
        String stored = rig.azure.read(env, c.address(), id).orElseThrow().cloudId();
        Map<String, Object> theirs = rig.arm.get(stored).orElseThrow();
        Map<String, Object> tags = new TreeMap<>(AzureKind.tags(theirs.get("tags")));
        tags.putAll(Map.of("mlctl-environment", "prod", "mlctl-address", c.address().toString(), "managed-by", "mlctl"));
        theirs.put("tags", tags);
        rig.arm.put(stored, theirs);
        Map<String, Object> before = rig.arm.get(stored).orElseThrow();

        ObservedResource read = rig.azure.read(env, c.address(), id).orElseThrow();
        assertThat(read.tags()).containsEntry("mlctl-environment", "prod");
        ResourceSpec spec = env.resource(c.address()).orElseThrow();
        List<AttributeChange> changes = change(env, read).map(Change::attributes).orElse(List.of());
        assertThatThrownBy(() -> rig.azure.adopt(env, read, spec, changes)).isInstanceOf(NotOwnedException.class)
            .hasMessageStartingWith(c.address() + ": ").hasMessageContaining("managed by mlctl environment prod").hasMessageContaining("cannot be imported")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThat(rig.arm.get(stored).orElseThrow()).isEqualTo(before);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void anIdOfNothingReadsAsNothing(Case c) {
        rig.apply(rig.env("dev", "team: ml", BASE));
        assertThat(rig.azure.read(env("team: ml", c), c.address(), c.missing().apply(this))).isEmpty();
    }

    /** address, id, what the one-line error says. */
    record Bad(String address, String id, String says) {
    }

    @Test
    void idsOfTheWrongFormSubscriptionGroupOrNameAreOneLineErrors() {
        String sub = "/subscriptions/" + AzureRig.SUBSCRIPTION;
        String other = "/subscriptions/11111111-2222-3333-4444-555555555555";
        List<Bad> bad = List.of(
            new Bad("bucket.data", "data", "is not the Azure resource id of a blob container or storage account"),
            new Bad("bucket.data", rig.id("dev", "Microsoft.Network/virtualNetworks/data"), "it takes the form /subscriptions/<subscription>"),
            new Bad("bucket.data", rig.id("dev", "Microsoft.Storage/storageAccounts/acct/blobServices/other/containers/data"), "not the Azure resource id"),
            new Bad("bucket.data", rig.id("dev", "Microsoft.Storage/storageAccounts/acct/blobServices/default/containers/logs"),
                "container logs of storage account acct cannot be imported as bucket.data"),
            new Bad("bucket.data", other + "/resourceGroups/dev/providers/Microsoft.Storage/storageAccounts/acct", "is in subscription 11111111"),
            new Bad("network.lan", "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-1", "is not the Azure resource id of a virtual network"),
            new Bad("network.lan", sub + "/resourceGroups/shared-net/providers/Microsoft.Network/virtualNetworks/lan",
                "is in resource group shared-net; to be imported it must be in resource group dev"),
            new Bad("network.lan", rig.id("dev", "Microsoft.Network/virtualNetworks/hub"), "import it as network.hub"),
            new Bad("identity.trainer", rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/trainer/extra"), "userAssignedIdentities/<name>"),
            new Bad("instance.box", rig.id("dev", "Microsoft.Compute/virtualMachines/other-box"), "Azure cannot rename it"),
            new Bad("instance.box", other + "/resourceGroups/dev/providers/Microsoft.Compute/virtualMachines/box", "not in subscription " + AzureRig.SUBSCRIPTION),
            new Bad("kubernetes_cluster.k", rig.id("dev", "Microsoft.ContainerService/managedClusters"), "an AKS cluster"),
            new Bad("inference_endpoint.sentiment", rig.id("dev", "Microsoft.MachineLearningServices/workspaces/ws"), "an Azure ML online endpoint"),
            new Bad("inference_endpoint.sentiment", sub + "/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ws/onlineEndpoints/s",
                "must be in resource group dev"));
        Environment env = rig.env("dev", "", BASE);
        for (Bad b : bad) {
            Address a = Address.parse(b.address());
            assertThatThrownBy(() -> rig.azure.read(env, a, b.id())).as(b.address() + " " + b.id()).isInstanceOf(DriverException.class)
                .hasMessageStartingWith(a + ": ").hasMessageContaining(b.says())
                .satisfies(e -> assertThat(((DriverException) e).retryable()).isFalse())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        }
        assertThat(rig.arm.faults().total()).as("refused before any request").isZero();
    }

    @Test
    void aVnetImportTakesOnlyTheSubnetsTheSpecNamesAndKeepsTheOthers() {
        Case lan = kind("network");
        rig.apply(rig.env("dev", "team: ml", BASE));
        lan.make().apply(this);
        var vnets = cloud().network().serviceClient().getVirtualNetworks();
        VirtualNetworkInner v = vnets.getByResourceGroup("dev", "lan");
        v.subnets().add(new SubnetInner().withName("legacy").withAddressPrefix("10.40.9.0/24"));
        vnets.createOrUpdate("dev", "lan", v);
        Environment env = env("team: ml", lan);

        ObservedResource read = rig.azure.read(env, lan.address(), v.id()).orElseThrow();
        assertThat(normalized(read)).isEqualTo(Normalizer.normalize(lan.read()));
        rig.azure.adopt(env, read, env.resource(lan.address()).orElseThrow(), differences(env, read));
        assertThat(rig.plan(env).changes()).isEmpty();
        VirtualNetworkInner after = vnets.getByResourceGroup("dev", "lan");
        assertThat(after.subnets()).extracting(SubnetInner::name).containsExactlyInAnyOrder("web", "legacy");
        SubnetInner legacy = after.subnets().stream().filter(s -> s.name().equals("legacy")).findFirst().orElseThrow();
        assertThat(legacy.networkSecurityGroup()).as("someone else's subnet is left as it was").isNull();
        assertThat(rig.azure.outputs(env, listed(env, lan.address()))).containsOnlyKeys("subnets")
            .containsEntry("subnets", "web=" + rig.id("dev", "Microsoft.Network/virtualNetworks/lan/subnets/web"));
        assertThat(rig.run(env, true).result().orElseThrow().failures())
            .anySatisfy(f -> assertThat(f).contains("virtual network lan").contains("legacy").contains("does not manage"));
        assertThat(rig.arm.get(v.id())).isPresent();
    }

    @Test
    void aClusterImportKeepsAUserPoolTheSpecDoesNotNameAndIsNotDeletedWithIt() {
        Case k = kind("kubernetes_cluster");
        rig.apply(rig.env("dev", "team: ml", BASE));
        String id = k.make().apply(this);
        var pools = cloud().containers().serviceClient().getAgentPools();
        pools.createOrUpdate("dev", "k", "theirs", new com.azure.resourcemanager.containerservice.fluent.models.AgentPoolInner()
            .withVmSize("Standard_D2s_v3").withCount(1).withMode(AgentPoolMode.USER)
            .withVnetSubnetId(rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/a")));
        Environment env = env("team: ml", k);
        ObservedResource read = rig.azure.read(env, k.address(), id).orElseThrow();
        assertThat(normalized(read)).isEqualTo(Normalizer.normalize(k.read()));
        rig.azure.adopt(env, read, env.resource(k.address()).orElseThrow(), differences(env, read));
        assertThat(AzureKind.tags(pools.get("dev", "k", "gpu").tags())).containsEntry("mlctl-address", "kubernetes_cluster.k.node_pool.gpu");
        assertThat(AzureKind.tags(pools.get("dev", "k", "nodepool1").tags())).as("its System pool, as mlctl's own").containsEntry("mlctl-address", "kubernetes_cluster.k");
        assertThat(pools.get("dev", "k", "theirs").tags()).isNullOrEmpty();
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(rig.run(env, true).result().orElseThrow().failures()).anySatisfy(f -> assertThat(f).contains("node pool theirs").contains("does not manage"));
        assertThat(rig.arm.get(id)).isPresent();
    }

    /** scope and role GUID of the principal's role assignments. */
    List<String> assignments(String principal) {
        return rig.arm.list("Microsoft.Authorization/roleAssignments").stream().map(ArmFake::properties)
            .filter(p -> principal.equals(p.get("principalId")))
            .map(p -> p.get("scope") + " " + AzureKind.lastSegment(String.valueOf(p.get("roleDefinitionId")))).toList();
    }

    Case kind(String name) {
        return kinds().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
    }

    void adopt(Environment env, Address address, String id) {
        ObservedResource read = rig.azure.read(env, address, id).orElseThrow();
        rig.azure.adopt(env, read, env.resource(address).orElseThrow(), differences(env, read));
    }

    @Test
    void grantsOnAnImportedBucketAndEndpointAreMadeAtTheirOwnScopesNotTheNamesMlctlWouldDerive() {
        Case bucket = kind("bucket");
        Case endpoint = kind("inference_endpoint");
        rig.apply(rig.env("dev", "team: ml", BASE));
        String container = bucket.make().apply(this);
        String scoring = endpoint.make().apply(this);
        String grants = """
            - type: identity
              name: reader
              grants:
                - {actions: [storage.read], resource: bucket/data}
                - {actions: [endpoint.invoke], resource: inference_endpoint/sentiment}
            """;
        Environment imported = rig.env("dev", "team: ml", BASE + bucket.spec() + endpoint.spec());
        adopt(imported, bucket.address(), container);
        adopt(imported, endpoint.address(), scoring);

        Environment env = rig.env("dev", "team: ml", BASE + bucket.spec() + endpoint.spec() + grants);
        rig.apply(env);
        String principal = String.valueOf(ArmFake.properties(rig.arm.get(rig.id("dev", "Microsoft.ManagedIdentity/userAssignedIdentities/reader"))
            .orElseThrow()).get("principalId"));
        assertThat(assignments(principal)).containsExactlyInAnyOrder(container + " " + IdentityGrants.BLOB_READER,
            scoring + " " + IdentityGrants.ML_DATA_SCIENTIST);
        assertThat(rig.plan(env).changes()).isEmpty();

        // Taken back: revoked at those same scopes.
        Environment none = rig.env("dev", "team: ml", BASE + bucket.spec() + endpoint.spec() + "- {type: identity, name: reader}\n");
        assertThat(AzureRig.paths(rig.plan(none))).containsExactly("identity.reader:grants");
        rig.apply(none);
        assertThat(assignments(principal)).isEmpty();
        assertThat(rig.plan(none).changes()).isEmpty();
    }

    @Test
    void whileResourceGraphLagsAnImportedBucketOrEndpointIsListedByTheIdTheSpecsImportListGives() {
        Case bucket = kind("bucket");
        Case endpoint = kind("inference_endpoint");
        rig.apply(rig.env("dev", "team: ml", BASE));
        rig.arm.graphLag(java.time.Duration.ofHours(1)); // what is made from now on stays out of Graph's answers
        String container = bucket.make().apply(this);
        String scoring = endpoint.make().apply(this);
        Environment plain = rig.env("dev", "team: ml", BASE + bucket.spec() + endpoint.spec());
        Environment withImports = io.mlctl.testing.Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
              labels: {team: ml}
            spec:
              provider: azure
              region: eastus
              import:
                - {to: bucket.data, id: %s}
                - {to: inference_endpoint.sentiment, id: %s}
              resources:
            %s""".formatted(container, scoring, (BASE + bucket.spec() + endpoint.spec()).indent(4)));
        adopt(withImports, bucket.address(), container);
        adopt(withImports, endpoint.address(), scoring);

        // Graph does not show them yet: neither name is one mlctl derives, so only the import list says where they are.
        for (Case c : List.of(bucket, endpoint)) {
            assertThat(rig.azure.list(plain, c.address().type(), Optional.empty()).items()).noneMatch(r -> r.address().equals(c.address()));
            assertThat(listed(withImports, c.address()).attributes()).isEqualTo(rig.azure.read(withImports, c.address(),
                c.address().equals(bucket.address()) ? container : scoring).orElseThrow().attributes());
        }
        assertThat(rig.plan(withImports).changes()).isEmpty();
    }

    @Test
    void anInstanceWithoutAPublicAddressOutputsOnlyItsPrivateIp() {
        Environment env = rig.env("dev", "team: ml", BASE + "- {type: instance, name: box, machineType: Standard_D2s_v3, subnet: net/a}\n");
        rig.apply(env);
        assertThat(rig.azure.outputs(env, listed(env, Address.parse("instance.box")))).containsOnlyKeys("privateIp")
            .containsEntry("privateIp", "10.30.0.4");
    }
}
