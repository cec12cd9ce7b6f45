package io.mlctl.fake.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.longrunning.OperationFuture;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.compute.v1.AcceleratorConfig;
import com.google.cloud.compute.v1.AggregatedListInstancesRequest;
import com.google.cloud.compute.v1.Allowed;
import com.google.cloud.compute.v1.AttachedDisk;
import com.google.cloud.compute.v1.AttachedDiskInitializeParams;
import com.google.cloud.compute.v1.Firewall;
import com.google.cloud.compute.v1.InsertInstanceRequest;
import com.google.cloud.compute.v1.InsertNetworkRequest;
import com.google.cloud.compute.v1.Instance;
import com.google.cloud.compute.v1.InstanceAggregatedList;
import com.google.cloud.compute.v1.InstancesSetLabelsRequest;
import com.google.cloud.compute.v1.InstancesSetMachineTypeRequest;
import com.google.cloud.compute.v1.ListNetworksRequest;
import com.google.cloud.compute.v1.Network;
import com.google.cloud.compute.v1.NetworkInterface;
import com.google.cloud.compute.v1.Operation;
import com.google.cloud.compute.v1.Scheduling;
import com.google.cloud.compute.v1.SetLabelsInstanceRequest;
import com.google.cloud.compute.v1.SetMachineTypeInstanceRequest;
import com.google.cloud.compute.v1.Subnetwork;
import com.google.cloud.compute.v1.SubnetworksExpandIpCidrRangeRequest;
import com.google.cloud.compute.v1.UpdateFirewallRequest;
import io.mlctl.provider.gcp.GcpClients;
import io.mlctl.provider.gcp.GcpSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Compute Engine fake refuses what Compute Engine refuses. Each test sends one request the real
 * API would reject (through the real client library where it can express it, raw JSON where it
 * cannot) and shows the refusal, so a driver that sends it fails here as it would on Google.
 */
class ComputeFakeTest {
    static final String PROJECT = "fake-test-project";
    static final String REGION = "us-central1";
    static final String ZONE = "us-central1-a";
    static GcpFakes fakes;
    static GcpClients c;
    static HttpClient http = HttpClient.newHttpClient();
    static int seq;

    @BeforeAll
    static void start() throws Exception {
        fakes = GcpFakes.start();
        Map<String, String> env = new HashMap<>(fakes.environment());
        c = new GcpClients(GcpSettings.fromEnvironment(env), PROJECT, REGION);
    }

    @AfterAll
    static void stop() {
        c.close();
        fakes.close();
    }

    @BeforeEach
    void fresh() {
        fakes.operationTime(Duration.ZERO);
        fakes.faults().clear();
    }

    /** A unique name per test, so tests share one fake. */
    static String unique(String prefix) {
        return prefix + "-" + (++seq);
    }

    static Operation await(OperationFuture<Operation, Operation> f) throws Exception {
        return f.get();
    }

    static ApiException apiError(ThrowingRunnable r) {
        try {
            r.run();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ApiException a) return a;
            throw new AssertionError("expected an API error, got " + e.getCause(), e.getCause());
        } catch (ApiException a) {
            return a;
        } catch (Exception e) {
            throw new AssertionError("expected an API error, got " + e, e);
        }
        throw new AssertionError("expected an API error, the request was accepted");
    }

    /** What Google answered: the error body (the client library's exception message is only the HTTP reason phrase). */
    static String body(ApiException e) {
        return e.getCause() instanceof com.google.api.client.http.HttpResponseException h ? h.getContent() : String.valueOf(e.getMessage());
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    String network() throws Exception {
        String name = unique("net");
        await(c.networks().insertAsync(PROJECT, Network.newBuilder().setName(name).setAutoCreateSubnetworks(false).build()));
        return name;
    }

    String subnet(String network, String cidr) throws Exception {
        String name = unique("sub");
        await(c.subnetworks().insertAsync(PROJECT, REGION, Subnetwork.newBuilder().setName(name).setNetwork("global/networks/" + network)
            .setIpCidrRange(cidr).build()));
        return name;
    }

    static Instance.Builder instance(String name, String subnet, String machineType) {
        return Instance.newBuilder().setName(name).setMachineType("zones/" + ZONE + "/machineTypes/" + machineType)
            .addNetworkInterfaces(NetworkInterface.newBuilder().setSubnetwork("projects/" + PROJECT + "/regions/" + REGION + "/subnetworks/" + subnet))
            .addDisks(AttachedDisk.newBuilder().setBoot(true).setAutoDelete(true).setInitializeParams(AttachedDiskInitializeParams.newBuilder()
                .setSourceImage("projects/deeplearning-platform-release/global/images/family/common-cu129-ubuntu-2204-nvidia-580").setDiskSizeGb(50)));
    }

    OperationFuture<Operation, Operation> insert(Instance.Builder i) {
        return c.instances().insertAsync(InsertInstanceRequest.newBuilder().setProject(PROJECT).setZone(ZONE).setInstanceResource(i).build());
    }

    HttpResponse<String> raw(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + path)).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    // ------------------------------------------------------------------ parsing

    @Test
    void aFieldComputeEngineDoesNotHaveIsRefused() throws Exception {
        HttpResponse<String> r = raw("POST", "/compute/v1/projects/" + PROJECT + "/global/networks",
            "{\"name\":\"" + unique("net") + "\",\"autoCreateSubnetworks\":false,\"cidrBlock\":\"10.0.0.0/16\"}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.body()).contains("INVALID_ARGUMENT").contains("cidrBlock");
    }

    // ------------------------------------------------------------------ networks

    @Test
    void aNetworkNameMustBeAComputeEngineName() {
        ApiException e = apiError(() -> await(c.networks().insertAsync(PROJECT, Network.newBuilder().setName("Net_1").setAutoCreateSubnetworks(false).build())));
        assertThat(e.getStatusCode().getCode()).isEqualTo(StatusCode.Code.INVALID_ARGUMENT);
        assertThat(body(e)).contains("Net_1");
    }

    @Test
    void aSecondNetworkOfTheSameNameIsAConflict() throws Exception {
        String name = network();
        ApiException e = apiError(() -> await(c.networks().insertAsync(PROJECT, Network.newBuilder().setName(name).setAutoCreateSubnetworks(false).build())));
        assertThat(e.getStatusCode().getTransportCode()).isEqualTo(409);
        assertThat(body(e)).contains("alreadyExists");
        assertThat(fakes.compute().networks(PROJECT).stream().filter(n -> n.getName().equals(name))).hasSize(1);
    }

    @Test
    void aNetworkMustSayItIsCustomMode() {
        ApiException e = apiError(() -> await(c.networks().insertAsync(PROJECT, Network.newBuilder().setName(unique("net")).build())));
        assertThat(body(e)).contains("autoCreateSubnetworks");
    }

    @Test
    void aNetworkInUseCannotBeDeleted() throws Exception {
        String net = network();
        String sub = subnet(net, "10.1.0.0/24");
        ApiException e = apiError(() -> await(c.networks().deleteAsync(PROJECT, net)));
        assertThat(e.getStatusCode().getTransportCode()).isEqualTo(400);
        assertThat(body(e)).contains("resourceInUseByAnotherResource");
        assertThat(body(e)).contains("is already being used by").contains(sub);
        assertThat(fakes.compute().hasNetwork(PROJECT, net)).isTrue();
        await(c.subnetworks().deleteAsync(PROJECT, REGION, sub));
        await(c.networks().deleteAsync(PROJECT, net));
        assertThat(fakes.compute().hasNetwork(PROJECT, net)).isFalse();
    }

    @Test
    void onlyTheRoutingConfigurationOfANetworkCanBePatched() throws Exception {
        String net = network();
        ApiException e = apiError(() -> await(c.networks().patchAsync(PROJECT, net, Network.newBuilder().setDescription("renamed").build())));
        assertThat(body(e)).contains("description");
    }

    // ------------------------------------------------------------------ subnetworks

    @Test
    void aSubnetworkNeedsAnExistingNetwork() {
        ApiException e = apiError(() -> await(c.subnetworks().insertAsync(PROJECT, REGION, Subnetwork.newBuilder().setName(unique("sub"))
            .setNetwork("global/networks/nowhere").setIpCidrRange("10.0.0.0/24").build())));
        assertThat(e.getStatusCode().getCode()).isEqualTo(StatusCode.Code.NOT_FOUND);
        assertThat(body(e)).contains("networks/nowhere");
    }

    @Test
    void subnetworkRangesOfANetworkMayNotOverlap() throws Exception {
        String net = network();
        subnet(net, "10.2.0.0/20");
        ApiException e = apiError(() -> subnet(net, "10.2.4.0/24"));
        assertThat(body(e)).contains("conflicts with existing subnetwork");
        // Another network may use the same range.
        String other = network();
        subnet(other, "10.2.4.0/24");
    }

    @Test
    void aSubnetworkRangeCanOnlyBeExpanded() throws Exception {
        String net = network();
        String sub = subnet(net, "10.3.0.0/24");
        ApiException e = apiError(() -> await(c.subnetworks().expandIpCidrRangeAsync(PROJECT, REGION, sub,
            SubnetworksExpandIpCidrRangeRequest.newBuilder().setIpCidrRange("10.3.8.0/23").build())));
        assertThat(body(e)).contains("can only be expanded");
        await(c.subnetworks().expandIpCidrRangeAsync(PROJECT, REGION, sub, SubnetworksExpandIpCidrRangeRequest.newBuilder().setIpCidrRange("10.3.0.0/22").build()));
        assertThat(fakes.compute().subnetwork(PROJECT, REGION, sub).orElseThrow().getIpCidrRange()).isEqualTo("10.3.0.0/22");
    }

    @Test
    void aSubnetworkPatchNeedsTheCurrentFingerprint() throws Exception {
        String net = network();
        String sub = subnet(net, "10.4.0.0/24");
        ApiException e = apiError(() -> await(c.subnetworks().patchAsync(PROJECT, REGION, sub, Subnetwork.newBuilder().setFingerprint("stale")
            .setEnableFlowLogs(true).build())));
        assertThat(e.getStatusCode().getTransportCode()).isEqualTo(412);
    }

    // ------------------------------------------------------------------ firewalls

    @Test
    void firewallPortsAreForTcpUdpAndSctpOnly() throws Exception {
        String net = network();
        ApiException e = apiError(() -> await(c.firewalls().insertAsync(PROJECT, Firewall.newBuilder().setName(unique("fw")).setNetwork("global/networks/" + net)
            .addAllowed(Allowed.newBuilder().setIPProtocol("icmp").addPorts("22")).addSourceRanges("0.0.0.0/0").build())));
        assertThat(body(e)).contains("ports");
    }

    @Test
    void aFirewallRuleCannotBeTurnedAround() throws Exception {
        String net = network();
        String fw = unique("fw");
        Firewall rule = Firewall.newBuilder().setName(fw).setNetwork("global/networks/" + net).addAllowed(Allowed.newBuilder().setIPProtocol("tcp").addPorts("22"))
            .addSourceRanges("10.0.0.0/8").build();
        await(c.firewalls().insertAsync(PROJECT, rule));
        ApiException e = apiError(() -> await(c.firewalls().updateAsync(UpdateFirewallRequest.newBuilder().setProject(PROJECT).setFirewall(fw)
            .setFirewallResource(rule.toBuilder().setDirection("EGRESS").clearSourceRanges().addDestinationRanges("10.0.0.0/8")).build())));
        assertThat(body(e)).contains("direction");
        assertThat(fakes.compute().firewall(PROJECT, fw).orElseThrow().getDirection()).isEqualTo("INGRESS");
    }

    @Test
    void aFirewallRuleNeedsAnExistingNetwork() {
        ApiException e = apiError(() -> await(c.firewalls().insertAsync(PROJECT, Firewall.newBuilder().setName(unique("fw"))
            .addAllowed(Allowed.newBuilder().setIPProtocol("tcp")).build())));
        assertThat(e.getStatusCode().getCode()).isEqualTo(StatusCode.Code.NOT_FOUND);
        assertThat(body(e)).contains("networks/default");
    }

    // ------------------------------------------------------------------ instances

    @Test
    void anInstanceNeedsAMachineTypeThatExists() throws Exception {
        String sub = subnet(network(), "10.5.0.0/24");
        ApiException e = apiError(() -> await(insert(instance(unique("vm"), sub, "n1-standard-7"))));
        assertThat(body(e)).contains("Machine type with name 'n1-standard-7' does not exist");
    }

    @Test
    void anInstanceNeedsAnExistingSubnetwork() throws Exception {
        ApiException e = apiError(() -> await(insert(instance(unique("vm"), "nowhere", "n1-standard-4"))));
        assertThat(e.getStatusCode().getCode()).isEqualTo(StatusCode.Code.NOT_FOUND);
        assertThat(body(e)).contains("subnetworks/nowhere");
    }

    @Test
    void anInstanceWithGpusMustTerminateOnHostMaintenance() throws Exception {
        String sub = subnet(network(), "10.6.0.0/24");
        Instance.Builder gpu = instance(unique("vm"), sub, "n1-standard-8").addGuestAccelerators(AcceleratorConfig.newBuilder()
            .setAcceleratorType("projects/" + PROJECT + "/zones/" + ZONE + "/acceleratorTypes/nvidia-tesla-t4").setAcceleratorCount(1));
        ApiException e = apiError(() -> await(insert(gpu)));
        assertThat(body(e)).contains("do not support live migration");
        await(insert(gpu.setScheduling(Scheduling.newBuilder().setOnHostMaintenance("TERMINATE"))));
    }

    @Test
    void gpusAttachOnlyToN1MachineTypes() throws Exception {
        String sub = subnet(network(), "10.7.0.0/24");
        ApiException e = apiError(() -> await(insert(instance(unique("vm"), sub, "e2-standard-4").setScheduling(Scheduling.newBuilder().setOnHostMaintenance("TERMINATE"))
            .addGuestAccelerators(AcceleratorConfig.newBuilder().setAcceleratorType("zones/" + ZONE + "/acceleratorTypes/nvidia-tesla-t4").setAcceleratorCount(1)))));
        assertThat(body(e)).contains("N1 machine types");
    }

    @Test
    void aSpotInstanceCannotRestartAutomatically() throws Exception {
        String sub = subnet(network(), "10.8.0.0/24");
        ApiException e = apiError(() -> await(insert(instance(unique("vm"), sub, "n1-standard-4")
            .setScheduling(Scheduling.newBuilder().setProvisioningModel("SPOT").setAutomaticRestart(true)))));
        assertThat(body(e)).contains("automaticRestart");
    }

    @Test
    void scopesMustBeFullUrls() throws Exception {
        String sub = subnet(network(), "10.9.0.0/24");
        fakes.iam().createServiceAccount(PROJECT, "runner", "runner", ""); // the account exists: only the scope is wrong
        ApiException e = apiError(() -> await(insert(instance(unique("vm"), sub, "n1-standard-4").addServiceAccounts(
            com.google.cloud.compute.v1.ServiceAccount.newBuilder().setEmail("runner@" + PROJECT + ".iam.gserviceaccount.com").addScopes("cloud-platform")))));
        assertThat(body(e)).contains("Scopes must be full URLs");
    }

    @Test
    void labelsMustBeLowercase() throws Exception {
        String sub = subnet(network(), "10.10.0.0/24");
        ApiException e = apiError(() -> await(insert(instance(unique("vm"), sub, "n1-standard-4").putLabels("Team", "ml"))));
        assertThat(body(e)).contains("Label keys");
    }

    @Test
    void setLabelsNeedsTheCurrentFingerprint() throws Exception {
        String sub = subnet(network(), "10.11.0.0/24");
        String vm = unique("vm");
        await(insert(instance(vm, sub, "n1-standard-4").putLabels("team", "ml")));
        Instance i = c.instances().get(PROJECT, ZONE, vm);
        SetLabelsInstanceRequest.Builder set = SetLabelsInstanceRequest.newBuilder().setProject(PROJECT).setZone(ZONE).setInstance(vm);
        await(c.instances().setLabelsAsync(set.setInstancesSetLabelsRequestResource(InstancesSetLabelsRequest.newBuilder()
            .putLabels("team", "vision").setLabelFingerprint(i.getLabelFingerprint())).build()));
        // The same fingerprint again is stale now: someone changed the labels since it was read.
        ApiException e = apiError(() -> await(c.instances().setLabelsAsync(set.setInstancesSetLabelsRequestResource(InstancesSetLabelsRequest.newBuilder()
            .putLabels("team", "other").setLabelFingerprint(i.getLabelFingerprint())).build())));
        assertThat(e.getStatusCode().getTransportCode()).isEqualTo(412);
        assertThat(c.instances().get(PROJECT, ZONE, vm).getLabelsMap()).containsEntry("team", "vision");
    }

    @Test
    void theMachineTypeChangesOnlyWhileStopped() throws Exception {
        String sub = subnet(network(), "10.12.0.0/24");
        String vm = unique("vm");
        await(insert(instance(vm, sub, "n1-standard-4")));
        SetMachineTypeInstanceRequest set = SetMachineTypeInstanceRequest.newBuilder().setProject(PROJECT).setZone(ZONE).setInstance(vm)
            .setInstancesSetMachineTypeRequestResource(InstancesSetMachineTypeRequest.newBuilder().setMachineType("zones/" + ZONE + "/machineTypes/n1-standard-8")).build();
        ApiException e = apiError(() -> await(c.instances().setMachineTypeAsync(set)));
        assertThat(body(e)).contains("must be stopped");
        await(c.instances().stopAsync(PROJECT, ZONE, vm));
        assertThat(c.instances().get(PROJECT, ZONE, vm).getStatus()).isEqualTo("TERMINATED");
        await(c.instances().setMachineTypeAsync(set));
        await(c.instances().startAsync(PROJECT, ZONE, vm));
        Instance i = c.instances().get(PROJECT, ZONE, vm);
        assertThat(i.getMachineType()).endsWith("/machineTypes/n1-standard-8");
        assertThat(i.getStatus()).isEqualTo("RUNNING");
    }

    @Test
    void aSubnetworkWithInstancesCannotBeDeleted() throws Exception {
        String sub = subnet(network(), "10.13.0.0/24");
        String vm = unique("vm");
        await(insert(instance(vm, sub, "n1-standard-4")));
        ApiException e = apiError(() -> await(c.subnetworks().deleteAsync(PROJECT, REGION, sub)));
        assertThat(body(e)).contains("is already being used by").contains(vm);
    }

    // ------------------------------------------------------------------ operations, request ids, quotas

    @Test
    void anOperationIsPendingUntilItsTimeHasCome() throws Exception {
        String sub = subnet(network(), "10.14.0.0/24");
        fakes.operationTime(Duration.ofHours(1));
        String vm = unique("vm");
        Operation started = (Operation) insert(instance(vm, sub, "n1-standard-4")).getInitialFuture().get().getResponse();
        assertThat(started.getStatus()).isEqualTo(Operation.Status.RUNNING);
        HttpResponse<String> poll = raw("GET", "/compute/v1/projects/" + PROJECT + "/zones/" + ZONE + "/operations/" + started.getName(), null);
        assertThat(poll.body()).contains("\"status\":\"RUNNING\"");
        assertThat(c.instances().get(PROJECT, ZONE, vm).getStatus()).isEqualTo("PROVISIONING");
        fakes.operationTime(Duration.ZERO);
        String other = unique("vm");
        Operation done = await(insert(instance(other, sub, "n1-standard-4")));
        assertThat(done.getStatus()).isEqualTo(Operation.Status.DONE);
        assertThat(c.instances().get(PROJECT, ZONE, other).getStatus()).isEqualTo("RUNNING");
    }

    @Test
    void aRepeatedRequestIdIsTheSameRequest() throws Exception {
        String id = UUID.randomUUID().toString();
        String name = unique("net");
        InsertNetworkRequest req = InsertNetworkRequest.newBuilder().setProject(PROJECT).setRequestId(id)
            .setNetworkResource(Network.newBuilder().setName(name).setAutoCreateSubnetworks(false)).build();
        Operation first = await(c.networks().insertAsync(req));
        Operation second = await(c.networks().insertAsync(req));
        assertThat(second.getName()).isEqualTo(first.getName());
        assertThat(fakes.compute().networks(PROJECT).stream().filter(n -> n.getName().equals(name))).hasSize(1);
        ApiException e = apiError(() -> await(c.networks().insertAsync(req.toBuilder().setRequestId("not-a-uuid").build())));
        assertThat(body(e)).contains("requestId");
    }

    @Test
    void aGpuQuotaErrorIsReportedInsideTheOperation() throws Exception {
        String sub = subnet(network(), "10.15.0.0/24");
        fakes.compute().gpuQuota("us-central1", "NVIDIA_V100_GPUS", 0);
        String vm = unique("vm");
        OperationFuture<Operation, Operation> f = insert(instance(vm, sub, "n1-standard-8").setScheduling(Scheduling.newBuilder().setOnHostMaintenance("TERMINATE"))
            .addGuestAccelerators(AcceleratorConfig.newBuilder().setAcceleratorType("zones/" + ZONE + "/acceleratorTypes/nvidia-tesla-v100").setAcceleratorCount(1)));
        assertThat(((Operation) f.getInitialFuture().get().getResponse()).getStatus()).isEqualTo(Operation.Status.RUNNING);
        assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class);
        Operation op = (Operation) f.getPollingFuture().get().getResponse();
        assertThat(op.getStatus()).isEqualTo(Operation.Status.DONE);
        assertThat(op.getHttpErrorStatusCode()).isEqualTo(403);
        assertThat(op.getError().getErrors(0).getCode()).isEqualTo("QUOTA_EXCEEDED");
        assertThat(op.getError().getErrors(0).getMessage()).contains("Quota 'NVIDIA_V100_GPUS' exceeded").contains("in region us-central1");
        assertThat(fakes.compute().instance(PROJECT, ZONE, vm)).isEmpty();
    }

    // ------------------------------------------------------------------ lists

    @Test
    void listsFilterOnLabelsAndDescriptionsAndRefuseUnknownFields() throws Exception {
        String sub = subnet(network(), "10.16.0.0/24");
        String a = unique("vm");
        String b = unique("vm");
        await(insert(instance(a, sub, "n1-standard-4").putLabels("mlctl-environment", "lists")));
        await(insert(instance(b, sub, "n1-standard-4").putLabels("mlctl-environment", "other")));
        InstanceAggregatedList page = c.instances().aggregatedListCallable().call(AggregatedListInstancesRequest.newBuilder().setProject(PROJECT)
            .setFilter("labels.mlctl-environment=lists").build());
        assertThat(page.getItemsMap().values().stream().flatMap(s -> s.getInstancesList().stream()).map(Instance::getName)).containsExactly(a);

        String described = unique("net");
        await(c.networks().insertAsync(PROJECT, Network.newBuilder().setName(described).setAutoCreateSubnetworks(false)
            .setDescription("mlctl: environment=lists address=network.x (managed by mlctl; do not edit)").build()));
        List<String> names = c.networks().listCallable().call(ListNetworksRequest.newBuilder().setProject(PROJECT)
            .setFilter("description eq \"mlctl: environment=lists address=network[.].*\"").build()).getItemsList().stream().map(Network::getName).toList();
        assertThat(names).containsExactly(described);

        ApiException unknown = apiError(() -> c.networks().listCallable().call(ListNetworksRequest.newBuilder().setProject(PROJECT)
            .setFilter("lables.team=ml").build()));
        assertThat(body(unknown)).contains("no field 'lables'");
        ApiException mixed = apiError(() -> c.networks().listCallable().call(ListNetworksRequest.newBuilder().setProject(PROJECT)
            .setFilter("(name eq x.*) (description = y)").build()));
        assertThat(body(mixed)).contains("cannot be mixed");
    }

    @Test
    void listsArePagedByMaxResults() throws Exception {
        String sub = subnet(network(), "10.17.0.0/24");
        for (int k = 0; k < 3; k++) await(insert(instance(unique("paged"), sub, "n1-standard-4").putLabels("page", "yes")));
        AggregatedListInstancesRequest.Builder req = AggregatedListInstancesRequest.newBuilder().setProject(PROJECT).setFilter("labels.page=yes").setMaxResults(2);
        InstanceAggregatedList first = c.instances().aggregatedListCallable().call(req.build());
        assertThat(first.getNextPageToken()).isNotEmpty();
        InstanceAggregatedList second = c.instances().aggregatedListCallable().call(req.setPageToken(first.getNextPageToken()).build());
        assertThat(second.getNextPageToken()).isEmpty();
        long total = first.getItemsMap().values().stream().mapToLong(s -> s.getInstancesCount()).sum()
            + second.getItemsMap().values().stream().mapToLong(s -> s.getInstancesCount()).sum();
        assertThat(total).isEqualTo(3);
    }
}
