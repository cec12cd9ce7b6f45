package io.mlctl.apply;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Where "one apply at a time per environment" is enforced. The default is a file lock on the state
 * directory (one machine); {@code --lock kubernetes} and {@code --lock s3://…} keep the lock next to the
 * cloud, so a person's CLI and daemon replicas on other machines exclude each other too.
 */
public interface LockService {
    /**
     * Takes the environment's lock or throws {@link LockedException} naming the holder.
     * {@code environmentStateDir} is where the file lock lives; other services ignore it.
     */
    Held acquire(String environment, Path environmentStateDir, String purpose, Instant now);

    /** A held lock. */
    interface Held extends AutoCloseable {
        /**
         * Throws when the lock is known to be lost (a lease that could not be renewed), so an apply stops
         * before its next step instead of racing whoever holds it now.
         */
        default void check() { }

        @Override
        void close();
    }

    /** The file lock, for one machine. */
    static LockService files() {
        return EnvironmentLock::acquire;
    }
}
