package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.MlctlException;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Address;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /api/*} serves plans (cloud ids, attributes) and takes syncs: with a token it wants {@code Authorization: Bearer},
 * health, readiness and metrics stay open; off loopback the daemon does not start without one.
 */
class StatusServerAuthTest {
    static final String TOKEN = "api-T0KEN-for-tests";
    static final List<String> READS = List.of("/api/status", "/api/environments", "/api/plans", "/api/plans/main/dev.md", "/api/plans/main/dev.json");

    @TempDir
    Path dir;
    GitRepos git;
    DaemonHarness h;
    final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir.resolve("git"));
        git.write("envs/dev.yaml", DaemonHarness.autoEnv("dev")).commit("dev");
        git.push("main");
        h = new DaemonHarness(dir);
    }

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
        h.close();
        git.close();
    }

    DaemonHarness.Response send(String method, String path, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(h.uri(path)).method(method, HttpRequest.BodyPublishers.noBody());
        headers.forEach(b::header);
        return h.send(b);
    }

    @Test
    void withATokenTheApiWantsItAndHealthAndMetricsStayOpen() {
        h.start(h.config(git.url()), Optional.of(TOKEN)).tick();
        for (String path : READS) {
            DaemonHarness.Response none = h.get(path);
            assertThat(none.status()).as(path).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer "));
            assertThat(none.body()).as(path).contains("Authorization: Bearer").doesNotContain(TOKEN).doesNotContain("dev-data");
            for (String wrong : List.of("Bearer nope", "Bearer " + TOKEN + "x", "Bearer " + TOKEN.substring(1), "Bearer ",
                "Basic " + Base64.getEncoder().encodeToString(("x:" + TOKEN).getBytes(StandardCharsets.UTF_8)), TOKEN)) {
                DaemonHarness.Response r = send("GET", path, Map.of("Authorization", wrong));
                assertThat(r.status()).as(path + " with " + wrong).isEqualTo(401);
                assertThat(r.body()).doesNotContain(TOKEN);
            }
            assertThat(r(h.get(path, TOKEN))).as(path).startsWith("200 ");
            assertThat(send("GET", path, Map.of("Authorization", "bearer " + TOKEN)).status()).as("the scheme is case-insensitive").isEqualTo(200);
        }
        assertThat(send("GET", "/api/status", Map.of("Authorization", "Bearer wrong")).headers().firstValue("WWW-Authenticate"))
            .hasValueSatisfying(v -> assertThat(v).contains("error=\"invalid_token\""));
        assertThat(h.get("/api/plans/main/dev.md", TOKEN).body()).contains("dev-data");
        for (String open : List.of(StatusServer.HEALTH, StatusServer.READY, StatusServer.METRICS)) {
            assertThat(h.get(open).status()).as(open).isEqualTo(200);
        }
        assertThat(h.get("/api/nothing", TOKEN).status()).isEqualTo(404);
        assertThat(h.get("/api/nothing").status()).as("unknown API paths want the token too").isEqualTo(401);
    }

    @Test
    void aSyncRequestAppliesTheEnvironmentOnTheNextPassAndOnlyWithTheToken() {
        Reconciler r = h.start(h.config(git.url()), Optional.of(TOKEN));
        r.tick();
        driftTheBucket();
        String sync = "/api/environments/dev/sync";

        assertThat(send("POST", sync, Map.of()).status()).isEqualTo(401);
        assertThat(send("POST", sync, Map.of("Authorization", "Bearer wrong")).status()).isEqualTo(401);
        r.tick();
        assertThat(versioning()).as("no sync without the token (and no drift check due yet)").isFalse();

        DaemonHarness.Response get = send("GET", sync, Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(get.status()).isEqualTo(405);
        assertThat(get.headers().firstValue("Allow")).contains("POST");
        assertThat(send("POST", "/api/environments/nope/sync", Map.of("Authorization", "Bearer " + TOKEN)).status()).isEqualTo(404);
        assertThat(send("POST", "/api/status", Map.of("Authorization", "Bearer " + TOKEN)).status()).isEqualTo(405);
        assertThat(send("POST", sync, Map.of("Authorization", "Bearer " + TOKEN, "Origin", "https://evil.example")).status())
            .as("a web page in the operator's browser").isEqualTo(403);
        r.tick();
        assertThat(versioning()).isFalse();

        DaemonHarness.Response ok = send("POST", sync, Map.of("Authorization", "Bearer " + TOKEN));
        assertThat(ok.status()).isEqualTo(202);
        assertThat(ok.json().path("environment").asString()).isEqualTo("dev");
        r.tick();
        assertThat(versioning()).as("applied on the next pass").isTrue();
    }

    @Test
    void onLoopbackWithoutATokenTheApiIsOpen() {
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        assertThat(h.get("/api/status").status()).isEqualTo(200);
        assertThat(h.get("/api/plans/main/dev.md").status()).isEqualTo(200);
        driftTheBucket();
        assertThat(send("POST", "/api/environments/dev/sync", Map.of()).status()).isEqualTo(202);
        r.tick();
        assertThat(versioning()).isTrue();
    }

    @Test
    void offLoopbackTheServerRefusesToStartWithoutAToken() {
        Reconciler r = h.start(h.config(git.url()));
        for (String listen : List.of("0.0.0.0:0", "[::]:0")) {
            assertThatThrownBy(() -> new StatusServer(listen, Optional.empty(), r, h.metrics, h.plans, h.clock, Duration.ofSeconds(2)))
                .isInstanceOf(MlctlException.class).hasMessageContaining("--listen " + listen + " is not a loopback address")
                .hasMessageContaining("--api-token-file or --api-token-env");
        }
        for (String listen : List.of("127.0.0.1:0", "localhost:0")) {
            new StatusServer(listen, Optional.empty(), r, h.metrics, h.plans, h.clock, Duration.ofSeconds(2)).close();
        }
    }

    @Test
    void theTokenIsReadFromAFileOrAVariable() throws IOException {
        Path file = dir.resolve("token");
        Files.writeString(file, TOKEN + "\n");
        DaemonConfig.Builder base = DaemonConfig.builder(git.url(), dir);
        assertThat(StatusServer.apiToken(base.build(), Map.of())).isEmpty();
        assertThat(StatusServer.apiToken(base.apiTokenFile(Optional.of(file)).build(), Map.of())).contains(TOKEN);
        assertThat(StatusServer.apiToken(DaemonConfig.builder(git.url(), dir).apiTokenEnv(Optional.of("API_TOKEN")).build(),
            Map.of("API_TOKEN", " " + TOKEN + " "))).contains(TOKEN);
        assertThatThrownBy(() -> StatusServer.apiToken(DaemonConfig.builder(git.url(), dir).apiTokenEnv(Optional.of("API_TOKEN")).build(), Map.of()))
            .isInstanceOf(MlctlException.class).hasMessage("environment variable API_TOKEN (the API token) is not set");
        assertThatThrownBy(() -> StatusServer.apiToken(DaemonConfig.builder(git.url(), dir).apiTokenFile(Optional.of(dir.resolve("nope"))).build(),
            Map.of())).isInstanceOf(MlctlException.class).hasMessageStartingWith("cannot read the API token file " + dir.resolve("nope"));
        Files.writeString(file, "\n");
        assertThatThrownBy(() -> StatusServer.apiToken(DaemonConfig.builder(git.url(), dir).apiTokenFile(Optional.of(file)).build(), Map.of()))
            .isInstanceOf(MlctlException.class).hasMessage("the API token file " + file + " is empty");
    }

    /** The real command: refuses a non-loopback address without a token in one line, and wants the token it was given. */
    @Test
    void theDaemonCommandRefusesOffLoopbackWithoutATokenAndUsesTheOneItIsGiven() throws Exception {
        Process refused = daemon("refused", Map.of(), "--listen", "0.0.0.0:0");
        assertThat(refused.waitFor(60, TimeUnit.SECONDS)).as("exits instead of serving").isTrue();
        assertThat(refused.exitValue()).isEqualTo(1);
        String said = Files.readString(dir.resolve("refused.log")).strip();
        assertThat(said.lines()).as(said).hasSize(1);
        assertThat(said).contains("--listen 0.0.0.0:0 is not a loopback address").contains("--api-token-file or --api-token-env");

        Process served = daemon("served", Map.of("MLCTL_TEST_API_TOKEN", TOKEN), "--listen", "127.0.0.1:0", "--api-token-env", "MLCTL_TEST_API_TOKEN");
        int port = DaemonProcessTest.listenPort(dir.resolve("served.log"), served, Duration.ofSeconds(60));
        HttpClient http = HttpClient.newHttpClient();
        URI status = URI.create("http://127.0.0.1:" + port + "/api/status");
        int[] code = {0};
        DaemonHarness.await(Duration.ofSeconds(30), () -> {
            try {
                code[0] = http.send(HttpRequest.newBuilder(status).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                return true;
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        assertThat(code[0]).isEqualTo(401);
        assertThat(http.send(HttpRequest.newBuilder(status).header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString())
            .statusCode()).isEqualTo(200);
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + StatusServer.HEALTH)).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        assertThat(Files.readString(dir.resolve("served.log"))).doesNotContain(TOKEN);
    }

    private Process daemon(String name, Map<String, String> env, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), "io.mlctl.cli.Main", "daemon", "--repo", git.url(), "--sandbox", "--interval", "1s",
            "--state-dir", dir.resolve("state-" + name).toString()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("MLCTL_SANDBOX", dir.resolve("sandbox-" + name).toString());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    private static String r(DaemonHarness.Response response) {
        return response.toString();
    }

    private void driftTheBucket() {
        SandboxCloud.StoredResource b = h.sandbox.all(Provider.AWS, ResourceType.BUCKET).stream().filter(x -> x.cloudId().equals("dev-data"))
            .findFirst().orElseThrow();
        Map<String, Object> attrs = new TreeMap<>(b.attributes());
        attrs.put("versioning", false);
        h.sandbox.write(Provider.AWS, new SandboxCloud.StoredResource(b.cloudId(), b.kind(), attrs, b.tags(), b.createdAt()));
        assertThat(versioning()).isFalse();
    }

    private boolean versioning() {
        return (Boolean) new InventoryReader(h.sandbox).read(Specs.env(DaemonHarness.autoEnv("dev"))).get(Address.parse("bucket.dev-data"))
            .orElseThrow().attributes().get("versioning");
    }
}
