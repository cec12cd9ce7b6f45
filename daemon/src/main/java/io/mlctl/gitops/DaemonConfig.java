package io.mlctl.gitops;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Everything {@code mlctl daemon} is told: where the config repository is, how often to look, what to
 * apply, where to keep state, where to listen and whom to notify. Built with {@link #builder}, whose
 * defaults are the daemon's.
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
    Optional<Path> sshKey,
    /* How long SIGTERM waits for the reconciles in flight (an interrupted apply is resumed from its journal). */
    Duration shutdownGrace,
    /* How many environments reconcile at once. */
    int concurrency,
    /* Whether refs/pull/N/head (pull requests, forks included) are fetched and planned. */
    boolean planPullRequests,
    /* How long fetches may fail before /readyz says so. */
    Duration fetchFailureGrace,
    /* Bearer token for /api/* (required when listening off loopback): read from this file or variable. */
    Optional<Path> apiTokenFile,
    Optional<String> apiTokenEnv,
    /* file (default), kubernetes, or s3://bucket/prefix: where environment locks live. */
    String lock,
    /* This replica's name among several (Kubernetes: the pod name). */
    String replicaId,
    /* The namespace of the Leases (--lock kubernetes). */
    Optional<String> leaseNamespace) {

    public static final Pattern DEFAULT_BRANCH_PATTERN = Pattern.compile("refs/heads/.*|refs/pull/[^/]+/head");

    /** Whether a ref gets plan-only treatment as a review branch. Pull-request heads only when the operator opted in. */
    public boolean isReviewRef(String ref) {
        if (ref.equals("refs/heads/" + branch)) return false;
        if (publishBranch.isPresent() && ref.equals("refs/heads/" + publishBranch.get())) return false;
        if (ref.startsWith("refs/pull/") && !planPullRequests) return false;
        return branchPattern.matcher(ref).matches();
    }

    /** "refs/heads/feature/x" → "feature/x", "refs/pull/7/head" → "pull/7". */
    public static String shortName(String ref) {
        if (ref.startsWith("refs/heads/")) return ref.substring("refs/heads/".length());
        if (ref.startsWith("refs/pull/") && ref.endsWith("/head")) return ref.substring("refs/".length(), ref.length() - "/head".length());
        return ref;
    }

    public static Builder builder(String repo, Path stateDir) {
        return new Builder(repo, stateDir);
    }

    public Builder toBuilder() {
        Builder b = new Builder(repo, stateDir);
        b.branch = branch;
        b.path = path;
        b.interval = interval;
        b.driftInterval = driftInterval;
        b.listen = listen;
        b.sandbox = sandbox;
        b.webhook = webhook;
        b.branchPattern = branchPattern;
        b.publishBranch = publishBranch;
        b.logFormat = logFormat;
        b.gitTokenFile = gitTokenFile;
        b.gitTokenEnv = gitTokenEnv;
        b.sshKey = sshKey;
        b.shutdownGrace = shutdownGrace;
        b.concurrency = concurrency;
        b.planPullRequests = planPullRequests;
        b.fetchFailureGrace = fetchFailureGrace;
        b.apiTokenFile = apiTokenFile;
        b.apiTokenEnv = apiTokenEnv;
        b.lock = lock;
        b.replicaId = replicaId;
        b.leaseNamespace = leaseNamespace;
        return b;
    }

    /** The daemon's defaults, overridden one setting at a time. */
    public static final class Builder {
        private final String repo;
        private final Path stateDir;
        private String branch = "main";
        private String path = ".";
        private Duration interval = Duration.ofSeconds(60);
        private Duration driftInterval = Duration.ofMinutes(10);
        private String listen = "127.0.0.1:8080";
        private boolean sandbox;
        private Optional<URI> webhook = Optional.empty();
        private Pattern branchPattern = DEFAULT_BRANCH_PATTERN;
        private Optional<String> publishBranch = Optional.empty();
        private String logFormat = "text";
        private Optional<Path> gitTokenFile = Optional.empty();
        private Optional<String> gitTokenEnv = Optional.empty();
        private Optional<Path> sshKey = Optional.empty();
        private Duration shutdownGrace = Duration.ofSeconds(60);
        private int concurrency = 4;
        private boolean planPullRequests;
        private Duration fetchFailureGrace = Duration.ofMinutes(5);
        private Optional<Path> apiTokenFile = Optional.empty();
        private Optional<String> apiTokenEnv = Optional.empty();
        private String lock = "file";
        private String replicaId = defaultReplicaId();
        private Optional<String> leaseNamespace = Optional.empty();

        private Builder(String repo, Path stateDir) {
            this.repo = repo;
            this.stateDir = stateDir;
        }

        public Builder branch(String v) { branch = v; return this; }
        public Builder path(String v) { path = v; return this; }
        public Builder interval(Duration v) { interval = v; return this; }
        public Builder driftInterval(Duration v) { driftInterval = v; return this; }
        public Builder listen(String v) { listen = v; return this; }
        public Builder sandbox(boolean v) { sandbox = v; return this; }
        public Builder webhook(Optional<URI> v) { webhook = v; return this; }
        public Builder branchPattern(Pattern v) { branchPattern = v; return this; }
        public Builder publishBranch(Optional<String> v) { publishBranch = v; return this; }
        public Builder logFormat(String v) { logFormat = v; return this; }
        public Builder gitTokenFile(Optional<Path> v) { gitTokenFile = v; return this; }
        public Builder gitTokenEnv(Optional<String> v) { gitTokenEnv = v; return this; }
        public Builder sshKey(Optional<Path> v) { sshKey = v; return this; }
        public Builder shutdownGrace(Duration v) { shutdownGrace = v; return this; }
        public Builder concurrency(int v) { concurrency = v; return this; }
        public Builder planPullRequests(boolean v) { planPullRequests = v; return this; }
        public Builder fetchFailureGrace(Duration v) { fetchFailureGrace = v; return this; }
        public Builder apiTokenFile(Optional<Path> v) { apiTokenFile = v; return this; }
        public Builder apiTokenEnv(Optional<String> v) { apiTokenEnv = v; return this; }
        public Builder lock(String v) { lock = v; return this; }
        public Builder replicaId(String v) { replicaId = v; return this; }
        public Builder leaseNamespace(Optional<String> v) { leaseNamespace = v; return this; }

        public DaemonConfig build() {
            return new DaemonConfig(repo, branch, path, interval, driftInterval, listen, sandbox, stateDir, webhook, branchPattern, publishBranch,
                logFormat, gitTokenFile, gitTokenEnv, sshKey, shutdownGrace, concurrency, planPullRequests, fetchFailureGrace, apiTokenFile,
                apiTokenEnv, lock, replicaId, leaseNamespace);
        }
    }

    /** The pod name on Kubernetes (HOSTNAME), else host and pid: unique among replicas either way. */
    static String defaultReplicaId() {
        String h = System.getenv("HOSTNAME");
        if (h == null || h.isBlank()) {
            try {
                h = java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.io.IOException e) {
                h = "localhost";
            }
        }
        return h + "-" + ProcessHandle.current().pid();
    }
}
