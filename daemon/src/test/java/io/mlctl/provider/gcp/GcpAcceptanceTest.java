package io.mlctl.provider.gcp;

import io.mlctl.testing.Acceptance;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real Google Cloud project, only when asked: MLCTL_ACCEPTANCE_GCP=1, GOOGLE_CLOUD_PROJECT,
 * and Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS or gcloud's ADC file), with no
 * endpoint override pointing elsewhere. It creates a bucket and a service account with a bucket-level
 * grant (no charge at rest), plans again, and destroys them. Skipped otherwise, saying why.
 */
class GcpAcceptanceTest {
    @TempDir
    Path dir;

    @Test
    void smallEnvironmentOnRealGcp() {
        Map<String, String> env = System.getenv();
        String skip = !"1".equals(env.get("MLCTL_ACCEPTANCE_GCP")) ? "set MLCTL_ACCEPTANCE_GCP=1 to run it"
            : env.get("GOOGLE_CLOUD_PROJECT") == null ? "no GOOGLE_CLOUD_PROJECT in the environment"
            : !hasApplicationDefaultCredentials() ? "no Application Default Credentials "
                + "(GOOGLE_APPLICATION_CREDENTIALS, 'gcloud auth application-default login', or the metadata server)"
            : env.keySet().stream().anyMatch(k -> k.startsWith("CLOUDSDK_API_ENDPOINT_OVERRIDES_") || k.equals("STORAGE_EMULATOR_HOST"))
                ? "an endpoint override points somewhere else than Google" : null;
        Acceptance.skipUnless("GcpAcceptanceTest", skip);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Path spec = Fixtures.write(dir, "acceptance.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: mlctl-acc-%s, labels: {purpose: mlctl-acceptance}}
            spec:
              provider: gcp
              region: %s
              resources:
                - {type: bucket, name: mlctl-acc-%s, versioning: true, lifecycle: [{expireDays: 1}]}
                - {type: identity, name: reader, grants: [{actions: [storage.read], resource: bucket/mlctl-acc-%s}]}
            """.formatted(suffix, env.getOrDefault("CLOUDSDK_COMPUTE_REGION", "us-central1"), suffix, suffix));
        Cli cli = new Cli(dir);
        env.forEach((k, v) -> {
            if (k.startsWith("GOOGLE_") || k.startsWith("CLOUDSDK_") || k.equals("HOME")) cli.env(k, v);
        });
        Acceptance.applyPlanDestroy(cli, spec);
    }

    /** As the client libraries look for them: key file, gcloud's ADC file, metadata server, workload identity. */
    private static boolean hasApplicationDefaultCredentials() {
        try {
            com.google.auth.oauth2.GoogleCredentials.getApplicationDefault();
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
