package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.Journal;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code mlctl daemon} as a real process: the loop, its HTTP port, SIGTERM, SIGKILL and a second daemon. */
class DaemonProcessTest {
    @TempDir
    Path dir;
    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    Process daemon(GitRepos git, int port, String name, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main", "daemon", "--repo", git.url(), "--sandbox",
            "--interval", "1s", "--listen", "127.0.0.1:" + port, "--state-dir", dir.resolve("state").toString()));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("MLCTL_SANDBOX", dir.resolve("sandbox").toString());
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile()));
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    String get(int port, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (IOException e) {
            return "down";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long start = System.nanoTime();
        while (System.nanoTime() - start < timeout.toNanos()) {
            if (condition.getAsBoolean()) return;
            Thread.sleep(50);
        }
        throw new AssertionError("condition not met within " + timeout);
    }

    JsonNode environments(int port) {
        String r = get(port, "/api/environments");
        return r.startsWith("200 ") ? JsonMapper.builder().build().readTree(r.substring(4)) : JsonMapper.builder().build().createArrayNode();
    }

    String status(int port, String env) {
        for (JsonNode e : environments(port)) if (e.get("name").asString().equals(env)) return e.get("status").asString() + "@" + e.get("commit").asString();
        return "";
    }

    Map<String, Integer> perAddress() {
        Map<String, Integer> m = new HashMap<>();
        SandboxCloud cloud = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, Clock.systemUTC());
        for (ResourceType t : ResourceType.values()) {
            for (SandboxCloud.StoredResource r : cloud.all(Provider.AWS, t)) m.merge(r.tags().get(Ownership.ADDRESS_TAG), 1, Integer::sum);
        }
        return m;
    }

    @Test
    void picksUpCommitsServesStatusMetricsAndPlansAndStopsOnSigterm() throws Exception {
        GitRepos git = new GitRepos(dir);
        String spec = Fixtures.smallEnv("dev").replace("  provider: aws\n", "  provider: aws\n  apply: auto\n");
        var c1 = git.write("dev.yaml", spec).commit("dev");
        git.push("main");
        int port = freePort();
        Process p = daemon(git, port, "daemon");
        await(Duration.ofSeconds(30), () -> get(port, "/readyz").startsWith("200"));
        await(Duration.ofSeconds(10), () -> status(port, "dev").equals("synced@" + c1.name()));
        assertThat(get(port, "/healthz")).startsWith("200 ok");

        var c2 = git.write("dev.yaml", spec.replace("versioning: true", "versioning: false")).commit("versioning off");
        git.push("main");
        // The latency goal (interval + 3 s) is measured by bin/bench-daemon, not asserted here.
        await(Duration.ofSeconds(30), () -> status(port, "dev").equals("synced@" + c2.name()));
        JsonNode env = environments(port).get(0);
        assertThat(env.at("/lastPlan/summary/update").asInt()).isEqualTo(1);
        assertThat(env.at("/lastApply/outcome").asString()).isEqualTo("succeeded");
        assertThat(env.get("error").isNull()).isTrue();
        assertThat(get(port, "/metrics")).contains("mlctl_reconcile_total{environment=\"dev\",outcome=\"succeeded\"} 2.0")
            .contains("mlctl_last_successful_sync_timestamp_seconds{environment=\"dev\"}").contains("mlctl_cloud_requests_total");

        git.checkout("feature/x", true);
        git.write("dev.yaml", spec.replace("versioning: true", "versioning: false").replace("g4dn.xlarge", "g5.xlarge")).commit("bigger gpu");
        git.push("feature/x");
        await(Duration.ofSeconds(10), () -> get(port, "/api/plans").contains("\"branch\" : \"feature/x\""));
        assertThat(get(port, "/api/plans/feature/x/dev.md")).startsWith("200 ").contains("**Plan: 0 to add, 1 to change, 0 to destroy.**")
            .contains("| update | `instance.gpu-1` |");
        assertThat(get(port, "/api/plans/feature/x/dev.json")).contains("\"formatVersion\" : \"1.1\"");
        assertThat(get(port, "/api/plans/feature/nope/dev.md")).startsWith("404");

        p.destroy(); // SIGTERM
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isIn(0, 143);
        assertThat(Fixtures.read(dir.resolve("daemon.log"))).contains("level=info msg=stopping");
    }

    @Test
    void killedDuringAnApplyAndRestartedItConvergesWithoutDuplicates() throws Exception {
        GitRepos git = new GitRepos(dir);
        StringBuilder spec = new StringBuilder(Fixtures.smallEnv("dev").replace("  provider: aws\n", "  provider: aws\n  apply: auto\n"));
        for (int i = 0; i < 6; i++) spec.append("    - type: bucket\n      name: shard-").append(i).append('\n');
        git.write("dev.yaml", spec.toString()).commit("dev");
        git.push("main");
        Files.createDirectories(dir.resolve("sandbox"));
        Files.writeString(dir.resolve("sandbox/config.json"), "{\"latencyMillis\": 200, \"settleMillis\": 200}");
        int port = freePort();
        Process first = daemon(git, port, "first");
        Path journal = dir.resolve("state/dev").resolve(Journal.FILE);
        await(Duration.ofSeconds(60), () -> Files.exists(journal) && Fixtures.read(journal).contains("\"event\":\"done\""));
        first.destroyForcibly();
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Fixtures.read(journal)).doesNotContain("\"event\":\"end\"");
        Files.delete(dir.resolve("sandbox/config.json"));

        int port2 = freePort();
        daemon(git, port2, "second");
        await(Duration.ofSeconds(60), () -> status(port2, "dev").startsWith("synced@"));
        assertThat(Fixtures.read(dir.resolve("second.log"))).contains("resuming an interrupted apply");
        assertThat(perAddress()).hasSize(10).allSatisfy((a, n) -> assertThat(n).as(a).isEqualTo(1));
    }

    @Test
    void twoDaemonsOnOneRepositoryNeverApplyTheSameEnvironmentAtOnce() throws Exception {
        GitRepos git = new GitRepos(dir);
        git.write("dev.yaml", Fixtures.smallEnv("dev").replace("  provider: aws\n", "  provider: aws\n  apply: auto\n")).commit("dev");
        git.push("main");
        Files.createDirectories(dir.resolve("sandbox"));
        Files.writeString(dir.resolve("sandbox/config.json"), "{\"latencyMillis\": 400}");
        int a = freePort();
        int b = freePort();
        daemon(git, a, "a");
        daemon(git, b, "b");
        try {
            await(Duration.ofSeconds(60), () -> status(a, "dev").startsWith("synced@") && status(b, "dev").startsWith("synced@"));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nA: " + get(a, "/api/environments") + "\nB: " + get(b, "/api/environments")
                + "\nlogs A:\n" + Fixtures.read(dir.resolve("a.log")) + "\nlogs B:\n" + Fixtures.read(dir.resolve("b.log")));
        }
        String logs = Fixtures.read(dir.resolve("a.log")) + Fixtures.read(dir.resolve("b.log"));
        assertThat(logs).contains("environment is locked, will try again");
        assertThat(logs.split("level=info msg=applying ", -1)).as("one apply").hasSize(2);
        assertThat(perAddress()).hasSize(4).allSatisfy((x, n) -> assertThat(n).isEqualTo(1));
    }
}
