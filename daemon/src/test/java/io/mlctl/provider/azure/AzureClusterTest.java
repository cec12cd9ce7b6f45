package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.resourcemanager.containerservice.fluent.AgentPoolsClient;
import com.azure.resourcemanager.containerservice.fluent.models.AgentPoolInner;
import com.azure.resourcemanager.containerservice.models.AgentPoolMode;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.provider.DriverException;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AKS clusters through the real engine, the Azure driver and SDK against the ARM fake: the mapping
 * (System pool, Spot pools and their taint, the subnet, the identity), a clean re-plan, each change's
 * update or replace (a pool's, not the cluster's, where AKS allows), out-of-band resizes, ownership,
 * a lost create, a busy cluster, a failed one and its repair, timeouts, throttling, Resource Graph's lag,
 * prune and destroy. The network and identities are the real driver's too.
 */
@SuppressWarnings("unchecked")
class AzureClusterTest {
    @TempDir
    Path dir;
    AzureRig rig;

    @BeforeEach
    void setUp() throws Exception {
        rig = new AzureRig(dir);
    }

    @AfterEach
    void tearDown() {
        rig.close();
    }

    static final String BASE = """
        - type: network
          name: net
          cidr: 10.20.0.0/16
          subnets:
            - {name: aks, cidr: 10.20.0.0/22}
            - {name: other, cidr: 10.20.4.0/22}
        - type: identity
          name: ops
        - type: identity
          name: ops2
        """;

    static final String K = """
        - type: kubernetes_cluster
          name: k
          version: "1.29"
          subnet: net/aks
          identity: ops
          nodePools:
            - {name: gpu, machineType: Standard_NC6s_v3, min: 1, max: 10}
            - {name: gpu-spot, machineType: Standard_NC6s_v3, min: 0, max: 4, spot: true}
        """;

    Environment env(String cluster) {
        return rig.env("dev", "team: nlp", BASE + cluster);
    }

    String clusterId() {
        return rig.id("dev", "Microsoft.ContainerService/managedClusters/k");
    }

    Map<String, Object> cluster() {
        return rig.arm.get(clusterId()).orElseThrow();
    }

    Map<String, Object> pool(String name) {
        return rig.arm.get(clusterId() + "/agentPools/" + name).orElseThrow();
    }

    static Object at(Map<String, Object> m, String path) {
        return AzureInstanceTest.at(m, path);
    }

    AgentPoolsClient pools() {
        return rig.azure.clients(env(K)).containers().serviceClient().getAgentPools();
    }

    static List<String> changes(Plan p) {
        return AzureInstanceTest.changes(p);
    }

    @Test
    void applyMakesTheClusterWithASystemPoolSpotPoolsAndTheSubnetThenPlansClean() {
        Environment e = env(K);
        rig.apply(e);
        Map<String, Object> c = cluster();
        assertThat(at(c, "properties.kubernetesVersion")).isEqualTo("1.29");
        assertThat(at(c, "properties.dnsPrefix")).isEqualTo("dev-k");
        assertThat(at(c, "properties.networkProfile.networkPlugin")).isEqualTo("azure");
        assertThat(at(c, "properties.networkProfile.networkPluginMode")).isEqualTo("overlay");
        assertThat(at(c, "identity.type")).isEqualTo("UserAssigned");
        assertThat((Map<String, Object>) at(c, "identity.userAssignedIdentities")).containsOnlyKeys(rig.id("dev",
            "Microsoft.ManagedIdentity/userAssignedIdentities/ops"));
        assertThat((Map<String, String>) c.get("tags")).containsEntry("mlctl-address", "kubernetes_cluster.k").containsEntry("team", "nlp");
        String spot = ClusterKind.poolName("gpu-spot");
        assertThat(spot).matches("[a-z][a-z0-9]{0,11}").startsWith("gpuspot");
        assertThat(rig.arm.list("Microsoft.ContainerService/managedClusters/agentPools")).extracting(p -> p.get("name"))
            .containsExactlyInAnyOrder("system", "gpu", spot);
        assertThat(at(pool("system"), "properties.mode")).isEqualTo("System");
        assertThat(at(pool("gpu"), "properties.mode")).isEqualTo("User");
        assertThat(at(pool("gpu"), "properties.vmSize")).isEqualTo("Standard_NC6s_v3");
        assertThat(at(pool("gpu"), "properties.minCount")).isEqualTo(1);
        assertThat(at(pool("gpu"), "properties.maxCount")).isEqualTo(10);
        assertThat(at(pool(spot), "properties.scaleSetPriority")).isEqualTo("Spot");
        assertThat(at(pool(spot), "properties.scaleSetEvictionPolicy")).isEqualTo("Delete");
        assertThat(at(pool(spot), "properties.spotMaxPrice")).isEqualTo(-1.0);
        // AKS's taint on the Spot pool is there, and is no drift.
        assertThat((List<String>) at(pool(spot), "properties.nodeTaints")).contains("kubernetes.azure.com/scalesetpriority=spot:NoSchedule");
        for (String p : List.of("system", "gpu", spot)) {
            assertThat(at(pool(p), "properties.vnetSubnetID")).isEqualTo(rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/aks"));
        }
        rig.arm.faults().resetCounts();
        assertThat(rig.plan(e).changes()).isEmpty();
        assertThat(rig.graphQueries("managedclusters")).as("one Graph query for the clusters, pools inline").isEqualTo(1);
        assertThat(rig.nonGraphRequests()).isZero();
    }

    @Test
    void anOutOfBandResizeShowsAsDriftAndIsCorrected() {
        Environment e = env(K);
        rig.apply(e);
        AgentPoolInner gpu = pools().get("dev", "k", "gpu");
        pools().createOrUpdate("dev", "k", "gpu", gpu.withMinCount(2).withMaxCount(3).withCount(3));
        Plan p = rig.plan(e);
        assertThat(AzureRig.paths(p)).containsExactlyInAnyOrder("kubernetes_cluster.k:nodePools[gpu].min", "kubernetes_cluster.k:nodePools[gpu].max");
        assertThat(changes(p)).containsExactly("UPDATE kubernetes_cluster.k");
        rig.apply(e);
        assertThat(at(pool("gpu"), "properties.minCount")).isEqualTo(1);
        assertThat(at(pool("gpu"), "properties.maxCount")).isEqualTo(10);
        assertThat(rig.plan(e).changes()).isEmpty();
        // Autoscaling turned off with a fixed count: that count is both bounds, and the autoscaler comes back.
        AgentPoolInner fixed = pools().get("dev", "k", "gpu");
        pools().createOrUpdate("dev", "k", "gpu", fixed.withEnableAutoScaling(false).withMinCount(null).withMaxCount(null).withCount(5));
        assertThat(AzureRig.paths(rig.plan(e))).containsExactlyInAnyOrder("kubernetes_cluster.k:nodePools[gpu].min",
            "kubernetes_cluster.k:nodePools[gpu].max");
        rig.apply(e);
        assertThat(at(pool("gpu"), "properties.enableAutoScaling")).isEqualTo(true);
        assertThat(at(pool("gpu"), "properties.count")).isEqualTo(5);
        assertThat(rig.plan(e).changes()).isEmpty();
        // The node count alone is the autoscaler's: no drift.
        AgentPoolInner scaled = pools().get("dev", "k", "gpu");
        pools().createOrUpdate("dev", "k", "gpu", scaled.withCount(7));
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void aPoolsSizeOrSpotChangeReplacesThatPoolNotTheCluster() {
        rig.apply(env(K));
        String vmId = String.valueOf(cluster().get("id"));
        Environment e = env(K.replace("{name: gpu, machineType: Standard_NC6s_v3", "{name: gpu, machineType: Standard_NC12s_v3"));
        Plan p = rig.plan(e);
        assertThat(changes(p)).containsExactlyInAnyOrder("UPDATE kubernetes_cluster.k", "REPLACE kubernetes_cluster.k.node_pool.gpu");
        rig.apply(e);
        assertThat(cluster().get("id")).isEqualTo(vmId);
        assertThat(at(pool("gpu"), "properties.vmSize")).isEqualTo("Standard_NC12s_v3");
        assertThat(rig.plan(e).changes()).isEmpty();
        Environment spot = env(K.replace("{name: gpu, machineType: Standard_NC6s_v3, min: 1, max: 10}",
            "{name: gpu, machineType: Standard_NC12s_v3, min: 1, max: 10, spot: true}"));
        assertThat(changes(rig.plan(spot))).containsExactlyInAnyOrder("UPDATE kubernetes_cluster.k", "REPLACE kubernetes_cluster.k.node_pool.gpu");
        rig.apply(spot);
        assertThat(at(pool("gpu"), "properties.scaleSetPriority")).isEqualTo("Spot");
        assertThat(rig.plan(spot).changes()).isEmpty();
    }

    @Test
    void poolsAddedRemovedAndRescaledInPlace() {
        rig.apply(env(K));
        Environment e = env(K.replace("min: 1, max: 10", "min: 2, max: 6").replace("- {name: gpu-spot, machineType: Standard_NC6s_v3, min: 0, max: 4, spot: true}",
            "- {name: cpu, machineType: Standard_D4s_v3, min: 0, max: 2}"));
        Plan p = rig.plan(e);
        assertThat(changes(p)).containsExactlyInAnyOrder("UPDATE kubernetes_cluster.k", "DELETE kubernetes_cluster.k.node_pool.gpu-spot");
        rig.apply(e);
        assertThat(rig.arm.list("Microsoft.ContainerService/managedClusters/agentPools")).extracting(x -> x.get("name"))
            .containsExactlyInAnyOrder("system", "gpu", "cpu");
        assertThat(at(pool("gpu"), "properties.maxCount")).isEqualTo(6);
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void versionAndIdentityChangeInPlaceAndADowngradeIsOneLine() {
        rig.apply(env(K));
        String id = String.valueOf(cluster().get("id"));
        Environment e = env(K.replace("\"1.29\"", "\"1.31\"").replace("identity: ops", "identity: ops2"));
        assertThat(changes(rig.plan(e))).containsExactly("UPDATE kubernetes_cluster.k");
        rig.apply(e);
        assertThat(cluster().get("id")).isEqualTo(id);
        assertThat(String.valueOf(at(cluster(), "properties.currentKubernetesVersion"))).startsWith("1.31.");
        assertThat(at(pool("gpu"), "properties.orchestratorVersion")).isEqualTo("1.31");
        assertThat(rig.arm.faults().count("PUT .*/managedClusters/k$")).as("1.29 → 1.30 → 1.31, then the identity").isEqualTo(4);
        assertThat((Map<String, Object>) at(cluster(), "identity.userAssignedIdentities")).containsOnlyKeys(rig.id("dev",
            "Microsoft.ManagedIdentity/userAssignedIdentities/ops2"));
        assertThat(rig.plan(e).changes()).isEmpty();
        List<String> failures = rig.applyFailing(env(K.replace("\"1.29\"", "\"1.30\"").replace("identity: ops", "identity: ops2")));
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("cannot downgrade").doesNotContain("\n"));
    }

    @Test
    void aSubnetChangeNeedsANewCluster() {
        rig.apply(env(K));
        Environment e = env(K.replace("net/aks", "net/other"));
        assertThat(changes(rig.plan(e))).containsExactly("REPLACE kubernetes_cluster.k");
        rig.apply(e);
        assertThat(at(pool("gpu"), "properties.vnetSubnetID")).isEqualTo(rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/other"));
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void aLostCreateIsNotMadeTwice() {
        // The PUT is done and its answer lost; the SDK sends it again into a cluster still Creating (409), and the engine's next attempt adopts it.
        rig.arm.operationTime(Duration.ofMillis(300));
        rig.arm.faults().dropResponse("PUT .*/managedClusters/k$", 1);
        Environment e = env(K);
        Plan p = rig.apply(e);
        assertThat(changes(p)).contains("CREATE kubernetes_cluster.k");
        assertThat(rig.arm.faults().count("PUT .*/managedClusters/k$")).as("the lost PUT and the SDK's resend").isGreaterThanOrEqualTo(2);
        assertThat(rig.arm.list("Microsoft.ContainerService/managedClusters")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.ContainerService/managedClusters/agentPools")).hasSize(3);
        rig.arm.operationTime(Duration.ZERO);
        assertThat(rig.plan(e).changes()).isEmpty();
    }

    @Test
    void aChangeWaitsForTheOperationAksIsRunning() {
        Environment e = env(K);
        rig.apply(e);
        // Someone's change of the system pool is still running when the apply changes the gpu pool's bounds: AKS refuses once.
        rig.arm.faults().resetCounts();
        rig.arm.faults().fail("PUT .*/agentPools/gpu$", 1, ArmError.conflict("OperationNotAllowed", "Operation is not allowed: Another agentpool "
            + "operation (system - Updating) is in progress, please wait for it to finish before starting a new operation."));
        Environment changed = env(K.replace("min: 1, max: 10", "min: 1, max: 8"));
        rig.apply(changed);
        assertThat(at(pool("gpu"), "properties.maxCount")).isEqualTo(8);
        assertThat(rig.arm.faults().count("PUT .*/agentPools/gpu$")).as("refused while busy, then sent again").isEqualTo(2);
        assertThat(rig.plan(changed).changes()).isEmpty();
    }

    @Test
    void aFailedClusterShowsInThePlanAndTheNextApplyRepairsItByAPutOfItself() {
        rig.arm.faults().failOperation("PUT .*/managedClusters/k$", 1, new ArmError(200, "VMExtensionProvisioningError",
            "Unable to establish outbound connection from agents.\nSee https://aka.ms/aks-required-ports-and-addresses"));
        Environment e = env(K);
        assertThat(rig.applyFailing(e)).anySatisfy(f -> assertThat(f).contains("create AKS cluster k").contains("VMExtensionProvisioningError")
            .doesNotContain("\n"));
        assertThat(at(cluster(), "properties.provisioningState")).isEqualTo("Failed");
        Plan p = rig.plan(e);
        assertThat(changes(p)).containsExactly("UPDATE kubernetes_cluster.k");
        assertThat(AzureRig.paths(p)).containsExactly("kubernetes_cluster.k:provisioningState");
        rig.apply(e);
        assertThat(at(cluster(), "properties.provisioningState")).isEqualTo("Succeeded");
        assertThat(rig.arm.faults().count("PUT .*/managedClusters/k$")).as("the create, then its repair").isEqualTo(2);
        assertThat(rig.plan(e).changes()).isEmpty();
        // A cluster some operation left Failed no longer makes every change throw: it is repaired first, then changed.
        Map<String, Object> c = cluster();
        ((Map<String, Object>) c.get("properties")).put("provisioningState", "Failed");
        rig.arm.put(clusterId(), c);
        Environment wider = env(K.replace("min: 1, max: 10", "min: 1, max: 12"));
        rig.apply(wider);
        assertThat(at(cluster(), "properties.provisioningState")).isEqualTo("Succeeded");
        assertThat(at(pool("gpu"), "properties.maxCount")).isEqualTo(12);
        assertThat(rig.plan(wider).changes()).isEmpty();
    }

    @Test
    void anOperationThatNeverEndsTimesOutRetryablyNamingTheClusterAndItsState() {
        Environment e = env(K);
        rig.apply(e);
        ClusterKind kind = new ClusterKind(Duration.ofMillis(300));
        AzureClients cloud = rig.azure.clients(e);
        rig.arm.operationTime(Duration.ofHours(1)); // AKS never finishes
        ObservedResource k = new ObservedResource(new Address(ResourceType.KUBERNETES_CLUSTER, "k"), clusterId(), Map.of(), Map.of());
        assertThatThrownBy(() -> kind.delete(cloud, e, k)).isInstanceOf(DriverException.class).hasMessageContaining("timed out")
            .hasMessageContaining("delete AKS cluster k").hasMessageContaining("last state Deleting")
            .satisfies(x -> assertThat(((DriverException) x).retryable()).as("a deadline is not retried: six more would hold the apply for hours").isFalse());
    }

    @Test
    void rightAfterAnApplyResourceGraphsLagNeitherMakesThePlanDirtyNorKeepsADestroyFromFinishing() {
        rig.arm.graphLag(Duration.ofHours(1)); // Graph shows nothing this test makes
        Environment e = rig.env("dev", "team: nlp", BASE.substring(0, BASE.indexOf("- type: identity")) + K.replace("  identity: ops\n", ""));
        rig.apply(e);
        assertThat(rig.plan(e).changes()).isEmpty();
        Plan destroy = rig.destroy(e);
        assertThat(changes(destroy)).containsExactlyInAnyOrder("DELETE kubernetes_cluster.k", "DELETE network.net");
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void throttlingIsWaitedOutAndAFailedCreateIsOneLine() {
        rig.arm.faults().throttle("PUT .*/managedClusters/k$", 1, 1);
        rig.apply(env(K));
        assertThat(rig.arm.list("Microsoft.ContainerService/managedClusters")).hasSize(1);
        rig.destroy(env(K));
        rig.arm.faults().failOperation("PUT .*/managedClusters/k$", 1, new ArmError(200, "QuotaExceeded",
            "Provisioning of resource(s) for container service k in resource group dev failed. Message: Operation could not be completed as it "
                + "results in exceeding approved standardNCSv3Family Cores quota. Additional details - Deployment Model: Resource Manager, "
                + "Location: eastus, Current Limit: 0, Current Usage: 0, Additional Required: 6."));
        List<String> failures = rig.applyFailing(env(K));
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("create AKS cluster k").contains("quota exceeded: standardNCSv3Family cores in eastus")
            .doesNotContain("\n"));
    }

    @Test
    void someoneElsesClusterOrPoolIsRefusedAndNeverTouched() {
        Environment e = env(K);
        rig.apply(e);
        // A pool someone added: not listed, not deleted, and it keeps the cluster from being destroyed with it.
        pools().createOrUpdate("dev", "k", "theirs", new AgentPoolInner().withVmSize("Standard_D2s_v3").withCount(1).withMode(AgentPoolMode.USER)
            .withVnetSubnetId(rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/aks")));
        assertThat(rig.plan(e).changes()).isEmpty();
        List<String> failures = rig.run(e, true).result().orElseThrow().failures();
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("node pool theirs").contains("does not manage"));
        assertThat(rig.arm.get(clusterId())).isPresent();
        // Another environment's cluster of that name is refused, naming its owner.
        Environment prod = rig.env("prod", "team: nlp", BASE + K);
        rig.arm.putGroup(AzureRig.SUBSCRIPTION, "prod", "eastus", Map.of());
        String theirs = rig.id("prod", "Microsoft.ContainerService/managedClusters/k");
        rig.arm.put(theirs, Map.of("id", theirs, "name", "k", "type", "Microsoft.ContainerService/managedClusters", "location", "eastus",
            "tags", Map.of("owner", "someone"), "properties", Map.of("provisioningState", "Succeeded")));
        assertThat(rig.applyFailing(prod)).anySatisfy(f -> assertThat(f).contains("AKS cluster k").contains("not managed by mlctl"));
    }

    @Test
    void aPoolNamedLikeTheSystemPoolIsRefused() {
        List<String> failures = rig.applyFailing(env(K.replace("{name: gpu, machineType", "{name: system, machineType")));
        assertThat(failures).anySatisfy(f -> assertThat(f).contains("'system'").contains("rename the pool"));
        assertThat(rig.arm.list("Microsoft.ContainerService/managedClusters")).isEmpty();
    }

    @Test
    void pruneAndDestroyLeaveNothingOwned() {
        rig.apply(env(K + K.replace("name: k", "name: k2")));
        Plan prune = rig.apply(env(K));
        assertThat(changes(prune)).containsExactly("DELETE kubernetes_cluster.k2");
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.ContainerService/managedClusters/k2"))).isEmpty();
        rig.destroy(env(K));
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isEmpty();
    }

    @Test
    void withoutAnIdentityTheClusterUsesItsSystemAssignedOne() {
        Environment e = env(K.replace("  identity: ops\n", ""));
        rig.apply(e);
        assertThat(at(cluster(), "identity.type")).isEqualTo("SystemAssigned");
        assertThat(rig.plan(e).changes()).isEmpty();
        // Giving it one later is AKS's in-place identity update, not a new cluster.
        assertThat(changes(rig.plan(env(K)))).containsExactly("UPDATE kubernetes_cluster.k");
        rig.apply(env(K));
        assertThat(at(cluster(), "identity.type")).isEqualTo("UserAssigned");
        assertThat(rig.plan(env(K)).changes()).isEmpty();
    }
}
