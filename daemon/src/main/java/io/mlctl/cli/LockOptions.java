package io.mlctl.cli;

import io.mlctl.apply.LockService;
import io.mlctl.locks.LockServices;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the environment lock lives, for the commands that take it (apply, destroy); the same flags as the daemon's. */
final class LockOptions {
    @Option(names = "--lock", paramLabel = "KIND", description = {
        "Where the environment lock lives (default $MLCTL_LOCK, else file): file = a lock file in the state directory (one machine); "
            + "kubernetes = a Lease (see --lease-namespace); s3://BUCKET/PREFIX = the object PREFIX/<env>.lock, made with a "
            + "conditional write and renewed while the apply runs (a dead holder's lock is taken over after 60 s). Give the daemon "
            + "the same --lock so that people's applies and the daemon replicas exclude each other."})
    String lock;

    @Option(names = "--lease-namespace", paramLabel = "NS", description = "Namespace of the Leases with --lock kubernetes "
        + "(default $MLCTL_LEASE_NAMESPACE, else the kubeconfig context's); the daemon's --lease-namespace.")
    String leaseNamespace;

    /** Flags, else MLCTL_LOCK / MLCTL_LEASE_NAMESPACE, else the file lock; the caller closes it with {@link LockServices#close}. */
    LockService open(Services s) {
        String kind = lock != null ? lock : s.env().get("MLCTL_LOCK");
        Optional<String> namespace = Optional.ofNullable(leaseNamespace).or(() -> Optional.ofNullable(s.env().get("MLCTL_LEASE_NAMESPACE")))
            .filter(n -> !n.isBlank());
        return LockServices.of(kind == null ? "file" : kind, LockServices.cliHolder(s.env()), s.env(), s.clock(), namespace);
    }
}
