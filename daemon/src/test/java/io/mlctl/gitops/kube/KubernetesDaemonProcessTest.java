package io.mlctl.gitops.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.locks.Leases;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.KubeApi;
import io.mlctl.testing.Specs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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

/** {@code mlctl daemon --lock kubernetes} as real processes, configured the way fabric8 is in a pod, against the mock API. */
class KubernetesDaemonProcessTest {
    static final List<String> ENVIRONMENTS = List.of("dev", "staging", "prod", "research");
    @TempDir
    Path dir;
    final List<Process> processes = new ArrayList<>();
    final HttpClient http = HttpClient.newHttpClient();
    final KubeApi api = new KubeApi();

    @AfterEach
    void tearDown() {
        processes.forEach(Process::destroyForcibly);
        api.close();
    }

    /** Port 0: the daemon logs the port it bound (a port picked here and released could be taken by the other test JVM). */
    Process daemon(GitRepos git, String replica, String masterUrl, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main", "daemon", "--repo", git.url(), "--sandbox",
            "--interval", "1s", "--listen", "127.0.0.1:0", "--state-dir", dir.resolve("state-" + replica).toString(),
            "--replica-id", replica));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().put("MLCTL_SANDBOX", dir.resolve("sandbox").toString());
        // What fabric8 reads when there is no kubeconfig; in a pod the service account supplies the same.
        pb.environment().put("KUBERNETES_MASTER", masterUrl);
        pb.environment().put("KUBERNETES_NAMESPACE", KubeApi.NAMESPACE);
        pb.environment().put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
        pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(replica + ".log").toFile()));
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    JsonNode get(int port, String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JsonMapper.builder().build().readTree(r.body()) : JsonMapper.builder().build().createArrayNode();
        } catch (IOException e) {
            return JsonMapper.builder().build().createArrayNode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return JsonMapper.builder().build().createArrayNode();
        }
    }

    /** Environment → the replicas that report it synced. */
    Map<String, List<String>> synced(Map<String, Integer> ports) {
        Map<String, List<String>> out = new HashMap<>();
        ports.forEach((replica, port) -> {
            for (JsonNode e : get(port, "/api/environments")) {
                if (e.get("status").asString().equals("synced")) out.computeIfAbsent(e.get("name").asString(), k -> new ArrayList<>()).add(replica);
            }
        });
        return out;
    }

    List<String> members(int port) {
        List<String> m = new ArrayList<>();
        get(port, "/api/status").path("members").forEach(n -> m.add(n.asString()));
        return m;
    }

    static void await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("not within " + timeout);
            Thread.sleep(100);
        }
    }

    Map<String, Integer> perAddress() {
        Map<String, Integer> m = new HashMap<>();
        SandboxCloud cloud = new SandboxCloud(dir.resolve("sandbox"), Specs.CATALOG, Clock.systemUTC());
        for (ResourceType t : ResourceType.values()) {
            for (SandboxCloud.StoredResource r : cloud.all(Provider.AWS, t)) {
                m.merge(r.tags().get(Ownership.ENVIRONMENT_TAG) + "/" + r.tags().get(Ownership.ADDRESS_TAG), 1, Integer::sum);
            }
        }
        return m;
    }

    @Test
    void twoReplicasShareTheEnvironmentsAndOneThatStopsHandsItsOnesOver() throws Exception {
        GitRepos git = new GitRepos(dir);
        for (String e : ENVIRONMENTS) {
            git.write(e + ".yaml", Fixtures.smallEnv(e).replace("  provider: aws\n", "  provider: aws\n  apply: auto\n"));
        }
        git.commit("four environments");
        git.push("main");
        Process replicaA = daemon(git, "replica-a", api.url(), "--lock", "kubernetes");
        Process b = daemon(git, "replica-b", api.url(), "--lock", "kubernetes");
        int portA = io.mlctl.gitops.DaemonProcessTest.listenPort(dir.resolve("replica-a.log"), replicaA, Duration.ofSeconds(60));
        int portB = io.mlctl.gitops.DaemonProcessTest.listenPort(dir.resolve("replica-b.log"), b, Duration.ofSeconds(60));
        Map<String, Integer> both = Map.of("replica-a", portA, "replica-b", portB);
        try {
            await(Duration.ofSeconds(90), () -> members(portA).size() == 2 && members(portB).size() == 2
                && synced(both).size() == ENVIRONMENTS.size() && synced(both).values().stream().allMatch(r -> r.size() == 1));
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " " + synced(both) + "\n" + Fixtures.read(dir.resolve("replica-a.log"))
                + Fixtures.read(dir.resolve("replica-b.log")));
        }
        assertThat(members(portA)).containsExactly("replica-a", "replica-b");
        assertThat(perAddress()).hasSize(ENVIRONMENTS.size() * 4).allSatisfy((a, n) -> assertThat(n).as(a).isEqualTo(1));
        for (String e : ENVIRONMENTS) {
            assertThat(api.lease("mlctl-env-" + e).orElseThrow().getMetadata().getAnnotations()).containsKey(LeaseSyncRecords.ANNOTATION);
        }
        // Released after each apply (a replica that just took an environment over may still be checking it for drift).
        await(Duration.ofSeconds(30), () -> ENVIRONMENTS.stream().allMatch(e -> Leases.holder(api.lease("mlctl-env-" + e).orElseThrow()).isEmpty()));
        assertThat(api.lease("mlctl-member-replica-b")).isPresent();

        b.destroy(); // SIGTERM: finishes, deletes its member Lease
        assertThat(b.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(api.lease("mlctl-member-replica-b")).isEmpty();
        // Handed over at replica-a's next refresh (every 5 s), not after its 15 s lease would have run out.
        await(Duration.ofSeconds(30), () -> synced(Map.of("replica-a", portA)).size() == ENVIRONMENTS.size());
        assertThat(members(portA)).containsExactly("replica-a");
        assertThat(perAddress()).hasSize(ENVIRONMENTS.size() * 4).allSatisfy((a, n) -> assertThat(n).as(a).isEqualTo(1));
    }

    @Test
    void anUnreachableClusterStopsTheDaemonWithOneLine() throws Exception {
        GitRepos git = new GitRepos(dir);
        git.write("dev.yaml", Fixtures.smallEnv("dev")).commit("dev");
        git.push("main");
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort(); // nothing listens there once closed: an unreachable API
        }
        Process p = daemon(git, "replica-a", "http://127.0.0.1:" + closed, "--lock", "kubernetes");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(Fixtures.read(dir.resolve("replica-a.log")).strip()).isEqualTo("Error: cannot register daemon replica replica-a as Lease "
            + "mlctl/mlctl-member-replica-a: cannot reach http://127.0.0.1:" + closed + "/ (ConnectException)");
    }

    @Test
    void anUnknownLockKindIsRefused() throws Exception {
        GitRepos git = new GitRepos(dir);
        git.write("dev.yaml", Fixtures.smallEnv("dev")).commit("dev");
        git.push("main");
        Process p = daemon(git, "replica-a", api.url(), "--lock", "zookeeper");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(Fixtures.read(dir.resolve("replica-a.log")).strip())
            .isEqualTo("Error: --lock must be file, kubernetes or s3://BUCKET/PREFIX, not 'zookeeper'");
    }
}
