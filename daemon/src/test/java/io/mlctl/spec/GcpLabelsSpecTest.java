package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Environment labels become GCP labels, whose rules are narrower than AWS tags': refused at validation, with a position. */
class GcpLabelsSpecTest {
    @TempDir
    Path dir;

    private Path spec(String provider, String region, String labels) {
        return Fixtures.write(dir, "env.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
              labels: {%s}
            spec:
              provider: %s
              region: %s
              resources: []
            """.formatted(labels, provider, region));
    }

    @Test
    void labelsGcpCannotHoldAreRefused() {
        assertThatThrownBy(() -> Specs.load(spec("gcp", "us-central1", "app.kubernetes.io: web")))
            .hasMessageEndingWith("env.yaml:5:31: GCP label names allow only lowercase letters, digits, '-' and '_' (not '__' nor '.'): 'app.kubernetes.io'");
        assertThatThrownBy(() -> Specs.load(spec("gcp", "us-central1", "team: Vision")))
            .hasMessageEndingWith("env.yaml:5:18: GCP label values allow only lowercase letters, digits, '-' and '_': 'Vision'");
        assertThatThrownBy(() -> Specs.load(spec("gcp", "us-central1", "cost__center: x")))
            .hasMessageContaining("'cost__center'");
    }

    @Test
    void labelsNamedLikeTheOwnershipMarkerAreRefusedOnEveryCloud() {
        // Else dev could relabel its resources as prod's, and prod's prune would delete them.
        assertThatThrownBy(() -> Specs.load(spec("gcp", "us-central1", "mlctl-environment: prod")))
            .hasMessageContaining("label name 'mlctl-environment' is reserved for mlctl's ownership marker");
        assertThatThrownBy(() -> Specs.load(spec("aws", "us-east-1", "managed-by: terraform")))
            .hasMessageContaining("label name 'managed-by' is reserved for mlctl's ownership marker");
    }

    @Test
    void theSameLabelsAreFineOnAwsAndValidOnesOnGcp() {
        assertThat(Specs.load(spec("aws", "us-east-1", "app.kubernetes.io: web, team: Vision")).environments()).hasSize(1);
        assertThat(Specs.load(spec("gcp", "us-central1", "team: vision, cost-center: research_1")).environments().get(0).labels())
            .containsEntry("team", "vision");
    }

    @Test
    void tooManyLabelNamesForTheRecordingLabelAreRefused() {
        assertThatThrownBy(() -> Specs.load(spec("gcp", "us-central1",
            "alpha-team-name: a, bravo-team-name: b, charlie-team-name: c, delta-team-name: d")))
            .hasMessageContaining("on GCP at most 63 fit in the label that records them");
    }
}
