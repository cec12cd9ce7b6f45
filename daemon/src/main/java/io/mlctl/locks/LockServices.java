package io.mlctl.locks;

import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.util.Typos;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The lock a {@code --lock KIND} names: {@code file}, {@code kubernetes} or {@code s3://BUCKET/PREFIX}. */
public final class LockServices {
    public static final String FORMS = "file, kubernetes or s3://BUCKET/PREFIX";

    private LockServices() {
    }

    /**
     * @param holder who takes the locks, as others will read it in "locked by …" (a person and host, a replica id)
     * @param env the environment S3 credentials and endpoints are read from
     */
    public static LockService of(String spec, String holder, Map<String, String> env) {
        return of(spec, holder, env, Clock.systemUTC(), Optional.empty());
    }

    /** As {@link #of(String, String, Map)}, with the clock leases are written with and the Leases' namespace. */
    public static LockService of(String spec, String holder, Map<String, String> env, Clock clock, Optional<String> leaseNamespace) {
        String kind = spec == null ? "" : spec.trim();
        if (kind.isEmpty() || kind.equals("file")) return LockService.files();
        if (kind.equals("kubernetes")) return KubernetesLeaseLocks.connect(leaseNamespace, holder);
        if (kind.startsWith("s3://")) return S3Locks.connect(kind, holder, env, clock);
        throw new MlctlException("unknown lock '" + kind + "': use " + FORMS + hint(kind));
    }

    private static String hint(String kind) {
        String lower = kind.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("s3://")) return " (did you mean " + "s3://" + kind.substring(5) + "?)";
        if (lower.startsWith("s3:") || lower.startsWith("s3/")) return " (did you mean s3://" + kind.substring(3).replaceAll("^[:/]+", "") + "?)";
        if (kind.contains("://")) return "; S3 is the only object store a lock can live in";
        Optional<String> closest = Typos.closest(kind, List.of("file", "kubernetes"));
        return closest.filter(c -> Typos.distance(lower, c) <= Math.max(2, c.length() / 3)).map(c -> " (did you mean " + c + "?)").orElse("");
    }

    /** The holder a person's CLI writes into a lock: user, host and process. */
    public static String cliHolder(Map<String, String> env) {
        String user = Optional.ofNullable(env.get("USER")).or(() -> Optional.ofNullable(env.get("USERNAME"))).filter(u -> !u.isBlank()).orElse("someone");
        return user + "@" + host(env) + ", pid " + ProcessHandle.current().pid();
    }

    private static String host(Map<String, String> env) {
        String h = env.get("HOSTNAME");
        if (h != null && !h.isBlank()) return h;
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }

    /** Releases what a lock service keeps open (an S3 or Kubernetes client, renewal threads); the file lock keeps nothing. */
    public static void close(LockService locks) {
        if (locks instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                // Only clients and threads are closed here; every held lock was already released by its own close().
            }
        }
    }
}
