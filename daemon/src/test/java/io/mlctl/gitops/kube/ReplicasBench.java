package io.mlctl.gitops.kube;

import io.mlctl.testing.Fixtures;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.KubeApi;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.eclipse.jgit.lib.ObjectId;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Benchmark of daemon replicas with {@code --lock kubernetes} (docs/benchmarks.md; run by
 * {@code bin/bench-daemon-replicas}, never by the test suite): N environments in one repository on the
 * sandbox, R daemon processes against fabric8's mock Kubernetes API in this JVM. Measures the first full
 * sync, commit → synced, resident memory per replica, and failover after a kill -9.
 *
 * <p>Arguments: launcher (bin/mlctl), environments (500), replicas (3), interval seconds (2), commits (5).
 */
public final class ReplicasBench {
    static final Duration SLOW = Duration.ofMillis(500);
    static final Duration FAST = Duration.ofMillis(50);
    private final HttpClient http = HttpClient.newHttpClient();
    private final JsonMapper json = JsonMapper.builder().build();

    public static void main(String[] args) throws Exception {
        String launcher = args.length > 0 ? args[0] : "bin/mlctl";
        int environments = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        int replicas = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        int interval = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int commits = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        new ReplicasBench().run(launcher, environments, replicas, interval, commits);
        System.exit(0);
    }

    record Replica(String name, int port, Process process) {
    }

    void run(String launcher, int n, int r, int interval, int commits) throws Exception {
        Path work = Files.createTempDirectory("mlctl-bench-replicas");
        String example = Fixtures.read(Fixtures.examples().resolve("aws-training.yaml"));
        GitRepos git = new GitRepos(work);
        List<String> envs = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            String name = "env-" + i;
            envs.add(name);
            git.write(name + ".yaml", spec(example, name));
        }
        git.commit(n + " environments");
        git.push("main");
        List<Replica> all = new java.util.concurrent.CopyOnWriteArrayList<>();
        // Interrupted (Ctrl-C): no daemon is left behind.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> all.forEach(x -> x.process().destroyForcibly())));
        try (KubeApi api = new KubeApi()) {
            long start = System.nanoTime();
            for (int i = 0; i < r; i++) {
                String name = "replica-" + (char) ('a' + i);
                int port = freePort();
                ProcessBuilder pb = new ProcessBuilder(launcher, "daemon", "--repo", git.url(), "--sandbox", "--interval", interval + "s",
                    "--listen", "127.0.0.1:" + port, "--state-dir", work.resolve("state-" + name).toString(), "--lock", "kubernetes",
                    "--replica-id", name);
                pb.environment().put("MLCTL_SANDBOX", work.resolve("sandbox").toString());
                pb.environment().put("KUBERNETES_MASTER", api.url());
                pb.environment().put("KUBERNETES_NAMESPACE", KubeApi.NAMESPACE);
                pb.environment().put("KUBERNETES_AUTH_TRYKUBECONFIG", "false");
                pb.environment().put("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false");
                pb.redirectErrorStream(true).redirectOutput(work.resolve(name + ".log").toFile());
                all.add(new Replica(name, port, pb.start()));
            }
            await(Duration.ofMinutes(30), SLOW, () -> syncedOnce(all, envs));
            double firstSync = seconds(start);
            System.out.printf("first full sync of %d environments (%d resources) by %d replicas, JVM start included: %.1f s%n",
                n, n * 6, r, firstSync);
            for (Replica x : all) System.out.printf("  %s reconciled %d environments%n", x.name(), owned(x).size());
            Thread.sleep(10_000); // let the first burst's garbage settle before reading memory
            for (Replica x : all) System.out.printf("  %s resident memory (VmRSS) after the first sync: %d MiB%n", x.name(), rssMiB(x.process()));

            List<Double> latencies = new ArrayList<>();
            for (int c = 1; c <= commits; c++) {
                String env = envs.get((c * 97) % envs.size());
                Replica owner = all.stream().filter(x -> owned(x).contains(env)).findFirst().orElseThrow();
                git.write(env + ".yaml", spec(example, env).replace("versioning: true", "versioning: false"));
                ObjectId commit = git.commit(env + ": versioning off");
                long pushed = System.nanoTime();
                git.push("main");
                await(Duration.ofMinutes(2), FAST, () -> syncedAt(List.of(owner), env, commit));
                latencies.add(seconds(pushed));
            }
            latencies.sort(Double::compare);
            System.out.printf("commit pushed -> environment synced (%d commits, interval %d s): median %.2f s, min %.2f s, max %.2f s%n",
                commits, interval, latencies.get(latencies.size() / 2), latencies.get(0), latencies.get(latencies.size() - 1));

            if (all.size() < 2) return; // nobody to fail over to
            Replica victim = all.get(all.size() - 1);
            Map<String, String> before = reporters(all);
            int victims = owned(victim).size();
            victim.process().destroyForcibly(); // kill -9: nothing released, its Leases run out
            victim.process().waitFor();
            long killed = System.nanoTime();
            List<Replica> survivors = all.subList(0, all.size() - 1);
            await(Duration.ofMinutes(2), FAST, () -> survivors.stream().allMatch(x -> members(x).size() == survivors.size()));
            double membersMoved = seconds(killed);
            await(Duration.ofMinutes(30), SLOW, () -> syncedOnce(survivors, envs));
            double allSynced = seconds(killed);
            Map<String, String> after = reporters(survivors);
            long moved = envs.stream().filter(e -> !after.get(e).equals(before.get(e))).count();
            System.out.printf("kill -9 of %s (%d environments): survivors drop it after %.1f s (lease 15 s); every environment synced "
                + "on a survivor after %.1f s; %d environments changed replica%n", victim.name(), victims, membersMoved, allSynced, moved);
        } finally {
            for (Replica x : all) {
                x.process().destroyForcibly();
                x.process().waitFor();
            }
            git.close();
            if (Boolean.getBoolean("bench.keep")) {
                System.out.println("logs and state kept in " + work);
            } else {
                try (var files = Files.walk(work)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        }
    }

    static String spec(String example, String name) {
        return example.replace("name: training-dev", "name: " + name).replace("ml-data-dev", "data-" + name);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    static long rssMiB(Process p) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
        return -1;
    }

    /** Polls every {@code period}: the daemons serve hundreds of statuses per request, so polling is not free on a small machine. */
    static void await(Duration timeout, Duration period, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new IllegalStateException("not within " + timeout);
            Thread.sleep(period.toMillis());
        }
    }

    JsonNode get(Replica x, String path) {
        try {
            HttpResponse<String> res = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + x.port() + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return res.statusCode() == 200 ? json.readTree(res.body()) : json.createArrayNode();
        } catch (IOException e) {
            return json.createArrayNode();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return json.createArrayNode();
        }
    }

    List<String> owned(Replica x) {
        List<String> out = new ArrayList<>();
        for (JsonNode e : get(x, "/api/environments")) out.add(e.get("name").asString());
        return out;
    }

    List<String> members(Replica x) {
        List<String> out = new ArrayList<>();
        get(x, "/api/status").path("members").forEach(m -> out.add(m.asString()));
        return out;
    }

    /** Environment → the replica reporting it. */
    Map<String, String> reporters(List<Replica> replicas) {
        Map<String, String> out = new HashMap<>();
        for (Replica x : replicas) for (String e : owned(x)) out.put(e, x.name());
        return out;
    }

    /** Every environment reported synced by exactly one of these replicas. */
    boolean syncedOnce(List<Replica> replicas, List<String> envs) {
        Map<String, Integer> count = new LinkedHashMap<>();
        for (Replica x : replicas) {
            for (JsonNode e : get(x, "/api/environments")) {
                if (e.get("status").asString().equals("synced")) count.merge(e.get("name").asString(), 1, Integer::sum);
            }
        }
        return envs.stream().allMatch(e -> count.getOrDefault(e, 0) == 1);
    }

    boolean syncedAt(List<Replica> replicas, String env, ObjectId commit) {
        for (Replica x : replicas) {
            for (JsonNode e : get(x, "/api/environments")) {
                if (e.get("name").asString().equals(env) && e.get("status").asString().equals("synced")
                    && e.get("commit").asString().equals(commit.name())) return true;
            }
        }
        return false;
    }
}
