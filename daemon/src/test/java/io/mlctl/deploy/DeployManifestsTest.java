package io.mlctl.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.gitops.StatusServer;
import io.mlctl.spec.Values;
import io.mlctl.spec.YamlDocument;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import tools.jackson.databind.JsonNode;

/** What deploy/ tells Kubernetes, systemd and Docker must be what the daemon actually accepts and serves. */
class DeployManifestsTest {
    @TempDir
    Path dir;

    private Set<String> daemonFlags() {
        CommandLine cmd = io.mlctl.cli.Main.commandLine(new io.mlctl.cli.Services(dir, Map.of(), java.time.Clock.systemUTC(),
            new java.io.BufferedReader(new java.io.StringReader("")), new java.io.PrintWriter(new java.io.StringWriter()),
            new java.io.PrintWriter(new java.io.StringWriter()), false));
        Set<String> flags = new TreeSet<>();
        cmd.getSubcommands().get("daemon").getCommandSpec().options().forEach(o -> flags.add(o.longestName().replaceFirst("^--", "")));
        return flags;
    }

    private static List<JsonNode> docs(Path f) {
        List<JsonNode> out = new ArrayList<>();
        for (YamlDocument d : new YamlLoader().load(f, f.toString())) out.add(d.root());
        return out;
    }

    private static JsonNode kind(List<JsonNode> docs, String kind) {
        return docs.stream().filter(d -> kind.equals(d.path("kind").asString())).findFirst().orElseThrow(() -> new AssertionError("no " + kind));
    }

    @Test
    void kubernetesManifestsUseTheDaemonsRealFlagsProbesAndPort() {
        List<JsonNode> docs = docs(Fixtures.repoRoot().resolve("deploy/kubernetes/mlctl.yaml"));
        assertThat(docs).extracting(d -> d.path("kind").asString())
            .contains("Deployment", "ServiceAccount", "ConfigMap", "Service", "PersistentVolumeClaim");
        JsonNode container = kind(docs, "Deployment").at("/spec/template/spec/containers/0");
        List<String> args = new ArrayList<>();
        container.get("args").forEach(a -> args.add(a.asString()));
        assertThat(args.get(0)).isEqualTo("daemon");
        Set<String> flags = daemonFlags();
        args.stream().filter(a -> a.startsWith("--")).forEach(a -> assertThat(flags).contains(a.substring(2)));

        String configText = kind(docs, "ConfigMap").at("/data/config.yaml").asString();
        @SuppressWarnings("unchecked")
        Map<String, Object> config = (Map<String, Object>) Values.fromJson(new YamlLoader().loadString(configText, "config.yaml").get(0).root());
        assertThat(flags).containsAll(config.keySet());
        String listen = (String) config.get("listen");
        int port = Integer.parseInt(listen.substring(listen.lastIndexOf(':') + 1));
        assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(port);
        assertThat(container.at("/readinessProbe/httpGet/path").asString()).isEqualTo(StatusServer.READY);
        assertThat(container.at("/livenessProbe/httpGet/path").asString()).isEqualTo(StatusServer.HEALTH);
        JsonNode pod = kind(docs, "Deployment").at("/spec/template/metadata/annotations");
        assertThat(pod.get("prometheus.io/scrape").asString()).isEqualTo("true");
        assertThat(pod.get("prometheus.io/path").asString()).isEqualTo(StatusServer.METRICS);
        assertThat(pod.get("prometheus.io/port").asString()).isEqualTo(Integer.toString(port));
        // The token the config names is the file the Secret is mounted at.
        assertThat((String) config.get("git-token-file")).startsWith(container.at("/volumeMounts/1/mountPath").asString());
        assertThat(config.get("state-dir")).isEqualTo(container.at("/volumeMounts/2/mountPath").asString());
    }

    @Test
    void theConfigMapIsAcceptedByTheDaemon() throws Exception {
        JsonNode cm = kind(docs(Fixtures.repoRoot().resolve("deploy/kubernetes/mlctl.yaml")), "ConfigMap");
        Path config = Fixtures.write(dir, "config.yaml", cm.at("/data/config.yaml").asString()
            .replace("git-token-file: /var/run/secrets/mlctl-git/token", "git-token-file: " + Fixtures.write(dir, "token", "s3cret")));
        Cli.Result ok = new Cli(dir).env("MLCTL_INTERVAL", "30s").run("daemon", "--config", config.toString(), "--branch", "release", "--print-config");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).contains("repo: https://github.com/example/ml-infra.git\n").contains("branch: release\n")
            .contains("interval: 30s\n").contains("drift-interval: 10m\n").contains("listen: 0.0.0.0:8080\n")
            // MLCTL_STATE_DIR (set by the harness) wins over the file.
            .contains("state-dir: " + dir.resolve("state") + "\n")
            .contains("publish-branch: mlctl/plans\n").contains("log-format: json")
            .contains("git-token-file: " + dir.resolve("token") + "\n").doesNotContain("s3cret");
        Cli.Result bad = new Cli(dir).run("daemon", "--config", Fixtures.write(dir, "bad.yaml", "repo: x\ncolour: blue\n").toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("unknown setting 'colour'");
        Cli.Result badDuration = new Cli(dir).run("daemon", "--repo", "file:///nowhere", "--interval", "soon");
        assertThat(badDuration.err()).contains("--interval: 'soon' is not a duration");
    }

    @Test
    void systemdAndDockerRunTheDaemonWithRealFlags() {
        String unit = Fixtures.read(Fixtures.repoRoot().resolve("deploy/systemd/mlctl.service"));
        String exec = unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElseThrow();
        assertThat(exec).contains("mlctl.jar daemon");
        Set<String> flags = daemonFlags();
        Matcher m = Pattern.compile("--([a-z-]+)").matcher(exec.substring(exec.indexOf(" daemon")));
        while (m.find()) assertThat(flags).contains(m.group(1));
        String docker = Fixtures.read(Fixtures.repoRoot().resolve("deploy/Dockerfile"));
        assertThat(docker).contains("EXPOSE 8080").contains("ENTRYPOINT [\"java\"").contains("\"-jar\", \"/opt/mlctl/mlctl.jar\"")
            .contains("CMD [\"daemon\", \"--config\"");
        assertThat(daemonFlags()).contains("repo", "branch", "path", "interval", "listen", "sandbox", "state-dir", "notify", "log-format", "config");
    }
}
