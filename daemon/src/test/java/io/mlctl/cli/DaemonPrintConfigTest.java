package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.spec.Values;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.util.Durations;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code mlctl daemon --print-config}: what the daemon would run with, as a --config file, with no secret in it. */
class DaemonPrintConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsReadAsTheFlagsAreWritten() {
        Cli.Result r = new Cli(dir).run("daemon", "--repo", "https://github.com/example/ml-infra.git", "--print-config");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).containsPattern("(?m)^# replica-id: \\S+-" + ProcessHandle.current().pid() + " \\(the default: host name and process id\\)$");
        assertThat(r.out().replaceAll("(?m)^# replica-id: .*$", "# replica-id: DEFAULT")).isEqualTo("""
            # mlctl daemon settings (flags win over MLCTL_* variables, which win over --config); this text works as a --config file
            repo: https://github.com/example/ml-infra.git
            branch: main
            path: .
            interval: 1m
            drift-interval: 10m
            listen: 127.0.0.1:8080
            sandbox: false
            state-dir: %s
            # notify: not set
            branch-pattern: "refs/heads/.*|refs/pull/[^/]+/head"
            # publish-branch: not set
            # git-token-file: not set
            # git-token-env: not set
            # ssh-key: not set
            log-format: text
            shutdown-grace: 1m
            concurrency: 4
            plan-pull-requests: false
            fetch-failure-grace: 5m
            # api-token-file: not set
            # api-token-env: not set
            lock: file
            # replica-id: DEFAULT
            # lease-namespace: not set
            """.formatted(dir.resolve("state")));
    }

    @Test
    void credentialsShowWhereTheyComeFromNeverWhatTheyAre() {
        Path gitToken = Fixtures.write(dir, "git-token", "GITSECRET\n");
        Path sshKey = Fixtures.write(dir, "id_ed25519", "SSHSECRET");
        Path config = Fixtures.write(dir, "mlctl.yaml", "drift-interval: 1h\nlease-namespace: mlctl\napi-token-file: /etc/mlctl/api-token\n");
        Cli.Result r = new Cli(dir).env("MLCTL_INTERVAL", "500ms").env("MLCTL_API_TOKEN", "APISECRET")
            .run("daemon", "--config", config.toString(), "--repo", "https://ghp_REPOSECRET@github.com/o/r.git",
                "--notify", "https://hooks.example/x?token=HOOKSECRET&team=ml", "--git-token-file", gitToken.toString(), "--ssh-key", sshKey.toString(),
                "--api-token-env", "MLCTL_API_TOKEN", "--shutdown-grace", "90s", "--fetch-failure-grace", "120s", "--concurrency", "8",
                "--plan-pull-requests", "--lock", "kubernetes", "--replica-id", "mlctl-0", "--path", "specs dir", "--publish-branch",
                "--listen", "0.0.0.0:9090", "--log-format", "json", "--print-config");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains(
            "repo: \"https://***@github.com/o/r.git\"\n",
            "notify: \"https://hooks.example/x?token=***&team=ml\"\n",
            "git-token-file: " + gitToken + "\n",
            "ssh-key: " + sshKey + "\n",
            "api-token-file: /etc/mlctl/api-token\n",
            "api-token-env: MLCTL_API_TOKEN\n",
            "interval: 500ms\n", "drift-interval: 1h\n", "shutdown-grace: 90s\n", "fetch-failure-grace: 2m\n",
            "concurrency: 8\n", "plan-pull-requests: true\n", "lock: kubernetes\n", "replica-id: mlctl-0\n", "lease-namespace: mlctl\n",
            "path: \"specs dir\"\n", "publish-branch: mlctl/plans\n", "listen: 0.0.0.0:9090\n", "log-format: json\n");
        assertThat(r.out() + r.err()).doesNotContain("SECRET").doesNotContainPattern("PT[0-9]");
    }

    /** The output fed back as --config (from another directory, with nothing else set) gives the same settings. */
    @Test
    void itIsAConfigFileForTheSameSettings() {
        Path keyFile = Fixtures.write(dir, "keys/id_ed25519", "key");
        Fixtures.write(dir, "api token", "t");
        Cli.Result first = new Cli(dir).env("MLCTL_SANDBOX", "").env("MLCTL_DRIFT_INTERVAL", "45m").env("GIT_TOKEN", "t")
            .run("daemon", "--repo", "https://git.example.com/o/r.git", "--branch", "release", "--path", "envs/prod", "--interval", "1500ms",
                "--listen", "[::1]:9090", "--sandbox", "--state-dir", "state two", "--notify", "https://hooks.example/mlctl",
                "--branch-pattern", "refs/heads/(main|release/.*)", "--publish-branch", "plans", "--git-token-env", "GIT_TOKEN",
                "--ssh-key", "keys/id_ed25519", "--log-format", "json", "--shutdown-grace", "2h", "--concurrency", "16",
                "--plan-pull-requests", "false", "--fetch-failure-grace", "30s", "--api-token-file", "api token", "--lock", "s3://locks/mlctl",
                "--replica-id", "0123", "--lease-namespace", "infra", "--print-config");
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(first.out()).contains("interval: 1500ms\n", "drift-interval: 45m\n", "shutdown-grace: 2h\n", "sandbox: true\n",
            "replica-id: \"0123\"\n", "listen: \"[::1]:9090\"\n", "ssh-key: " + keyFile + "\n");
        Path config = Fixtures.write(dir, "printed.yaml", first.out());

        Cli.Result again = new Cli(dir.resolve("elsewhere")).env("MLCTL_SANDBOX", "").env("MLCTL_STATE_DIR", "").env("GIT_TOKEN", "t")
            .run("daemon", "--config", config.toString(), "--print-config");
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(again.out()).isEqualTo(first.out());
    }

    @Test
    void everyFlagButConfigItselfIsPrinted() {
        Cli.Result r = new Cli(dir).run("daemon", "--repo", "file:///srv/repo.git", "--print-config");
        Set<String> keys = new LinkedHashSet<>();
        Matcher m = Pattern.compile("(?m)^(?:# )?([a-z-]+):").matcher(r.out());
        while (m.find()) keys.add(m.group(1));
        assertThat(keys).containsExactlyElementsOf(DaemonCommand.FLAGS.stream().filter(f -> !f.equals("config") && !f.equals("print-config")).toList());
    }

    /** A value, and whether it can stand bare in YAML (else it is double-quoted); either way YAML reads back the same text. */
    static Stream<Arguments> scalars() {
        return Stream.of(
            Arguments.of("main", true),
            Arguments.of("feature/x-1", true),
            Arguments.of("https://github.com/o/r.git", true),
            Arguments.of("0.0.0.0:8080", true),
            Arguments.of("/var/lib/mlctl", true),
            Arguments.of("true", true),
            Arguments.of("8", true),
            Arguments.of("0123", false),
            Arguments.of("1e3", false),
            Arguments.of("null", false),
            Arguments.of("~", false),
            Arguments.of("", false),
            Arguments.of("@team", false),
            Arguments.of("-", false),
            Arguments.of("host:", false),
            Arguments.of("a: b", false),
            Arguments.of("a #b", false),
            Arguments.of("say \"hi\"", false),
            Arguments.of("two\nlines", false),
            Arguments.of("[::1]:8080", false),
            Arguments.of("refs/heads/.*|refs/pull/[^/]+/head", false));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("scalars")
    void valuesReadBackAsWritten(String text, boolean bare) {
        String written = DaemonCommand.yamlScalar(text);
        assertThat(written.equals(text)).as(written).isEqualTo(bare);
        Object back = ((Map<?, ?>) Values.fromJson(new YamlLoader().loadString("k: " + written, "t").get(0).root())).get("k");
        assertThat(String.valueOf(back)).isEqualTo(text);
    }

    static Stream<Duration> durations() {
        return Stream.of(Duration.ZERO, Duration.ofMillis(500), Duration.ofMillis(1500), Duration.ofSeconds(2), Duration.ofSeconds(90),
            Duration.ofMinutes(5), Duration.ofMinutes(90), Duration.ofHours(1), Duration.ofHours(48), Duration.ofNanos(500));
    }

    @ParameterizedTest
    @MethodSource("durations")
    void durationsParseBackAsFlags(Duration d) {
        assertThat(DaemonCommand.duration(Durations.format(d), "--interval")).isEqualTo(d);
    }

    @Test
    void theVersionNamesTheCommit() {
        Cli.Result r = new Cli(dir).run("--version");
        assertThat(r.out()).matches("(?s)mlctl \\S+ \\(commit ([0-9a-f]{7,40}|unknown)\\)\nplan format .*");
        assertThat(List.of(r.exitCode())).containsExactly(0);
    }

    @Test
    void theSandboxDirectoryVariableNeverTurnsTheSandboxOff() {
        Path config = Fixtures.write(dir, "sandboxed.yaml", "repo: https://github.com/example/ml-infra.git\nsandbox: true\n");
        // MLCTL_SANDBOX is also where the CLI keeps the sandbox: a path there must not read as "false" and send the daemon to real clouds.
        Cli.Result r = new Cli(dir).env("MLCTL_SANDBOX", dir.resolve("sb").toString()).run("daemon", "--config", config.toString(), "--print-config");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("sandbox: true\n");
        Cli.Result off = new Cli(dir).env("MLCTL_SANDBOX", "false").run("daemon", "--config", config.toString(), "--print-config");
        assertThat(off.out()).contains("sandbox: false\n");
        Cli.Result bad = new Cli(dir).run("daemon", "--config", Fixtures.write(dir, "bad.yaml", "repo: x\nsandbox: maybe\n").toString(), "--print-config");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("'maybe' is not true or false");
    }
}
