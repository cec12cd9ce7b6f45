package io.mlctl.apply;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.Ownership;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An apply killed with SIGKILL in the middle (a real second JVM, really killed) is finished by the
 * next apply: every declared resource exists exactly once, nothing is orphaned.
 */
class KillResumeTest {
    @TempDir
    Path dir;

    @Test
    void applyKilledMidwayIsResumedWithoutDuplicatesOrOrphans() throws Exception {
        StringBuilder yaml = new StringBuilder(Fixtures.smallEnv("dev"));
        for (int i = 0; i < 8; i++) yaml.append("    - type: bucket\n      name: shard-").append(i).append('\n');
        Path spec = Fixtures.write(dir, "dev.yaml", yaml.toString());
        Path sandbox = dir.resolve("sandbox");
        Path state = dir.resolve("state");
        Files.createDirectories(sandbox);
        // Slow calls that settle after the resource exists: the kill lands while creates are in flight.
        Files.writeString(sandbox.resolve("config.json"), "{\"latencyMillis\": 150, \"settleMillis\": 250}");

        Process p = start(spec, sandbox, state);
        Path journal = state.resolve("dev").resolve(Journal.FILE);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && count(journal, "\"event\":\"done\"") < 3) Thread.sleep(20);
        assertThat(p.isAlive()).as("the first apply must still be running when it is killed; log:\n"
            + Fixtures.read(dir.resolve("first-apply.log"))).isTrue();
        p.destroyForcibly(); // SIGKILL: no shutdown hook, no finally block runs
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Fixtures.read(journal)).doesNotContain("\"event\":\"end\"");
        int createdBeforeKill = total(sandbox);
        assertThat(createdBeforeKill).isBetween(3, 11);

        Files.delete(sandbox.resolve("config.json"));
        Cli cli = new Cli(dir);
        Cli.Result resumed = cli.run("apply", "--sandbox", "--auto-approve", spec.toString());
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("Resuming an interrupted apply").contains("Apply complete!");
        assertThat(resumed.out()).contains((12 - createdBeforeKill) + " added");

        Map<String, Integer> perAddress = new HashMap<>();
        SandboxCloud cloud = new SandboxCloud(sandbox, Specs.CATALOG, Clock.systemUTC());
        for (ResourceType t : ResourceType.values()) {
            for (SandboxCloud.StoredResource r : cloud.all(Provider.AWS, t)) {
                perAddress.merge(r.tags().get(Ownership.ADDRESS_TAG), 1, Integer::sum);
            }
        }
        assertThat(perAddress).hasSize(12).allSatisfy((a, n) -> assertThat(n).as(a).isEqualTo(1));
        assertThat(Files.exists(journal)).as("the resumed run closes the journal").isFalse();
        assertThat(cli.run("plan", "--sandbox", "--detailed-exitcode", spec.toString()).exitCode()).isZero();
    }

    @Test
    void aSecondApplyFromAnotherProcessIsLockedOut() throws Exception {
        Path spec = Fixtures.write(dir, "dev.yaml", Fixtures.smallEnv("dev"));
        Path sandbox = dir.resolve("sandbox");
        Files.createDirectories(sandbox);
        Files.writeString(sandbox.resolve("config.json"), "{\"latencyMillis\": 300}");
        Process p = start(spec, sandbox, dir.resolve("state"));
        try {
            Path journal = dir.resolve("state").resolve("dev").resolve(Journal.FILE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && count(journal, "\"event\":\"intent\"") < 1) Thread.sleep(20);
            Cli.Result second = new Cli(dir).run("apply", "--sandbox", "--auto-approve", spec.toString());
            assertThat(second.exitCode()).isEqualTo(1);
            assertThat(second.err()).startsWith("Error: environment dev is locked by mlctl apply (pid " + p.pid() + " on ");
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        // The killed holder's lock went with it.
        Files.delete(sandbox.resolve("config.json"));
        assertThat(new Cli(dir).run("apply", "--sandbox", "--auto-approve", spec.toString()).exitCode()).isZero();
    }

    private Process start(Path spec, Path sandbox, Path state) throws java.io.IOException {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main",
            "apply", "--sandbox", "--auto-approve", "--parallelism", "2", spec.toString());
        pb.environment().put("MLCTL_SANDBOX", sandbox.toString());
        pb.environment().put("MLCTL_STATE_DIR", state.toString());
        pb.redirectErrorStream(true).redirectOutput(dir.resolve("first-apply.log").toFile());
        return pb.start();
    }

    private static int total(Path sandbox) {
        SandboxCloud cloud = new SandboxCloud(sandbox, Specs.CATALOG, Clock.systemUTC());
        int n = 0;
        for (ResourceType t : ResourceType.values()) n += cloud.all(Provider.AWS, t).size();
        return n;
    }

    private static int count(Path file, String needle) {
        if (!Files.exists(file)) return 0;
        List<String> lines = new ArrayList<>(Fixtures.read(file).lines().toList());
        return (int) lines.stream().filter(l -> l.contains(needle)).count();
    }
}
