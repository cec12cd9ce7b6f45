package io.mlctl.provider.aws;

import io.mlctl.testing.Acceptance;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against real AWS, only when asked: MLCTL_ACCEPTANCE_AWS=1 plus credentials in the environment
 * (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and no AWS_ENDPOINT_URL. It creates a
 * bucket and an IAM role (no charge at rest), plans again, and destroys them. Skipped otherwise,
 * with the reason in the test report.
 */
class AwsAcceptanceTest {
    @TempDir
    Path dir;

    @Test
    void smallEnvironmentOnRealAws() {
        Map<String, String> env = System.getenv();
        String skip = !"1".equals(env.get("MLCTL_ACCEPTANCE_AWS")) ? "set MLCTL_ACCEPTANCE_AWS=1 to run it"
            : !(env.containsKey("AWS_PROFILE") || env.containsKey("AWS_ACCESS_KEY_ID")) ? "no AWS_PROFILE or AWS_ACCESS_KEY_ID in the environment"
            : env.containsKey("AWS_ENDPOINT_URL") ? "AWS_ENDPOINT_URL points somewhere else than AWS" : null;
        Acceptance.skipUnless("AwsAcceptanceTest", skip);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Path spec = Fixtures.write(dir, "acceptance.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: mlctl-acc-%s, labels: {purpose: mlctl-acceptance}}
            spec:
              provider: aws
              region: %s
              resources:
                - {type: bucket, name: mlctl-acc-%s, versioning: true, lifecycle: [{expireDays: 1}]}
                - {type: identity, name: reader, grants: [{actions: [storage.read], resource: bucket/mlctl-acc-%s}]}
            """.formatted(suffix, env.getOrDefault("AWS_REGION", "us-east-1"), suffix, suffix));
        Cli cli = new Cli(dir);
        env.forEach((k, v) -> {
            if (k.startsWith("AWS_")) cli.env(k, v);
        });
        Acceptance.applyPlanDestroy(cli, spec);
    }
}
