package io.mlctl.gitops.kube;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.mlctl.MlctlException;
import io.mlctl.locks.Leases;
import io.mlctl.gitops.SyncRecords;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Each environment's applied spec fingerprint as an annotation on its lock Lease
 * ({@code mlctl-env-<env>}), so the replica that takes an environment over (or a restarted one, whose
 * state directory is new) knows it is applied and does not apply an unchanged spec again. Writing creates
 * the Lease when missing, without taking it, and replaces it at the version read, so a holder's renewal
 * in between is kept.
 */
public final class LeaseSyncRecords implements SyncRecords {
    public static final String ANNOTATION = "mlctl.io/applied-spec";

    private final Leases leases;

    public LeaseSyncRecords(KubernetesClient client, String namespace) {
        this.leases = new Leases(client, namespace);
    }

    @Override
    public Optional<String> applied(String environment) {
        try {
            return leases.get(Leases.environmentLease(environment)).map(l -> Leases.annotations(l).get(ANNOTATION));
        } catch (KubernetesClientException e) {
            // Unknown is not "never applied": the caller skips the environment this pass rather than re-apply it.
            throw new io.mlctl.MlctlException("cannot read the applied spec of environment " + environment + " from its Lease: "
                + io.mlctl.util.Redaction.text(String.valueOf(e.getMessage())).lines().findFirst().orElse(""));
        }
    }

    @Override
    public void applied(String environment, String specFingerprint) {
        String name = Leases.environmentLease(environment);
        try {
            for (int attempt = 0; attempt < 5; attempt++) {
                Optional<Lease> current = leases.get(name);
                Optional<Lease> done;
                if (current.isEmpty()) {
                    done = leases.create(new LeaseBuilder().withNewMetadata().withName(name)
                        .withLabels(Map.of(Leases.PART_OF, "mlctl", Leases.COMPONENT, Leases.ENVIRONMENT_COMPONENT))
                        .withAnnotations(Map.of(ANNOTATION, specFingerprint)).endMetadata().withNewSpec().endSpec().build());
                } else {
                    Lease l = current.get();
                    if (specFingerprint.equals(Leases.annotations(l).get(ANNOTATION))) return;
                    Map<String, String> a = new HashMap<>(Leases.annotations(l));
                    a.put(ANNOTATION, specFingerprint);
                    l.getMetadata().setAnnotations(a);
                    done = leases.replace(l);
                }
                if (done.isPresent()) return;
            }
        } catch (KubernetesClientException e) {
            throw new MlctlException("cannot record the applied spec of environment " + environment + " on " + leases.where(name) + ": "
                + leases.problem(e), e);
        }
        throw new MlctlException("cannot record the applied spec of environment " + environment + ": " + leases.where(name) + " kept changing");
    }
}
