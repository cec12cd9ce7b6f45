package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.MlctlException;
import io.mlctl.testing.Cli;
import io.mlctl.testing.GitRepos;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.StoredConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.node.ObjectNode;

/**
 * A token in the repository URL, in every form a URL carries one, never shows: not in logs, errors, the status API,
 * {@code --print-config}, webhook payloads or the files of the state directory (the bare cache's config above all)
 * — while the daemon still fetches with it, and still says what failed.
 */
class CredentialLeakTest {
    @TempDir
    Path dir;
    GitRepos git;
    GitHttp forge;
    DaemonHarness h;

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir.resolve("git"));
        git.write("envs/dev.yaml", DaemonHarness.autoEnv("dev")).commit("dev");
        git.push("main");
        forge = new GitHttp(git.remote());
        h = new DaemonHarness(dir);
    }

    @AfterEach
    void tearDown() {
        h.close();
        forge.close();
        git.close();
    }

    /**
     * How the URL carries the secret, what the forge demands, and every spelling of the secret that must not show.
     * Git (JGit as the git command) cannot fetch a URL with a query, so that form only ever fails — and must not leak.
     */
    static Stream<Arguments> forms() {
        return Stream.of(
            Arguments.of("a token as the user name", "SECRET-TOKEN-1", "", (Consumer<GitHttp>) f -> f.requireBasic("SECRET-TOKEN-1", ""),
                List.of("SECRET-TOKEN-1")),
            Arguments.of("user and password", "deploy:SECRET-PASS-2", "", (Consumer<GitHttp>) f -> f.requireBasic("deploy", "SECRET-PASS-2"),
                List.of("SECRET-PASS-2")),
            Arguments.of("percent-encoded user and password", "me%40corp:SECRET%2F3%40x", "",
                (Consumer<GitHttp>) f -> f.requireBasic("me@corp", "SECRET/3@x"), List.of("SECRET%2F3", "SECRET/3", "SECRET")),
            Arguments.of("a token in the query", "", "access_token=SECRET-Q-4", null, List.of("SECRET-Q-4")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void aSecretInTheRepositoryUrlIsUsedButNeverShown(String form, String userInfo, String query, Consumer<GitHttp> demand,
                                                      List<String> secrets) throws Exception {
        boolean fetchable = demand != null;
        if (fetchable) demand.accept(forge);
        String url = forge.url(userInfo, query);
        Reconciler r = h.start(h.config(url).fetchFailureGrace(Duration.ofMinutes(1)));
        r.tick();
        if (fetchable) {
            assertThat(h.get("/api/environments").body()).as("fetched with the secret: " + forge.requests + h.get("/api/status").body())
                .contains("\"status\" : \"synced\"").doesNotContain("error\" : \"");
            assertThat(forge.servedSmartFetch()).as("over the smart protocol: " + forge.requests + forge.backendStderr).isTrue();
            forge.failWith(401);
        }
        h.clock.advance(Duration.ofMinutes(2));
        r.tick();
        h.clock.advance(Duration.ofMinutes(2));
        r.tick();
        h.flushEvents();
        String error;
        try {
            h.source.fetch(false);
            throw new AssertionError("the forge fails every request now");
        } catch (MlctlException e) {
            error = e.getMessage() + "\n" + stackTrace(e);
        }

        List<String> surfaces = new ArrayList<>(List.of(
            "log:\n" + h.logs,
            "error:\n" + error,
            "/api/status:\n" + h.get("/api/status").body(),
            "/api/environments:\n" + h.get("/api/environments").body(),
            "/readyz:\n" + h.get(StatusServer.READY).body(),
            "webhook:\n" + String.join("\n", h.events),
            "--print-config:\n" + new Cli(dir).run("daemon", "--repo", url, "--print-config")));
        surfaces.addAll(stateFiles());
        for (String surface : surfaces) {
            for (String secret : secrets) assertThat(surface).as(form).doesNotContain(secret);
        }
        // Still useful: each place says what failed, and where.
        String where = "http://" + (userInfo.isEmpty() ? "" : "***@") + "127.0.0.1:";
        assertThat(h.get("/api/status").json().path("git").path("repository").asString()).startsWith(where);
        assertThat(h.get("/api/status").json().path("git").path("error").asString()).startsWith("cannot fetch http://127.0.0.1:")
            .contains(fetchable ? "not authorized" : "Invalid remote");
        if (fetchable) {
            assertThat(h.get("/api/environments").json().get(0).path("error").asString()).contains("not authorized");
        }
        assertThat(h.get(StatusServer.READY).status()).isEqualTo(503);
        assertThat(h.events("error")).hasSize(1);
        assertThat(h.logs.toString()).contains("cannot fetch http://127.0.0.1:");
        assertThat(new Cli(dir).run("daemon", "--repo", url, "--print-config").out().lines().filter(l -> l.startsWith("repo: ")))
            .singleElement().asString().contains(where);
        assertThat(Files.readString(cacheConfig())).contains("url = http://127.0.0.1:");
    }

    /** HTTPS to a server that answers in plain HTTP: TLS fails before any request, and the error names the URL. */
    @Test
    void aTokenIsNotShownWhenTheConnectionItselfFails() throws Exception {
        try (ServerSocket plain = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                while (!plain.isClosed()) {
                    try (java.net.Socket c = plain.accept()) {
                        c.getOutputStream().write("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "plain-http");
            t.setDaemon(true);
            t.start();
            String url = "https://SECRET-TLS-5@127.0.0.1:" + plain.getLocalPort() + "/repo.git";
            Reconciler r = h.start(h.config(url));
            r.tick();
            h.flushEvents();
            assertThat(h.get("/api/status").json().path("git").path("error").asString()).startsWith("cannot fetch https://127.0.0.1:");
            for (String surface : List.of(h.logs.toString(), h.get("/api/status").body(), h.get(StatusServer.READY).body(),
                String.join("\n", h.events), Files.readString(cacheConfig()))) {
                assertThat(surface).doesNotContain("SECRET-TLS-5");
            }
            assertThat(h.events("error")).hasSize(1);
        }
    }

    /** A cache written by an older mlctl stored the URL as given: opening it rewrites that. */
    @Test
    void aTokenStoredInTheCacheByAnOlderVersionIsRewritten() throws Exception {
        forge.requireBasic("SECRET-OLD-6", "");
        String url = forge.url("SECRET-OLD-6", "");
        Files.createDirectories(cacheConfig().getParent());
        try (Git old = Git.init().setBare(true).setDirectory(cacheConfig().getParent().toFile()).call()) {
            StoredConfig c = old.getRepository().getConfig();
            c.setString("remote", "origin", "url", url);
            c.setString("remote", "mirror", "pushurl", forge.url("u:SECRET-OLD-7", ""));
            c.save();
        }
        assertThat(Files.readString(cacheConfig())).contains("SECRET-OLD-6");
        Reconciler r = h.start(h.config(url));
        r.tick();
        assertThat(h.get("/api/environments").json().get(0).path("status").asString()).isEqualTo("synced");
        String stored = Files.readString(cacheConfig());
        assertThat(stored).doesNotContain("SECRET-OLD-6").doesNotContain("SECRET-OLD-7").contains("url = " + forge.url("***", ""))
            .contains("pushurl = " + forge.url("***", ""));
        for (String f : stateFiles()) assertThat(f).doesNotContain("SECRET-OLD");
    }

    /** Whatever a caller puts in an event, every string of it, at any depth, is redacted on the way out. */
    @Test
    void everyStringOfAWebhookPayloadIsRedacted() throws Exception {
        try (Notifier n = new Notifier(Optional.of(URI.create(h.hookUrl())), new DaemonLog(new PrintWriter(new StringWriter()), true, h.clock),
            1, Duration.ofMillis(1))) {
            ObjectNode ev = n.event("error").put("error", "cannot fetch https://SECRET-8@host/r.git: boom").put("count", 3);
            ev.putObject("detail").put("url", "https://host/r.git?private_token=SECRET-9").putArray("urls").add("https://u:SECRET-10@h/x").add(7);
            n.send(ev);
            assertThat(ev.path("error").asString()).as("the caller's event is left as it was").contains("SECRET-8");
            DaemonHarness.await(Duration.ofSeconds(10), () -> !h.events.isEmpty());
        }
        String body = h.events.get(0);
        assertThat(body).doesNotContain("SECRET").contains("https://***@host/r.git: boom").contains("private_token=***")
            .contains("\"urls\":[\"https://***@h/x\",7]").contains("\"count\":3");
    }

    /** The real command, as an operator starts it: its own log lines (start-up included) and its API. */
    @Test
    void theDaemonProcessNeverPrintsTheToken() throws Exception {
        forge.failWith(401);
        String url = forge.url("SECRET-PROC-11", "");
        Path log = dir.resolve("daemon.log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), "io.mlctl.cli.Main", "daemon", "--repo", url, "--sandbox", "--interval", "1s",
            "--listen", "127.0.0.1:0", "--state-dir", h.stateDir().toString(), "--notify", h.hookUrl()).directory(dir.toFile());
        pb.environment().put("MLCTL_SANDBOX", dir.resolve("sandbox").toString());
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        try {
            int port = DaemonProcessTest.listenPort(log, p, Duration.ofSeconds(60));
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            String[] status = {""};
            DaemonHarness.await(Duration.ofSeconds(30), () -> {
                try {
                    status[0] = http.send(java.net.http.HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/status")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                return status[0].contains("not authorized") && !h.events.isEmpty() && forge.requests.size() >= 2;
            });
            assertThat(status[0]).doesNotContain("SECRET-PROC-11");
        } finally {
            p.destroy();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        String out = Files.readString(log);
        assertThat(out).contains("mlctl daemon started").contains("cannot fetch http://127.0.0.1:").doesNotContain("SECRET-PROC-11");
        assertThat(String.join("\n", h.events)).doesNotContain("SECRET-PROC-11");
        for (String f : stateFiles()) assertThat(f).doesNotContain("SECRET-PROC-11");
    }

    private Path cacheConfig() {
        return h.stateDir().resolve(".daemon/repo.git/config");
    }

    /** Every file under the state directory, named and read byte for byte. */
    private List<String> stateFiles() throws IOException {
        try (Stream<Path> s = Files.walk(h.stateDir())) {
            List<String> out = new ArrayList<>();
            for (Path f : s.filter(Files::isRegularFile).toList()) {
                out.add(f + ":\n" + new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1));
            }
            assertThat(out).as("the state directory has files to look at").isNotEmpty();
            return out;
        }
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString();
    }
}
