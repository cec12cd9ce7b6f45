package io.mlctl.apply.locks;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.mlctl.apply.LockService;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** An environment's lock as a Kubernetes Lease ({@code --lock kubernetes}). Skeleton: H1 implements it. */
public final class KubernetesLeaseLocks implements LockService {
    private final KubernetesClient client;
    private final String namespace;
    private final String holder;
    private final Duration leaseDuration;

    public KubernetesLeaseLocks(KubernetesClient client, String namespace, String holder, Duration leaseDuration) {
        this.client = client;
        this.namespace = namespace;
        this.holder = holder;
        this.leaseDuration = leaseDuration;
    }

    /** In a pod: its service account and namespace; elsewhere the kubeconfig's current context. */
    public static KubernetesLeaseLocks connect(Optional<String> namespace, String holder) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public Held acquire(String environment, Path environmentStateDir, String purpose, Instant now) {
        throw new UnsupportedOperationException("not yet");
    }
}
