package io.mlctl.cli;

import io.mlctl.apply.LockService;
import io.mlctl.apply.locks.LockServices;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Where the environment lock lives, for the commands that take it (apply, destroy). */
final class LockOptions {
    @Option(names = "--lock", paramLabel = "KIND", description = {
        "Where the environment lock lives (default $MLCTL_LOCK, else file): file = a lock file in the state directory (one machine); "
            + "kubernetes = a Lease in the current kubeconfig context; s3://BUCKET/PREFIX = the object PREFIX/<env>.lock, made with a "
            + "conditional write and renewed while the apply runs (a dead holder's lock is taken over after 60 s). Use the daemon's --lock "
            + "so that a person's apply and the daemon replicas exclude each other."})
    String lock;

    /** The flag, else MLCTL_LOCK, else the file lock; the caller closes it with {@link LockServices#close}. */
    LockService open(Services s) {
        String kind = lock != null ? lock : s.env().get("MLCTL_LOCK");
        return LockServices.of(kind == null ? "file" : kind, LockServices.cliHolder(s.env()), s.env(), s.clock(), Optional.empty());
    }
}
