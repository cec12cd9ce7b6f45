package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.spec.Environment;
import io.mlctl.spec.Normalizer;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

class IdentityKindTest {
    private final Environment env = Specs.env(Fixtures.smallEnv("dev"));

    @Test
    void everyGrantActionSurvivesTheRoundTripThroughAnIamPolicy() {
        List<Map<String, Object>> grants = List.of(
            Map.of("resource", "bucket/data", "actions", List.of("storage.read", "storage.write", "storage.delete")),
            Map.of("resource", "inference_endpoint/fraud", "actions", List.of("endpoint.invoke")),
            Map.of("resource", "kubernetes_cluster/gpu", "actions", List.of("kubernetes.access")),
            Map.of("resource", "instance/trainer", "actions", List.of("instance.read")));
        String policy = IdentityKind.policy(env, grants);
        Object back = IdentityKind.grants(Optional.of(JsonMapper.builder().build().readTree(policy)), env);
        assertThat(back).isEqualTo(Normalizer.normalize(Map.of("grants", grants)).get("grants"));
        assertThat(policy).contains("\"s3:GetObject\"],\"Resource\":[\"arn:aws:s3:::data/*\"]")
            .contains("arn:aws:sagemaker:us-east-1:*:endpoint/dev-fraud").contains("arn:aws:eks:us-east-1:*:cluster/dev-gpu")
            .doesNotContain("ec2:ResourceTag").doesNotContain("\"s3:*\"");
    }
}
