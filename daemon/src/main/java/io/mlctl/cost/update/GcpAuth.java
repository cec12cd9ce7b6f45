package io.mlctl.cost.update;

import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import java.io.IOException;
import java.util.Map;
import java.util.function.Supplier;

/**
 * How a refresh authenticates to the Cloud Billing Catalog: an API key from {@code MLCTL_GCP_API_KEY} in the
 * {@code X-Goog-Api-Key} header, else an OAuth token of Application Default Credentials (as gcloud and the
 * GCP driver find them). The value is only ever a header: never a URL, never a message.
 */
final class GcpAuth {
    static final String KEY_VARIABLE = "MLCTL_GCP_API_KEY";
    static final String SCOPE = "https://www.googleapis.com/auth/cloud-billing.readonly";

    private GcpAuth() {
    }

    static Supplier<Map<String, String>> fromEnvironment(Map<String, String> env) {
        return () -> {
            String key = env.get(KEY_VARIABLE);
            if (key != null && !key.isBlank()) return Map.of("X-Goog-Api-Key", key.strip());
            try {
                GoogleCredentials c = GoogleCredentials.getApplicationDefault().createScoped(SCOPE);
                c.refreshIfExpired();
                AccessToken t = c.getAccessToken();
                if (t == null) throw new IOException("no access token");
                return Map.of("Authorization", "Bearer " + t.getTokenValue());
            } catch (IOException | RuntimeException e) {
                throw new PriceSourceException(GcpBillingCatalog.NAME, "needs an API key in " + KEY_VARIABLE
                    + " or Application Default Credentials (gcloud auth application-default login); none found");
            }
        };
    }
}
