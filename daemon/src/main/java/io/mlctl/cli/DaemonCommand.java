package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.locks.KubernetesLeaseLocks;
import io.mlctl.locks.Leases;
import io.mlctl.locks.LockServices;
import io.mlctl.gitops.Daemon;
import io.mlctl.gitops.DaemonConfig;
import io.mlctl.gitops.DaemonLog;
import io.mlctl.gitops.DaemonMetrics;
import io.mlctl.gitops.GitCredentials;
import io.mlctl.gitops.GitSource;
import io.mlctl.gitops.Membership;
import io.mlctl.gitops.SyncRecords;
import io.mlctl.gitops.Notifier;
import io.mlctl.gitops.PlanStore;
import io.mlctl.gitops.Reconciler;
import io.mlctl.gitops.StatusServer;
import io.mlctl.gitops.kube.LeaseMembership;
import io.mlctl.gitops.kube.LeaseSyncRecords;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.Values;
import io.mlctl.spec.YamlDocument;
import io.mlctl.spec.YamlLoader;
import io.mlctl.util.Durations;
import io.mlctl.util.Redaction;
import java.io.IOException;
import java.net.URI;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;

@Command(name = "daemon", mixinStandardHelpOptions = true,
    description = {"Watch a Git config repository and keep the clouds equal to what its deploy branch says.",
        "Each new commit of the deploy branch is validated, planned, and applied for environments with 'apply: auto'; "
            + "other branches (and pull-request heads) are planned and their plans published; every environment is re-planned "
            + "on the drift interval, and corrected when it says 'selfHeal: true'. Status, plans and Prometheus metrics are served on --listen.",
        "",
        "Every flag can also come from the environment (MLCTL_<FLAG>, e.g. MLCTL_REPO, MLCTL_DRIFT_INTERVAL) or from a YAML "
            + "config file (--config, keys named like the flags: repo, branch, interval, ...); a flag wins over the environment, "
            + "which wins over the file."})
final class DaemonCommand implements Callable<Integer> {
    static final String DEFAULT_LISTEN = "127.0.0.1:8080";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @ParentCommand MlctlCommand root;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--repo", paramLabel = "URL", description = "Config repository: file://, https:// or ssh:// URL.")
    String repo;
    @Option(names = "--branch", paramLabel = "NAME", description = "Deploy branch (default main).")
    String branch;
    @Option(names = "--path", paramLabel = "DIR", description = "Folder of the specs inside the repository (default: its root).")
    String path;
    @Option(names = "--interval", paramLabel = "DURATION", description = "How often to fetch, e.g. 60s, 2s, 5m (default 60s).")
    String interval;
    @Option(names = "--drift-interval", paramLabel = "DURATION", description = "How often to re-plan each environment for drift (default 10m).")
    String driftInterval;
    @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Status, API and metrics address (default " + DEFAULT_LISTEN + ").")
    String listen;
    @Option(names = "--sandbox", description = "Use the sandbox cloud instead of the real ones.")
    Boolean sandbox;
    @Option(names = "--state-dir", paramLabel = "DIR", description = "Journals, locks (shared with mlctl apply), Git cache and plans (default .mlctl/state).")
    String stateDir;
    @Option(names = "--notify", paramLabel = "URL", description = "Webhook receiving plan, apply, drift and error events as JSON POSTs.")
    String notifyUrl;
    @Option(names = "--branch-pattern", paramLabel = "REGEX", description = "Refs planned for review (default every branch; refs/pull/N/head too with --plan-pull-requests).")
    String branchPattern;
    @Option(names = "--publish-branch", paramLabel = "NAME", arity = "0..1", fallbackValue = "mlctl/plans",
        description = "Also commit plans to this branch as plans/<branch>/<env>.md (default name mlctl/plans).")
    String publishBranch;
    @Option(names = "--git-token-file", paramLabel = "FILE", description = "HTTPS token for the repository, read from this file.")
    String tokenFile;
    @Option(names = "--git-token-env", paramLabel = "VAR", description = "HTTPS token for the repository, read from this environment variable.")
    String tokenEnv;
    @Option(names = "--ssh-key", paramLabel = "FILE", description = "Private key for ssh:// repositories.")
    String sshKey;
    @Option(names = "--log-format", paramLabel = "FORMAT", description = "text (default) or json.")
    String logFormat;
    @Option(names = "--shutdown-grace", paramLabel = "DURATION", description = "How long SIGTERM waits for reconciles in flight before exiting "
        + "(default 60s); an apply cut short is resumed from its journal. Set terminationGracePeriodSeconds (or TimeoutStopSec) a little above it.")
    String shutdownGrace;
    @Option(names = "--concurrency", paramLabel = "N", description = "How many environments reconcile at once (default 4).")
    String concurrency;
    @Option(names = "--plan-pull-requests", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
        description = "Also plan pull-request heads (refs/pull/N/head), which include forks: anyone who can open a pull request then sees "
            + "the plans, and with them cloud ids and attributes. Off by default: branches of the repository itself are planned.")
    String planPullRequests;
    @Option(names = "--fetch-failure-grace", paramLabel = "DURATION", description = "How long fetches of the repository may fail before "
        + "/readyz reports it (default 5m). Status and metrics say so at once.")
    String fetchFailureGrace;
    @Option(names = "--api-token-file", paramLabel = "FILE", description = "Bearer token required on /api/*, read from this file. "
        + "Required when --listen is not a loopback address (health and metrics stay open).")
    String apiTokenFile;
    @Option(names = "--api-token-env", paramLabel = "VAR", description = "Bearer token required on /api/*, read from this environment variable.")
    String apiTokenEnv;
    @Option(names = "--lock", paramLabel = "KIND", description = "Where environment locks live: file (default: the state directory, one machine), "
        + "kubernetes (a Lease per environment; also shards environments across replicas), or s3://BUCKET/PREFIX (a conditional write).")
    String lock;
    @Option(names = "--replica-id", paramLabel = "NAME", description = "This replica's name among several (default: the host name and pid; "
        + "on Kubernetes the pod name).")
    String replicaId;
    @Option(names = "--lease-namespace", paramLabel = "NS", description = "Namespace of the Leases with --lock kubernetes (default: the pod's own).")
    String leaseNamespace;
    @Option(names = "--config", paramLabel = "FILE", description = "YAML file of flag values (also MLCTL_CONFIG).")
    String configFile;
    @Option(names = "--print-config", description = "Print the settings resolved from flags, environment and config file, then exit.")
    boolean printConfig;

    /** The flags the daemon understands, for docs and the tests that check deploy/ against them. */
    static final List<String> FLAGS = List.of("repo", "branch", "path", "interval", "drift-interval", "listen", "sandbox", "state-dir",
        "notify", "branch-pattern", "publish-branch", "git-token-file", "git-token-env", "ssh-key", "log-format", "shutdown-grace", "concurrency",
        "plan-pull-requests", "fetch-failure-grace", "api-token-file", "api-token-env", "lock", "replica-id", "lease-namespace", "config",
        "print-config");

    @Override
    public Integer call() throws Exception {
        Services s = root.services;
        DaemonConfig config = config(s);
        GitCredentials credentials = GitCredentials.of(config.gitTokenFile(), config.gitTokenEnv(), config.sshKey(), s.env());
        if (printConfig) {
            s.out().print(settings(config));
            s.out().flush();
            return 0;
        }
        requireWritableStateDir(config.stateDir());
        DaemonLog log = new DaemonLog(s.err(), "json".equals(config.logFormat()), s.clock());
        DaemonMetrics metrics = new DaemonMetrics();
        PlanStore plans = new PlanStore(config.stateDir().resolve(".daemon"));
        // Refused off loopback without a token before anything (Leases included) is started.
        Optional<String> apiToken = StatusServer.apiToken(config, s.env());
        Reconciler.Coordination coordination = coordination(config, s.env(), s.clock());
        try (GitSource git = new GitSource(config.repo(), config.stateDir().resolve(".daemon/repo.git"), credentials);
             Notifier notifier = new Notifier(config.webhook(), log, 5, Duration.ofSeconds(1))) {
            Reconciler reconciler = new Reconciler(config, git, dir -> new ConfigLoader(new YamlLoader(), s.schema(), s.catalog(), dir)
                .load(List.of(dir)), env -> s.driver(env, config.sandbox()), s.clock(), log, notifier, metrics, plans,
                new Reconciler.Assessment(s.catalog(), s.prices()), coordination);
            try (StatusServer server = new StatusServer(config.listen(), apiToken, reconciler, metrics, plans, s.clock(), config.interval())) {
                server.start();
                // The address bound, not the one asked for: with port 0 (any free one) this line is where the port is learnt.
                String listen = config.listen().substring(0, config.listen().lastIndexOf(':')) + ":" + server.port();
                log.info("mlctl daemon started", "repo", GitSource.redact(config.repo()), "branch", config.branch(), "interval", config.interval(),
                    "listen", listen, "sandbox", config.sandbox(), "credentials", credentials);
                Daemon daemon = new Daemon(reconciler, config.interval(), new Random(), log, config.shutdownGrace());
                // SIGTERM (Kubernetes, systemd): let the reconcile in flight finish, then exit 0.
                Thread hook = new Thread(() -> {
                    log.info("stopping");
                    daemon.close();
                    // After the reconciles in flight: the others take this replica's environments at their next refresh.
                    coordination.membership().close();
                }, "mlctl-shutdown");
                Runtime.getRuntime().addShutdownHook(hook);
                daemon.start();
                daemon.await();
                if (daemon.fatal().isPresent()) return 1;
            }
        } finally {
            coordination.membership().close();
        }
        return 0;
    }

    /**
     * The resolved settings as a --config file: keys are the flag names, durations are written as in flags,
     * and unset ones are comments. Credentials appear as where they are read from, never as values, and
     * URLs with their credentials masked (a repository URL that carries a token prints masked, so keep tokens
     * in --git-token-file). A default replica id is a comment too: pinned in a shared file, every replica
     * would take the same name.
     */
    static String settings(DaemonConfig c) {
        StringBuilder b = new StringBuilder("# mlctl daemon settings (flags win over MLCTL_* variables, which win over --config); "
            + "this text works as a --config file\n");
        java.util.function.BiConsumer<String, Optional<?>> line = (key, value) -> {
            if (value.isEmpty()) {
                b.append("# ").append(key).append(": not set\n");
            } else if (value.get() instanceof Boolean || value.get() instanceof Integer) {
                b.append(key).append(": ").append(value.get()).append('\n');
            } else {
                String text = value.get() instanceof Duration d ? Durations.format(d) : Redaction.text(value.get().toString());
                b.append(key).append(": ").append(yamlScalar(text)).append('\n');
            }
        };
        line.accept("repo", Optional.of(c.repo()));
        line.accept("branch", Optional.of(c.branch()));
        line.accept("path", Optional.of(c.path()));
        line.accept("interval", Optional.of(c.interval()));
        line.accept("drift-interval", Optional.of(c.driftInterval()));
        line.accept("listen", Optional.of(c.listen()));
        line.accept("sandbox", Optional.of(c.sandbox()));
        line.accept("state-dir", Optional.of(c.stateDir()));
        line.accept("notify", c.webhook());
        line.accept("branch-pattern", Optional.of(c.branchPattern().pattern()));
        line.accept("publish-branch", c.publishBranch());
        line.accept("git-token-file", c.gitTokenFile());
        line.accept("git-token-env", c.gitTokenEnv());
        line.accept("ssh-key", c.sshKey());
        line.accept("log-format", Optional.of(c.logFormat()));
        line.accept("shutdown-grace", Optional.of(c.shutdownGrace()));
        line.accept("concurrency", Optional.of(c.concurrency()));
        line.accept("plan-pull-requests", Optional.of(c.planPullRequests()));
        line.accept("fetch-failure-grace", Optional.of(c.fetchFailureGrace()));
        line.accept("api-token-file", c.apiTokenFile());
        line.accept("api-token-env", c.apiTokenEnv());
        line.accept("lock", Optional.of(c.lock()));
        if (c.replicaId().equals(DaemonConfig.builder(c.repo(), c.stateDir()).build().replicaId())) {
            b.append("# replica-id: ").append(c.replicaId()).append(" (the default: host name and process id)\n");
        } else {
            line.accept("replica-id", Optional.of(c.replicaId()));
        }
        line.accept("lease-namespace", c.leaseNamespace());
        return b.toString();
    }

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_./@~+-][A-Za-z0-9_./:@~+,-]*(?<!:)");

    /** {@code text} bare when YAML reads it back as the same text, else double-quoted (a JSON string is a YAML one). */
    static String yamlScalar(String text) {
        if (PLAIN.matcher(text).matches()) {
            try {
                List<YamlDocument> docs = new YamlLoader().loadString("v: " + text, "--print-config");
                Object back = docs.isEmpty() ? null : Values.fromJson(docs.get(0).root().get("v"));
                if (back != null && String.valueOf(back).equals(text)) return text;
            } catch (RuntimeException e) {
                // Not a plain scalar after all (a leading indicator such as '@' or '-'): quoted below.
            }
        }
        return JSON.writeValueAsString(text);
    }

    /**
     * Journals, locks, the Git cache and plans all live in the state directory: a missing or read-only one is an error at
     * start-up naming it, not a daemon that stays unready while it reports healthy.
     */
    static void requireWritableStateDir(Path dir) {
        String user = System.getProperty("user.name");
        String elsewhere = ", or choose another with --state-dir (MLCTL_STATE_DIR)";
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new MlctlException("cannot create the state directory " + dir + " (" + reason(e) + "): create it, writable by user "
                + user + elsewhere);
        }
        try {
            Files.delete(Files.createTempFile(dir, ".write-check", ""));
        } catch (IOException e) {
            throw new MlctlException("the state directory " + dir + " is not writable by user " + user + " (" + reason(e) + "): give "
                + user + " write access to it" + elsewhere);
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof FileAlreadyExistsException) return "a file, not a directory, is in the way";
        if (e instanceof NoSuchFileException) return "no such file or directory";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason().toLowerCase(Locale.ROOT);
        return e.getClass().getSimpleName();
    }

    /**
     * How this replica shares work with others: on one machine the file lock; with {@code --lock kubernetes}
     * a Lease per environment (shared with a person's mlctl apply), a member Lease per replica to shard the
     * environments, and the applied spec on the environment's Lease so a new owner does not re-apply it.
     */
    static Reconciler.Coordination coordination(DaemonConfig config, Map<String, String> env, java.time.Clock clock) {
        String lock = config.lock();
        if (lock.equals("file")) return Reconciler.Coordination.local(config);
        if (lock.equals("kubernetes")) {
            Leases leases = Leases.connect(config.leaseNamespace());
            Duration lease = KubernetesLeaseLocks.DEFAULT_LEASE;
            return new Reconciler.Coordination(new KubernetesLeaseLocks(leases.client(), leases.namespace(), config.replicaId(), lease),
                new LeaseMembership(leases.client(), leases.namespace(), config.replicaId(), lease),
                new LeaseSyncRecords(leases.client(), leases.namespace()));
        }
        if (lock.startsWith("s3://")) {
            // The lock next to the cloud; one replica owns every environment (membership needs Kubernetes).
            return new Reconciler.Coordination(LockServices.of(lock, config.replicaId(), env, clock, config.leaseNamespace()),
                Membership.single(config.replicaId()), SyncRecords.files(config.stateDir()));
        }
        throw new MlctlException("--lock must be file, kubernetes or s3://BUCKET/PREFIX, not '" + lock + "'");
    }

    DaemonConfig config(Services s) {
        Map<String, Object> file = Map.of();
        Optional<String> cf = Optional.ofNullable(configFile).or(() -> Optional.ofNullable(s.env().get("MLCTL_CONFIG")));
        if (cf.isPresent()) file = readConfig(s.resolve(cf.get()));
        final Map<String, Object> fileValues = file;
        java.util.function.BiFunction<String, String, Optional<String>> get = (name, flag) -> {
            if (flag != null) return Optional.of(flag);
            String env = s.env().get("MLCTL_" + name.toUpperCase(Locale.ROOT).replace('-', '_'));
            if (env != null && !env.isBlank()) return Optional.of(env);
            Object v = fileValues.get(name);
            return v == null ? Optional.empty() : Optional.of(String.valueOf(v));
        };
        String repoUrl = get.apply("repo", repo).orElseThrow(() -> new MlctlException("--repo is required (or MLCTL_REPO, or repo: in --config)"));
        if (repoUrl.startsWith("/")) repoUrl = "file://" + repoUrl;
        Pattern pattern = get.apply("branch-pattern", branchPattern).map(Pattern::compile).orElse(DaemonConfig.DEFAULT_BRANCH_PATTERN);
        String format = get.apply("log-format", logFormat).orElse("text");
        if (!format.equals("text") && !format.equals("json")) throw new MlctlException("--log-format must be text or json, not " + format);
        Optional<String> publish = publishBranch != null ? Optional.of(publishBranch)
            : get.apply("publish-branch", null).map(v -> v.isBlank() || v.equals("true") ? "mlctl/plans" : v);
        DaemonConfig.Builder b = DaemonConfig.builder(repoUrl, s.stateDir(get.apply("state-dir", stateDir).map(Path::of).orElse(null)))
            .branch(get.apply("branch", branch).orElse("main"))
            .path(get.apply("path", path).orElse("."))
            .interval(duration(get.apply("interval", interval).orElse("60s"), "--interval"))
            .driftInterval(duration(get.apply("drift-interval", driftInterval).orElse("10m"), "--drift-interval"))
            .listen(get.apply("listen", listen).orElse(DEFAULT_LISTEN))
            .sandbox(sandbox(s, fileValues))
            .webhook(get.apply("notify", notifyUrl).map(URI::create))
            .branchPattern(pattern).publishBranch(publish).logFormat(format)
            .gitTokenFile(get.apply("git-token-file", tokenFile).map(s::resolve))
            .gitTokenEnv(get.apply("git-token-env", tokenEnv))
            .sshKey(get.apply("ssh-key", sshKey).map(s::resolve))
            .shutdownGrace(duration(get.apply("shutdown-grace", shutdownGrace).orElse("60s"), "--shutdown-grace"))
            .concurrency(positive(get.apply("concurrency", concurrency).orElse("4"), "--concurrency"))
            .planPullRequests(bool(get.apply("plan-pull-requests", planPullRequests).orElse("false"), "--plan-pull-requests"))
            .fetchFailureGrace(duration(get.apply("fetch-failure-grace", fetchFailureGrace).orElse("5m"), "--fetch-failure-grace"))
            .apiTokenFile(get.apply("api-token-file", apiTokenFile).map(s::resolve))
            .apiTokenEnv(get.apply("api-token-env", apiTokenEnv))
            .lock(get.apply("lock", lock).orElse("file"))
            .leaseNamespace(get.apply("lease-namespace", leaseNamespace));
        get.apply("replica-id", replicaId).ifPresent(b::replicaId);
        return b.build();
    }

    /**
     * The CLI reads MLCTL_SANDBOX as the sandbox's directory, so a path there says nothing about this setting (reading it
     * as "false" would send a daemon configured for the sandbox to the real clouds): only true/false words count.
     */
    private boolean sandbox(Services s, Map<String, Object> file) {
        if (sandbox != null) return sandbox;
        String env = s.env().get("MLCTL_SANDBOX");
        if (env != null && env.trim().toLowerCase(Locale.ROOT).matches("true|false|yes|no|1|0")) return bool(env, "MLCTL_SANDBOX");
        Object v = file.get("sandbox");
        return v != null && bool(String.valueOf(v), "sandbox");
    }

    private static int positive(String text, String flag) {
        try {
            int n = Integer.parseInt(text.trim());
            if (n >= 1) return n;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new MlctlException(flag + ": '" + text + "' is not a positive whole number");
    }

    private static boolean bool(String text, String flag) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1" -> true;
            case "false", "no", "0" -> false;
            default -> throw new MlctlException(flag + ": '" + text + "' is not true or false");
        };
    }

    private static Map<String, Object> readConfig(Path f) {
        if (!Files.isRegularFile(f)) throw new MlctlException("config file " + f + " does not exist");
        List<YamlDocument> docs = new YamlLoader().load(f, f.toString());
        if (docs.isEmpty() || !docs.get(0).root().isObject()) throw new MlctlException(f + ": expected a mapping of flag names to values");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) Values.fromJson(docs.get(0).root());
        for (String k : m.keySet()) {
            if (!FLAGS.contains(k)) throw new MlctlException(f + ": unknown setting '" + k + "' (settings: " + String.join(", ", FLAGS) + ")");
        }
        return m;
    }

    /** "500ms", "2s", "5m", "1h", or an ISO-8601 duration. */
    static Duration duration(String text, String flag) {
        try {
            String t = text.trim().toLowerCase(Locale.ROOT);
            // ISO-8601 first: "PT2S" ends in s too.
            if (t.startsWith("p") || t.startsWith("-p")) return Duration.parse(text.trim());
            if (t.endsWith("ms")) return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            if (t.endsWith("s")) return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            if (t.endsWith("m")) return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)) * 60);
            if (t.endsWith("h")) return Duration.ofHours(Long.parseLong(t.substring(0, t.length() - 1)));
            return Duration.parse(text);
        } catch (RuntimeException e) {
            throw new MlctlException(flag + ": '" + text + "' is not a duration (examples: 500ms, 2s, 5m, 1h)");
        }
    }
}
