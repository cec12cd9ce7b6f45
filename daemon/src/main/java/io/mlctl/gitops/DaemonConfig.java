package io.mlctl.gitops;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything {@code mlctl daemon} is told: where the config repository is, how often to look, what to
 * apply, where to keep state, where to listen and whom to notify.
 */
public record DaemonConfig(
    String repo,
    String branch,
    String path,
    Duration interval,
    Duration driftInterval,
    String listen,
    boolean sandbox,
    Path stateDir,
    Optional<URI> webhook,
    Pattern branchPattern,
    Optional<String> publishBranch,
    String logFormat,
    Optional<Path> gitTokenFile,
    Optional<String> gitTokenEnv,
    Optional<Path> sshKey) {

    /** Whether a ref gets plan-only treatment as a pull request. */
    public boolean isReviewRef(String ref) {
        if (ref.equals("refs/heads/" + branch)) return false;
        if (publishBranch.isPresent() && ref.equals("refs/heads/" + publishBranch.get())) return false;
        return branchPattern.matcher(ref).matches();
    }

    /** "refs/heads/feature/x" → "feature/x", "refs/pull/7/head" → "pull/7". */
    public static String shortName(String ref) {
        if (ref.startsWith("refs/heads/")) return ref.substring("refs/heads/".length());
        if (ref.startsWith("refs/pull/") && ref.endsWith("/head")) return ref.substring("refs/".length(), ref.length() - "/head".length());
        return ref;
    }
}
