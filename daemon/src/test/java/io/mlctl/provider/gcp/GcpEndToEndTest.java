package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.mlctl.apply.Journal;
import io.mlctl.fake.gcp.GcpFakes;
import io.mlctl.fake.gcp.GoogleError;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The issue's definition of done, against the local GCP fakes: the GCP example applied from nothing
 * through the real client libraries, each resource read back through the fakes' Google-shaped REST
 * API with its declared attributes, a clean second plan, destroy leaving nothing; and the same apply
 * killed mid-way by SIGKILL, then resumed, making nothing twice.
 */
class GcpEndToEndTest {
    static final String PROJECT = "mlctl-e2e";
    @TempDir
    Path dir;
    GcpFakes fakes;
    HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        fakes = GcpFakes.start();
    }

    @AfterEach
    void stop() {
        fakes.close();
    }

    private Cli cli() {
        Cli cli = new Cli(dir).env("GOOGLE_CLOUD_PROJECT", PROJECT);
        fakes.environment().forEach(cli::env);
        return cli;
    }

    private String example() {
        return Fixtures.examples().resolve("gcp-vision.yaml").toString();
    }

    private JsonObject get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
        JsonObject o = JsonParser.parseString(r.body().isEmpty() ? "{}" : r.body()).getAsJsonObject();
        o.addProperty("__status", r.statusCode());
        return o;
    }

    private static List<JsonObject> items(JsonObject list, String key) {
        List<JsonObject> out = new ArrayList<>();
        if (list.has(key)) for (JsonElement e : list.getAsJsonArray(key)) out.add(e.getAsJsonObject());
        return out;
    }

    private static String label(JsonObject o, String field, String key) {
        return o.has(field) && o.getAsJsonObject(field).has(key) ? o.getAsJsonObject(field).get(key).getAsString() : null;
    }

    @Test
    void exampleIsCreatedAsDeclaredPlansCleanAndIsDestroyed() throws Exception {
        Cli.Result apply = cli().run("apply", "--auto-approve", example());
        assertThat(apply.exitCode()).as(apply.toString()).isZero();

        JsonObject net = get("/compute/v1/projects/" + PROJECT + "/global/networks/vision-gcp-vision-net");
        assertThat(net.get("__status").getAsInt()).as(net.toString()).isEqualTo(200);
        assertThat(net.has("autoCreateSubnetworks") && net.get("autoCreateSubnetworks").getAsBoolean()).isFalse();
        assertThat(net.get("description").getAsString()).startsWith("mlctl: environment=vision-gcp address=network.vision-net");
        JsonObject sub = get("/compute/v1/projects/" + PROJECT + "/regions/us-central1/subnetworks/vision-gcp-vision-net-gke");
        assertThat(sub.get("ipCidrRange").getAsString()).isEqualTo("10.10.0.0/20");
        assertThat(sub.get("privateIpGoogleAccess").getAsBoolean()).isTrue();

        JsonObject bucket = get("/storage/v1/b/vision-datasets-gcp");
        assertThat(bucket.get("__status").getAsInt()).as(bucket.toString()).isEqualTo(200);
        assertThat(label(bucket, "labels", "team")).isEqualTo("vision");
        assertThat(label(bucket, "labels", "mlctl-environment")).isEqualTo("vision-gcp");
        assertThat(bucket.getAsJsonObject("iamConfiguration").getAsJsonObject("uniformBucketLevelAccess").get("enabled").getAsBoolean()).isTrue();
        assertThat(bucket.getAsJsonObject("iamConfiguration").get("publicAccessPrevention").getAsString()).isEqualTo("enforced");
        JsonArray rules = bucket.getAsJsonObject("lifecycle").getAsJsonArray("rule");
        assertThat(rules).hasSize(1);
        assertThat(rules.get(0).getAsJsonObject().getAsJsonObject("action").get("type").getAsString()).isEqualTo("Delete");
        assertThat(rules.get(0).getAsJsonObject().getAsJsonObject("condition").get("age").getAsInt()).isEqualTo(90);

        String email = "vision-gcp-vision-trainer@" + PROJECT + ".iam.gserviceaccount.com";
        JsonObject sa = get("/v1/projects/" + PROJECT + "/serviceAccounts/" + email);
        assertThat(sa.get("__status").getAsInt()).as(sa.toString()).isEqualTo(200);
        JsonObject policy = get("/storage/v1/b/vision-datasets-gcp/iam");
        assertThat(policy.toString()).contains("serviceAccount:" + email).contains("roles/storage.objectViewer");

        JsonObject gke = get("/v1/projects/" + PROJECT + "/locations/us-central1/clusters/vision-gcp-vision-gke");
        assertThat(gke.get("__status").getAsInt()).as(gke.toString()).isEqualTo(200);
        assertThat(gke.get("subnetwork").getAsString()).endsWith("vision-gcp-vision-net-gke");
        assertThat(gke.getAsJsonObject("workloadIdentityConfig").get("workloadPool").getAsString()).isEqualTo(PROJECT + ".svc.id.goog");
        List<JsonObject> pools = items(gke, "nodePools");
        assertThat(pools).extracting(p -> p.get("name").getAsString()).containsExactlyInAnyOrder("v100", "t4");
        JsonObject v100 = pools.stream().filter(p -> p.get("name").getAsString().equals("v100")).findFirst().orElseThrow();
        assertThat(v100.getAsJsonObject("config").get("machineType").getAsString()).isEqualTo("n1-standard-8");
        assertThat(v100.getAsJsonObject("config").get("spot").getAsBoolean()).isTrue();
        assertThat(v100.getAsJsonObject("config").get("serviceAccount").getAsString()).isEqualTo(email);
        assertThat(v100.getAsJsonObject("config").getAsJsonArray("accelerators").get(0).getAsJsonObject().get("acceleratorType").getAsString())
            .isEqualTo("nvidia-tesla-v100");

        List<JsonObject> endpoints = items(get("/v1/projects/" + PROJECT + "/locations/us-central1/endpoints"), "endpoints");
        assertThat(endpoints).hasSize(1);
        JsonObject ep = endpoints.get(0);
        assertThat(label(ep, "labels", "mlctl-name")).isEqualTo("vision-classifier");
        JsonObject deployed = ep.getAsJsonArray("deployedModels").get(0).getAsJsonObject();
        JsonObject dedicated = deployed.getAsJsonObject("dedicatedResources");
        assertThat(dedicated.get("minReplicaCount").getAsInt()).isEqualTo(1);
        assertThat(dedicated.get("maxReplicaCount").getAsInt()).isEqualTo(10);
        assertThat(dedicated.getAsJsonObject("machineSpec").get("machineType").getAsString()).isEqualTo("n1-standard-4");
        assertThat(deployed.get("serviceAccount").getAsString()).isEqualTo(email);
        List<JsonObject> models = items(get("/v1/projects/" + PROJECT + "/locations/us-central1/models"), "models");
        assertThat(models).hasSize(1);
        assertThat(models.get(0).get("artifactUri").getAsString()).isEqualTo("gs://vision-datasets-gcp/models/classifier/");

        Cli.Result plan = cli().run("plan", "--detailed-exitcode", example());
        assertThat(plan.exitCode()).as(plan.toString()).isZero();

        Cli.Result destroy = cli().run("destroy", "--auto-approve", example());
        assertThat(destroy.exitCode()).as(destroy.toString()).isZero();
        assertThat(get("/compute/v1/projects/" + PROJECT + "/global/networks/vision-gcp-vision-net").get("__status").getAsInt()).isEqualTo(404);
        assertThat(get("/storage/v1/b/vision-datasets-gcp").get("__status").getAsInt()).isEqualTo(404);
        assertThat(get("/v1/projects/" + PROJECT + "/serviceAccounts/" + email).get("__status").getAsInt()).isEqualTo(404);
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/-/clusters"), "clusters")).isEmpty();
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/us-central1/endpoints"), "endpoints")).isEmpty();
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/us-central1/models"), "models")).isEmpty();
        assertThat(cli().run("plan", "--detailed-exitcode", example()).exitCode()).isEqualTo(2); // all to create again
    }

    @Test
    void aResourceRemovedFromTheSpecIsPrunedAndNothingElseChanges() throws Exception {
        assertThat(cli().run("apply", "--auto-approve", example()).exitCode()).isZero();
        String full = Fixtures.read(Path.of(example()));
        String without = full.substring(0, full.indexOf("    - type: inference_endpoint"));
        Path pruned = Fixtures.write(dir, "pruned.yaml", without);

        Cli.Result plan = cli().run("plan", "--detailed-exitcode", pruned.toString());
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        assertThat(plan.out()).contains("inference_endpoint.vision-classifier").contains("0 to add, 0 to change, 1 to destroy");
        Cli.Result apply = cli().run("apply", "--auto-approve", pruned.toString());
        assertThat(apply.exitCode()).as(apply.toString()).isZero();
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/us-central1/endpoints"), "endpoints")).isEmpty();
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/us-central1/models"), "models")).isEmpty();
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/-/clusters"), "clusters")).hasSize(1);
        assertThat(cli().run("plan", "--detailed-exitcode", pruned.toString()).exitCode()).isZero();
    }

    @Test
    void permissionDeniedIsOneLineNamingPermissionAndResource() {
        fakes.faults().fail("POST /compute/v1/projects/[^/]+/global/networks$", 100,
            GoogleError.permissionDenied("compute.networks.create", "projects/" + PROJECT + "/global/networks/vision-gcp-vision-net"));
        Cli.Result r = cli().run("apply", "--auto-approve", example());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("permission denied: the credentials lack compute.networks.create on projects/" + PROJECT
            + "/global/networks/vision-gcp-vision-net\n");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void applyKilledMidwayResumesWithoutDuplicates() throws Exception {
        fakes.operationTime(Duration.ofMillis(1500)); // operations stay pending a while: the kill lands mid-apply
        Path state = dir.resolve("state");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main", "apply", "--auto-approve", example());
        // Nothing of the developer's Google setup reaches the child: only the fakes.
        pb.environment().keySet().removeIf(k -> k.startsWith("CLOUDSDK_") || k.startsWith("GOOGLE_") || k.startsWith("STORAGE_"));
        fakes.environment().forEach(pb.environment()::put);
        pb.environment().put("GOOGLE_CLOUD_PROJECT", PROJECT);
        pb.environment().put("MLCTL_STATE_DIR", state.toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile());
        Process p = pb.start();
        Path journal = state.resolve("vision-gcp").resolve(Journal.FILE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && !(Files.exists(journal) && Fixtures.read(journal).contains("\"address\":\"kubernetes_cluster.vision-gke\""))) {
            Thread.sleep(10);
        }
        assertThat(p.isAlive()).as(Fixtures.read(dir.resolve("first.log"))).isTrue();
        p.destroyForcibly();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Fixtures.read(journal)).doesNotContain("\"event\":\"end\"");

        fakes.operationTime(Duration.ZERO);
        Cli.Result resumed = cli().run("apply", "--auto-approve", example());
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("Resuming an interrupted apply");
        assertThat(items(get("/compute/v1/projects/" + PROJECT + "/global/networks"), "items")).hasSize(1);
        assertThat(items(get("/storage/v1/b?project=" + PROJECT), "items")).hasSize(1);
        assertThat(items(get("/v1/projects/" + PROJECT + "/serviceAccounts"), "accounts")).hasSize(1);
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/-/clusters"), "clusters")).hasSize(1);
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/us-central1/endpoints"), "endpoints")).hasSize(1);
        assertThat(items(get("/v1/projects/" + PROJECT + "/locations/us-central1/models"), "models")).hasSize(1);
        Cli.Result plan = cli().run("plan", "--detailed-exitcode", example());
        assertThat(plan.exitCode()).as(plan + "\nresumed: " + resumed).isZero();
    }
}
