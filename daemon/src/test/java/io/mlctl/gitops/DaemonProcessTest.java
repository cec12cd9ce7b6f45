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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code mlctl daemon} as a real process: the loop, its HTTP port, SIGTERM, SIGKILL and a second daemon. */
public class DaemonProcessTest {
    @TempDir
    Path dir;
    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
    }

    /** A daemon process and the port it bound. */
    record Running(Process process, int port, Path log) {
    }

    /**
     * Starts {@code mlctl daemon} on {@code --listen 127.0.0.1:0} and learns the port the kernel gave it from its start-up line:
     * a port reserved by the test and released before the daemon binds it could be taken by any other process meanwhile.
     */
    Running daemon(GitRepos git, String name, String... extra) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main", "daemon", "--repo", git.url(), "--sandbox",
            "--interval", "1s", "--listen", "127.0.0.1:0", "--state-dir", dir.resolve("state").toString()));
        cmd.addAll(List.of(extra));
        Path log = dir.resolve(name + ".log");
        if (Files.exists(log)) throw new IllegalArgumentException(log + " exists: each daemon gets its own log, where its port is read");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("MLCTL_SANDBOX", dir.resolve("sandbox").toString());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        processes.add(p);
        return new Running(p, listenPort(log, p, Duration.ofSeconds(60)), log);
    }

    private static final Pattern LISTEN = Pattern.compile(" listen=\"?[^\\s\"]*:(\\d+)\"?(?: |$)");

    /**
     * The port of a daemon started with {@code --listen HOST:0}, from the complete start-up line of its log (text format),
     * polled until it is there; fails at once, with the log, when the daemon exits first.
     */
    public static int listenPort(Path log, Process p, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean alive = p.isAlive();
            String text = Files.exists(log) ? Fixtures.read(log) : "";
            // Only whole lines: a line being written could end in half a port number.
            for (String line : text.substring(0, text.lastIndexOf('\n') + 1).split("\n")) {
                if (!line.contains("msg=\"mlctl daemon started\"")) continue;
                Matcher m = LISTEN.matcher(line);
                if (!m.find()) throw new AssertionError("a start-up line without the address bound: " + line);
                int port = Integer.parseInt(m.group(1));
                if (port == 0) throw new AssertionError("the start-up line names port 0, not the one bound: " + line);
                return port;
            }
            if (!alive) throw new AssertionError("the daemon exited (" + p.exitValue() + ") before it listened:\n" + text);
            if (System.nanoTime() > deadline) throw new AssertionError("no start-up line within " + timeout + ":\n" + text);
            Thread.sleep(50);
        }
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
        Running d = daemon(git, "daemon");
        Process p = d.process();
        int port = d.port();
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

    /** A repository whose deploy branch holds one auto environment of ten resources, and the sandbox's folder for its settings. */
    GitRepos tenResources() throws IOException {
        GitRepos git = new GitRepos(dir);
        StringBuilder spec = new StringBuilder(Fixtures.smallEnv("dev").replace("  provider: aws\n", "  provider: aws\n  apply: auto\n"));
        for (int i = 0; i < 6; i++) spec.append("    - type: bucket\n      name: shard-").append(i).append('\n');
        git.write("dev.yaml", spec.toString()).commit("dev");
        git.push("main");
        Files.createDirectories(dir.resolve("sandbox"));
        return git;
    }

    @Test
    void killedDuringAnApplyAndRestartedItConvergesWithoutDuplicates() throws Exception {
        GitRepos git = tenResources();
        Files.writeString(dir.resolve("sandbox/config.json"), "{\"latencyMillis\": 200, \"settleMillis\": 200}");
        Process first = daemon(git, "first").process();
        Path journal = dir.resolve("state/dev").resolve(Journal.FILE);
        await(Duration.ofSeconds(60), () -> Files.exists(journal) && Fixtures.read(journal).contains("\"event\":\"done\""));
        first.destroyForcibly();
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Fixtures.read(journal)).doesNotContain("\"event\":\"end\"");
        Files.delete(dir.resolve("sandbox/config.json"));

        int port2 = daemon(git, "second").port();
        await(Duration.ofSeconds(60), () -> status(port2, "dev").startsWith("synced@"));
        assertThat(Fixtures.read(dir.resolve("second.log"))).contains("resuming an interrupted apply");
        assertThat(perAddress()).hasSize(10).allSatisfy((a, n) -> assertThat(n).as(a).isEqualTo(1));
    }

    /**
     * Two daemons on one repository and one state directory (so one lock per environment), both running and ready before the
     * environment appears: the commit that adds it reaches both within about one interval of each other, and the apply takes
     * many times that (every sandbox call is slow), so the second daemon certainly finds the environment locked. It waits,
     * then finds nothing left to do: every resource is created once.
     */
    @Test
    void twoDaemonsOnOneRepositoryNeverApplyTheSameEnvironmentAtOnce() throws Exception {
        GitRepos git = new GitRepos(dir);
        git.write("README.md", "environments come later\n").commit("no environment yet");
        git.push("main");
        Files.createDirectories(dir.resolve("sandbox"));
        // The lock is held from the inventory read to the last create: four rounds of 2 s calls (the reads, then network and bucket,
        // the identity, the instance), about 8 s, against 1 s (+10%) between two passes of a daemon.
        Files.writeString(dir.resolve("sandbox/config.json"), "{\"latencyMillis\": 2000}");
        int a = daemon(git, "a").port();
        int b = daemon(git, "b").port();
        await(Duration.ofSeconds(60), () -> get(a, "/readyz").startsWith("200") && get(b, "/readyz").startsWith("200"));
        assertThat(perAddress()).isEmpty();

        var c = git.write("dev.yaml", Fixtures.smallEnv("dev").replace("  provider: aws\n", "  provider: aws\n  apply: auto\n")).commit("dev");
        git.push("main");
        try {
            await(Duration.ofSeconds(120), () -> status(a, "dev").equals("synced@" + c.name()) && status(b, "dev").equals("synced@" + c.name()));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nA: " + get(a, "/api/environments") + "\nB: " + get(b, "/api/environments")
                + "\nlogs A:\n" + Fixtures.read(dir.resolve("a.log")) + "\nlogs B:\n" + Fixtures.read(dir.resolve("b.log")));
        }
        String logA = Fixtures.read(dir.resolve("a.log"));
        String logB = Fixtures.read(dir.resolve("b.log"));
        String logs = logA + logB;
        assertThat(logs.split("level=info msg=applying environment=dev ", -1)).as("one apply:\n" + logs).hasSize(2);
        String loser = logA.contains("msg=applying environment=dev ") ? logB : logA;
        assertThat(loser).as("the other daemon came while the apply held the lock:\n" + logs)
            .contains("msg=\"environment is locked, will try again\" environment=dev ");
        assertThat(perAddress()).hasSize(4).allSatisfy((x, n) -> assertThat(n).as(x).isEqualTo(1));
    }

    /**
     * SIGTERM in the middle of a long apply: the daemon waits --shutdown-grace for it, says it is leaving it unfinished and
     * exits by itself; the next start finishes the apply from the journal without creating anything twice.
     */
    @Test
    void sigtermDuringALongApplyExitsAfterTheGraceAndARestartFinishesIt() throws Exception {
        GitRepos git = tenResources();
        // Every call takes 3 s. Once the first create is journaled, the identity and then the instance (which needs it) are still
        // to come, one after the other: at least 6 s, three times the grace.
        Files.writeString(dir.resolve("sandbox/config.json"), "{\"latencyMillis\": 3000}");
        Duration grace = Duration.ofSeconds(2);
        Running first = daemon(git, "first", "--shutdown-grace", "2s");
        Path journal = dir.resolve("state/dev").resolve(Journal.FILE);
        await(Duration.ofSeconds(60), () -> Files.exists(journal) && Fixtures.read(journal).contains("\"event\":\"done\""));
        assertThat(Fixtures.read(journal)).as("mid-apply").doesNotContain("\"event\":\"end\"");

        long sent = System.nanoTime();
        first.process().destroy(); // SIGTERM
        assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).as("exits by itself, without SIGKILL").isTrue();
        Duration took = Duration.ofNanos(System.nanoTime() - sent);
        assertThat(first.process().exitValue()).isIn(0, 143);
        String log = Fixtures.read(first.log());
        assertThat(log).contains("level=info msg=stopping").contains("stopping while a reconcile is still running");
        assertThat(took).as("waited the grace for the apply").isGreaterThanOrEqualTo(grace);
        assertThat(Fixtures.read(journal)).as("the apply was cut short").doesNotContain("\"event\":\"end\"");
        assertThat(perAddress()).as("part of it was done").isNotEmpty().hasSizeLessThan(10);

        Files.delete(dir.resolve("sandbox/config.json"));
        int port = daemon(git, "second").port();
        await(Duration.ofSeconds(60), () -> status(port, "dev").startsWith("synced@"));
        assertThat(Fixtures.read(dir.resolve("second.log"))).contains("resuming an interrupted apply");
        assertThat(perAddress()).hasSize(10).allSatisfy((a, n) -> assertThat(n).as(a).isEqualTo(1));
    }
}
