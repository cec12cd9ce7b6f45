package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.management.exception.ManagementException;
import com.azure.resourcemanager.containerservice.fluent.AgentPoolsClient;
import com.azure.resourcemanager.containerservice.fluent.ManagedClustersClient;
import com.azure.resourcemanager.containerservice.fluent.models.AgentPoolInner;
import com.azure.resourcemanager.containerservice.fluent.models.ManagedClusterInner;
import com.azure.resourcemanager.containerservice.models.AgentPoolMode;
import com.azure.resourcemanager.containerservice.models.ContainerServiceNetworkProfile;
import com.azure.resourcemanager.containerservice.models.ManagedClusterAgentPoolProfile;
import com.azure.resourcemanager.containerservice.models.ManagedClusterIdentity;
import com.azure.resourcemanager.containerservice.models.ManagedServiceIdentityUserAssignedIdentitiesValue;
import com.azure.resourcemanager.containerservice.models.NetworkPlugin;
import com.azure.resourcemanager.containerservice.models.NetworkPluginMode;
import com.azure.resourcemanager.containerservice.models.ResourceIdentityType;
import com.azure.resourcemanager.containerservice.models.ScaleSetPriority;
import io.mlctl.provider.azure.AzureClients;
import io.mlctl.provider.azure.AzureSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake's AKS refuses what AKS refuses, through the real SDK, and keeps the cluster's and the pools' views alike. */
class ContainerServiceFakeTest {
    static final String SUB = "33333333-2222-3333-4444-555555555555";
    static final String RG = "/subscriptions/" + SUB + "/resourceGroups/rg";
    static final String NET = RG + "/providers/Microsoft.Network/virtualNetworks/net";
    static final String SUBNET = NET + "/subnets/aks";
    static ArmFake arm;
    ManagedClustersClient clusters;
    AgentPoolsClient pools;

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
        subnet("net", "aks", "10.20.0.0/22");
        subnet("other", "x", "10.30.0.0/24");
        arm.put(identity("ops"), Map.of("id", identity("ops"), "name", "ops", "type", "Microsoft.ManagedIdentity/userAssignedIdentities",
            "location", "eastus", "properties", Map.of("principalId", "p-1", "clientId", "c-1")));
        AzureClients clients = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), SUB, "eastus");
        clusters = clients.containers().serviceClient().getManagedClusters();
        pools = clients.containers().serviceClient().getAgentPools();
    }

    private static void subnet(String vnet, String name, String prefix) {
        String v = RG + "/providers/Microsoft.Network/virtualNetworks/" + vnet;
        arm.put(v, Map.of("id", v, "name", vnet, "type", "Microsoft.Network/virtualNetworks", "location", "eastus", "properties", Map.of()));
        arm.put(v + "/subnets/" + name, Map.of("id", v + "/subnets/" + name, "name", name, "type", "Microsoft.Network/virtualNetworks/subnets",
            "properties", Map.of("addressPrefix", prefix)));
    }

    static String identity(String name) {
        return RG + "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/" + name;
    }

    private static ManagedClusterAgentPoolProfile pool(String name, AgentPoolMode mode, String size) {
        return new ManagedClusterAgentPoolProfile().withName(name).withMode(mode).withVmSize(size).withCount(1).withEnableAutoScaling(true)
            .withMinCount(1).withMaxCount(3).withVnetSubnetId(SUBNET);
    }

    private static ManagedClusterInner cluster(ManagedClusterAgentPoolProfile... pools) {
        return new ManagedClusterInner().withLocation("eastus").withDnsPrefix("dev-k").withKubernetesVersion("1.29")
            .withNetworkProfile(new ContainerServiceNetworkProfile().withNetworkPlugin(NetworkPlugin.AZURE).withNetworkPluginMode(NetworkPluginMode.OVERLAY)
                .withServiceCidr("10.0.0.0/16").withDnsServiceIp("10.0.0.10").withPodCidr("10.244.0.0/16"))
            .withAgentPoolProfiles(new ArrayList<>(List.of(pools)));
    }

    private static ManagedClusterInner valid() {
        return cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3"), pool("gpu", AgentPoolMode.USER, "Standard_NC6s_v3"));
    }

    private static void refused(Runnable call, int status, String code) {
        assertThatThrownBy(call::run).isInstanceOf(ManagementException.class).satisfies(e -> {
            assertThat(((ManagementException) e).getResponse().getStatusCode()).isEqualTo(status);
            assertThat(((ManagementException) e).getValue().getCode()).isEqualTo(code);
        });
    }

    @Test
    void aClusterComesWithItsPoolsAndTheAliasResolvesToAPatch() {
        ManagedClusterInner made = clusters.createOrUpdate("rg", "k", valid());
        assertThat(made.kubernetesVersion()).isEqualTo("1.29");
        assertThat(made.currentKubernetesVersion()).startsWith("1.29.");
        assertThat(pools.list("rg", "k").stream().map(AgentPoolInner::name)).containsExactlyInAnyOrder("system", "gpu");
        assertThat(pools.get("rg", "k", "gpu").vnetSubnetId()).isEqualTo(SUBNET);
        assertThat(made.identity().type()).isEqualTo(ResourceIdentityType.SYSTEM_ASSIGNED);
    }

    @Test
    void aClusterNeedsASystemPoolThatIsNotSpotAndValidPoolNames() {
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("gpu", AgentPoolMode.USER, "Standard_NC6s_v3"))), 400, "InvalidParameter");
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3")
            .withScaleSetPriority(ScaleSetPriority.SPOT))), 400, "InvalidParameter");
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3"),
            pool("gpu-pool", AgentPoolMode.USER, "Standard_NC6s_v3"))), 400, "InvalidParameter");
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3"),
            pool("averyverylongpool", AgentPoolMode.USER, "Standard_NC6s_v3"))), 400, "InvalidParameter");
        assertThat(arm.list("Microsoft.ContainerService/managedClusters")).isEmpty();
    }

    @Test
    void autoscalerBoundsMustBeInOrder() {
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3").withMinCount(4))),
            400, "InvalidParameter");
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3").withCount(7))),
            400, "InvalidParameter");
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3").withMinCount(null))),
            400, "InvalidParameter");
    }

    @Test
    void subnetsMustExistShareOneNetworkAndStayClearOfTheServiceRange() {
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3")
            .withVnetSubnetId(NET + "/subnets/nope"))), 400, "InvalidResourceReference");
        refused(() -> clusters.createOrUpdate("rg", "k", cluster(pool("system", AgentPoolMode.SYSTEM, "Standard_D2s_v3"),
            pool("gpu", AgentPoolMode.USER, "Standard_NC6s_v3").withVnetSubnetId(RG + "/providers/Microsoft.Network/virtualNetworks/other/subnets/x"))),
            400, "InvalidParameter");
        ManagedClusterInner overlap = valid();
        overlap.networkProfile().withServiceCidr("10.20.0.0/16").withDnsServiceIp("10.20.0.10");
        refused(() -> clusters.createOrUpdate("rg", "k", overlap), 400, "ServiceCidrOverlapExistingSubnetsCidr");
        ManagedClusterInner ghost = valid().withIdentity(new ManagedClusterIdentity().withType(ResourceIdentityType.USER_ASSIGNED)
            .withUserAssignedIdentities(Map.of(identity("ghost"), new ManagedServiceIdentityUserAssignedIdentitiesValue())));
        refused(() -> clusters.createOrUpdate("rg", "k", ghost), 400, "FailedIdentityOperation");
    }

    @Test
    void immutableFieldsAndVersionJumpsAreRefused() {
        clusters.createOrUpdate("rg", "k", valid());
        refused(() -> clusters.createOrUpdate("rg", "k", valid().withDnsPrefix("other")), 400, "PropertyChangeNotAllowed");
        refused(() -> clusters.createOrUpdate("rg", "k", valid().withKubernetesVersion("1.28")), 400, "NotAllowedUpgrade");
        refused(() -> clusters.createOrUpdate("rg", "k", valid().withKubernetesVersion("1.31")), 400, "NotAllowedUpgrade");
        AgentPoolInner gpu = pools.get("rg", "k", "gpu");
        refused(() -> pools.createOrUpdate("rg", "k", "gpu", gpu.withVmSize("Standard_NC12s_v3")), 400, "PropertyChangeNotAllowed");
        assertThat(clusters.createOrUpdate("rg", "k", valid().withKubernetesVersion("1.30")).currentKubernetesVersion()).startsWith("1.30.");
    }

    @Test
    void theLastSystemPoolCannotGoButAUserPoolCan() {
        clusters.createOrUpdate("rg", "k", valid());
        refused(() -> pools.delete("rg", "k", "system"), 400, "OperationNotAllowed");
        pools.delete("rg", "k", "gpu");
        assertThat(clusters.getByResourceGroup("rg", "k").agentPoolProfiles()).extracting(ManagedClusterAgentPoolProfile::name).containsExactly("system");
    }

    @Test
    void spotPoolsGetTheTaintAndLabelAksAdds() {
        clusters.createOrUpdate("rg", "k", valid());
        AgentPoolInner spot = new AgentPoolInner().withVmSize("Standard_NC6s_v3").withCount(0).withEnableAutoScaling(true).withMinCount(0).withMaxCount(4)
            .withMode(AgentPoolMode.USER).withScaleSetPriority(ScaleSetPriority.SPOT).withVnetSubnetId(SUBNET);
        AgentPoolInner made = pools.createOrUpdate("rg", "k", "spot", spot);
        assertThat(made.nodeTaints()).containsExactly("kubernetes.azure.com/scalesetpriority=spot:NoSchedule");
        assertThat(made.nodeLabels()).containsEntry("kubernetes.azure.com/scalesetpriority", "spot");
        assertThat(made.spotMaxPrice()).isEqualTo(-1f);
        // The cluster's view of its pools follows the pool resources.
        assertThat(clusters.getByResourceGroup("rg", "k").agentPoolProfiles()).extracting(ManagedClusterAgentPoolProfile::name)
            .containsExactlyInAnyOrder("system", "gpu", "spot");
    }

    @Test
    void aChangeWhileAnotherOperationRunsIsRefusedAsAksDoes() {
        clusters.createOrUpdate("rg", "k", valid());
        arm.operationTime(Duration.ofSeconds(30));
        AgentPoolInner gpu = pools.get("rg", "k", "gpu");
        pools.beginCreateOrUpdate("rg", "k", "gpu", gpu.withMaxCount(5));
        assertThatThrownBy(() -> pools.beginCreateOrUpdate("rg", "k", "system", pools.get("rg", "k", "system").withMaxCount(4)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("OperationNotAllowed").hasMessageContaining("is in progress");
        assertThatThrownBy(() -> clusters.beginCreateOrUpdate("rg", "k", valid())).isInstanceOf(ManagementException.class)
            .hasMessageContaining("Another agentpool operation (gpu - Updating) is in progress");
        arm.operationTime(Duration.ZERO);
    }

    private static String send(String method, String path, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1) + "?api-version=2025-09-01"))
            .method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    @Test
    void aClustersPatchTakesTagsOnlyAndAPoolHasNoPatch() throws Exception {
        String id = clusters.createOrUpdate("rg", "k", valid()).id();
        assertThat(send("PATCH", id, "{\"properties\":{\"kubernetesVersion\":\"1.30\"}}")).startsWith("400 ").contains("properties");
        assertThat(send("PATCH", id, "{\"tags\":{\"team\":\"nlp\"}}")).startsWith("200 ");
        assertThat(clusters.getByResourceGroup("rg", "k").tags()).containsEntry("team", "nlp");
        assertThat(send("PATCH", id + "/agentPools/system", "{\"properties\":{\"maxCount\":5}}")).startsWith("405 ");
    }
}
