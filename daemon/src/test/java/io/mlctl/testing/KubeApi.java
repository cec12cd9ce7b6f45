package io.mlctl.testing;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * fabric8's Kubernetes mock server in CRUD mode on a free loopback port: a real HTTP API that stores what
 * it is sent and refuses a replace at a stale resourceVersion with 409, as the API server does.
 */
public final class KubeApi implements AutoCloseable {
    public static final String NAMESPACE = "mlctl";
    /** The mock server logs every request through java.util.logging; kept so the setting is not collected. */
    private static final Logger QUIET = Logger.getLogger("io.fabric8.mockwebserver");

    static {
        QUIET.setLevel(Level.WARNING);
    }

    private final KubernetesMockServer server;
    private final List<KubernetesClient> clients = new ArrayList<>();
    private KubernetesClient kubectl;

    public KubeApi() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), 0);
    }

    public String url() {
        return "http://127.0.0.1:" + server.getPort();
    }

    public int port() {
        return server.getPort();
    }

    /** A client of its own (each daemon replica has one), at 127.0.0.1, failing fast like the daemon's. */
    public synchronized KubernetesClient client() {
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(url()).withNamespace(NAMESPACE).withRequestRetryBackoffLimit(0)
            .withConnectionTimeout(2_000).withRequestTimeout(5_000).build();
        KubernetesClient c = new KubernetesClientBuilder().withConfig(config).build();
        clients.add(c);
        return c;
    }

    /** The test's own client, for looking at and editing Leases as kubectl would. */
    public synchronized KubernetesClient kubectl() {
        if (kubectl == null) kubectl = client();
        return kubectl;
    }

    public Optional<Lease> lease(String name) {
        return Optional.ofNullable(kubectl().leases().inNamespace(NAMESPACE).withName(name).get());
    }

    public List<Lease> leases() {
        return kubectl().leases().inNamespace(NAMESPACE).list().getItems();
    }

    /** Stops answering (an API server outage). */
    public void stop() {
        server.destroy();
    }

    @Override
    public synchronized void close() {
        clients.forEach(KubernetesClient::close);
        server.destroy();
    }
}
