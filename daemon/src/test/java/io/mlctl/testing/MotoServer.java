package io.mlctl.testing;

import java.io.File;
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
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A real AWS API emulator for tests: one {@code moto_server} per test run on a free loopback port,
 * reset before each test, killed when the run ends. Tests take it as a parameter.
 */
public final class MotoServer implements BeforeEachCallback, ParameterResolver {
    /** The running server, shared by every test class of the run. */
    public static final class Instance implements ExtensionContext.Store.CloseableResource, AutoCloseable {
        private final Process process;
        private final URI endpoint;
        private final Path log;

        Instance(Process process, URI endpoint, Path log) {
            this.process = process;
            this.endpoint = endpoint;
            this.log = log;
        }

        public URI endpoint() {
            return endpoint;
        }

        public void reset() {
            post(endpoint.resolve("/moto-api/reset"));
        }

        @Override
        public void close() {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private static Instance start() throws Exception {
        String exe = findOnPath("moto_server");
        if (exe == null) {
            throw new IllegalStateException("moto_server is not installed: the AWS tests need it (pip install \"moto[server]\"; see README)");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("moto-", ".log");
        ProcessBuilder pb = new ProcessBuilder(exe, "-H", "127.0.0.1", "-p", Integer.toString(port));
        // EKS node groups attach AWS-managed policies, which moto only knows when asked to load them.
        pb.environment().put("MOTO_IAM_LOAD_MANAGED_POLICIES", "true");
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process p = pb.start();
        URI endpoint = URI.create("http://127.0.0.1:" + port);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) throw new IllegalStateException("moto_server exited at start: " + Files.readString(log));
            try {
                HttpResponse<Void> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(endpoint.resolve("/moto-api/"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                // A stale server on this port would answer too: make sure ours is the one alive.
                if (r.statusCode() == 200 && p.isAlive()) return new Instance(p, endpoint, log);
            } catch (IOException e) {
                Thread.sleep(100);
            }
        }
        p.destroyForcibly();
        throw new IllegalStateException("moto_server did not answer on " + endpoint + " within 60 s");
    }

    private static String findOnPath(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(dir, name);
            if (f.canExecute()) return f.getAbsolutePath();
        }
        return null;
    }

    static void post(URI uri) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody())
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) throw new IllegalStateException("POST " + uri + " answered " + r.statusCode());
        } catch (IOException e) {
            throw new IllegalStateException("POST " + uri + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Instance instance(ExtensionContext context) {
        return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).getOrComputeIfAbsent(Instance.class, k -> {
            try {
                return start();
            } catch (Exception e) {
                throw new IllegalStateException(e.getMessage(), e);
            }
        }, Instance.class);
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        instance(context).reset();
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
        return p.getParameter().getType() == Instance.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext c) {
        return instance(c);
    }
}
