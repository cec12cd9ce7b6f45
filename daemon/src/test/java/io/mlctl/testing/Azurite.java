package io.mlctl.testing;

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
import java.util.List;
import java.util.Optional;
import org.opentest4j.TestAbortedException;

/**
 * Azurite, Microsoft's Azure Storage emulator, serving the blob API for tests: one
 * {@code azurite-blob} per test run on a free loopback port, in memory, killed when the run ends.
 * It is the npm package under {@code src/test/azurite} ({@code npm ci} there; {@code .ci/run} does it).
 * Tests get it from {@link #shared}. Where it is not installed the tests that need it are skipped, saying
 * why, unless {@code MLCTL_REQUIRE_AZURITE=1} (as in CI), where that is a failure.
 */
public final class Azurite {
    /** The account Azurite serves by default. */
    public static final String ACCOUNT = "devstoreaccount1";

    /** The running emulator. */
    public static final class Instance implements AutoCloseable {
        private final Process process;
        private final int port;

        Instance(Process process, int port) {
            this.process = process;
            this.port = port;
        }

        /** The blob endpoint of {@link #ACCOUNT}: {@code http://127.0.0.1:<port>/devstoreaccount1}. */
        public String blobEndpoint() {
            return "http://127.0.0.1:" + port + "/" + ACCOUNT;
        }

        @Override
        public void close() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    /** Where {@code azurite-blob} is installed, whether the tests run from the module or from the repository root. */
    static Optional<Path> executable() {
        for (String dir : List.of("src/test/azurite", "daemon/src/test/azurite")) {
            Path p = Path.of(dir, "node_modules", ".bin", "azurite-blob");
            if (Files.isExecutable(p)) return Optional.of(p.toAbsolutePath());
        }
        return Optional.empty();
    }

    static Instance start() throws Exception {
        Optional<Path> exe = executable();
        if (exe.isEmpty()) {
            String why = "Azurite is not installed: run 'npm ci' in daemon/src/test/azurite (.ci/run does) for the tests against the blob data plane";
            if ("1".equals(System.getenv("MLCTL_REQUIRE_AZURITE"))) throw new IllegalStateException(why);
            System.out.println("SKIPPED: " + why);
            throw new TestAbortedException(why);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("azurite-", ".log");
        ProcessBuilder pb = new ProcessBuilder(exe.get().toString(), "--blobHost", "127.0.0.1", "--blobPort", Integer.toString(port),
            "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--loose");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        URI probe = URI.create("http://127.0.0.1:" + port + "/" + ACCOUNT + "?comp=list");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IllegalStateException("azurite-blob exited at start: " + Files.readString(log));
            try {
                // Unsigned, the list is refused (403): any answer from Azurite means it serves.
                HttpResponse<Void> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(probe).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding());
                // A stale server on this port would answer too: make sure ours is the one alive.
                if (r.headers().firstValue("Server").orElse("").startsWith("Azurite") && p.isAlive()) return new Instance(p, port);
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("azurite-blob did not answer on port " + port + " within 60 s: " + Files.readString(log));
    }

    private static Instance shared;

    /**
     * The run's emulator, started on first use and killed when the JVM exits. Call it from a test (or
     * a {@code @BeforeAll}/{@code @BeforeEach}): where Azurite is not installed it aborts the test, saying why.
     */
    public static synchronized Instance shared() {
        if (shared != null && shared.process.isAlive()) return shared;
        try {
            Instance started = start();
            Runtime.getRuntime().addShutdownHook(new Thread(started::close, "azurite-stop"));
            shared = started;
            return started;
        } catch (TestAbortedException | IllegalStateException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("azurite-blob could not start: " + e.getMessage(), e);
        }
    }
}
