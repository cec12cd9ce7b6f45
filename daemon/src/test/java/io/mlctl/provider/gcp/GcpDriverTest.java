package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.spec.Environment;
import io.mlctl.testing.Specs;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where the GCP driver works: the spec's project first, then gcloud's variables; endpoints as gcloud overrides them. */
class GcpDriverTest {
    private static Environment env(String account) {
        return Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: dev}
            spec: {provider: gcp, region: europe-west4, %s resources: []}
            """.formatted(account == null ? "" : "account: " + account + ","));
    }

    @Test
    void theSpecsProjectWinsThenGcloudsVariables() {
        try (GcpDriver d = new GcpDriver(GcpSettings.fromEnvironment(Map.of("GOOGLE_CLOUD_PROJECT", "from-env-1")))) {
            assertThat(d.target(env("ml-platform-prod")).account()).isEqualTo("ml-platform-prod");
            assertThat(d.target(env(null)).account()).isEqualTo("from-env-1");
            assertThat(d.target(env(null)).region()).isEqualTo("europe-west4");
        }
        try (GcpDriver d = new GcpDriver(GcpSettings.fromEnvironment(Map.of("CLOUDSDK_CORE_PROJECT", "from-gcloud")))) {
            assertThat(d.target(env(null)).account()).isEqualTo("from-gcloud");
        }
    }

    @Test
    void gcloudsEndpointOverridesAreReadAsGcloudWritesThem() {
        GcpSettings s = GcpSettings.fromEnvironment(Map.of(
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_COMPUTE", "http://127.0.0.1:8085/compute/v1/",
            "CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM", "https://europe-west4-aiplatform.example.internal/",
            "STORAGE_EMULATOR_HOST", "127.0.0.1:9023"));
        assertThat(s.hostPort("compute")).contains("127.0.0.1:8085");
        assertThat(s.plaintext("compute")).isTrue();
        assertThat(s.hostPort("aiplatform")).contains("europe-west4-aiplatform.example.internal:443");
        assertThat(s.plaintext("aiplatform")).isFalse();
        assertThat(s.endpoint("storage")).hasValueSatisfying(u -> assertThat(u.toString()).isEqualTo("http://127.0.0.1:9023"));
        assertThat(s.endpoint("container")).isEmpty();
        assertThat(s.toString()).doesNotContain("9023"); // settings never print the environment they were given
    }
}
