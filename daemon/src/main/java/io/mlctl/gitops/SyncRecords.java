package io.mlctl.gitops;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The fingerprint of each environment's resolved spec as last made true in the cloud. A commit that
 * leaves an environment's spec as it was does not apply it (its drift is a drift check's business), and
 * a restarted or newly owning replica knows that too, so the record lives where the next owner finds it.
 */
public interface SyncRecords {
    /** Empty when nothing was ever recorded; throws when the record cannot be read. */
    Optional<String> applied(String environment);

    void applied(String environment, String specFingerprint);

    /** A file per environment in the state directory, for one machine. */
    static SyncRecords files(Path stateDir) {
        return new SyncRecords() {
            private Path file(String env) {
                return stateDir.resolve(env).resolve("daemon-applied");
            }

            @Override
            public Optional<String> applied(String environment) {
                try {
                    Path f = file(environment);
                    return Files.exists(f) ? Optional.of(Files.readString(f, StandardCharsets.UTF_8).trim()) : Optional.empty();
                } catch (IOException e) {
                    // Unknown is not "never applied" (applying could correct drift that selfHeal leaves alone): the caller waits.
                    throw new MlctlException("cannot read " + file(environment) + ": " + e.getMessage(), e);
                }
            }

            @Override
            public void applied(String environment, String specFingerprint) {
                Path f = file(environment);
                try {
                    Files.createDirectories(f.getParent());
                    Path tmp = f.resolveSibling("daemon-applied.tmp");
                    Files.writeString(tmp, specFingerprint + "\n", StandardCharsets.UTF_8);
                    Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException e) {
                    throw new MlctlException("cannot write " + f + ": " + e.getMessage(), e);
                }
            }
        };
    }
}
