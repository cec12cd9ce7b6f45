package io.mlctl.provider.gcp;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Where the GCP driver talks: the project from the spec, else {@code GOOGLE_CLOUD_PROJECT} /
 * {@code CLOUDSDK_CORE_PROJECT} / Application Default Credentials, as gcloud finds it; endpoints from
 * gcloud's {@code CLOUDSDK_API_ENDPOINT_OVERRIDES_<SERVICE>} and {@code STORAGE_EMULATOR_HOST}.
 * Credentials only ever come from Application Default Credentials, never from the spec; an endpoint
 * overridden to plain {@code http://} (a local fake) is spoken to without any.
 */
public record GcpSettings(Map<String, String> environment) {
    public static GcpSettings fromEnvironment(Map<String, String> env) {
        return new GcpSettings(Map.copyOf(env));
    }

    /**
     * The override for a gcloud service name ("compute", "container", "iam", "cloudresourcemanager",
     * "aiplatform", "storage"), as a URI; its path (gcloud's overrides end in {@code /compute/v1/})
     * is ignored: the client libraries add their own.
     */
    public Optional<URI> endpoint(String service) {
        String v = environment.get("CLOUDSDK_API_ENDPOINT_OVERRIDES_" + service.toUpperCase(Locale.ROOT));
        if ((v == null || v.isBlank()) && service.equals("storage")) v = environment.get("STORAGE_EMULATOR_HOST");
        if (v == null || v.isBlank()) return Optional.empty();
        if (!v.contains("://")) v = "http://" + v; // STORAGE_EMULATOR_HOST may be host:port
        return Optional.of(URI.create(v));
    }

    /** Whether a service is reached over plain HTTP (a local fake): then no credentials are sent. */
    public boolean plaintext(String service) {
        return endpoint(service).map(u -> "http".equals(u.getScheme())).orElse(false);
    }

    /** host:port of an overridden endpoint, as gax wants it. */
    public Optional<String> hostPort(String service) {
        return endpoint(service).map(u -> u.getHost() + ":" + (u.getPort() > 0 ? u.getPort() : "http".equals(u.getScheme()) ? 80 : 443));
    }

    /** The project named by the environment (gcloud's variables), if any. */
    public Optional<String> projectFromEnvironment() {
        for (String k : new String[] {"GOOGLE_CLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "GCLOUD_PROJECT"}) {
            String v = environment.get(k);
            if (v != null && !v.isBlank()) return Optional.of(v.trim());
        }
        return Optional.empty();
    }

    /** Never the environment's values: they may hold credentials paths and tokens. */
    @Override
    public String toString() {
        return "GcpSettings[compute=" + endpoint("compute").map(URI::toString).orElse("default") + "]";
    }
}
