package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.spec.Environment;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * Each grant action against the AWS Service Authorization Reference ("Actions, resources, and
 * condition keys for Amazon S3 / Amazon SageMaker / Amazon EKS / Amazon EC2"): the exact statements
 * it makes, each action only on the resource types the reference lists for it (or "*" where it
 * lists none), and no condition key the action does not support.
 */
class GrantPolicyTest {
    private final Environment env = Specs.env(Fixtures.smallEnv("dev"));

    /** An action's row in the reference: the ARN of its required resource type (null: none, so "*"), its condition keys. */
    record Row(Pattern resource, Set<String> conditionKeys) {
    }

    private static final Pattern S3_OBJECT = Pattern.compile("arn:aws:s3:::[a-z0-9.-]+/.+");
    private static final Pattern S3_BUCKET = Pattern.compile("arn:aws:s3:::[a-z0-9.-]+");
    static final Map<String, Row> REFERENCE = Map.of(
        // Amazon S3: object* / bucket* resource types; action-level keys include e.g. s3:ExistingObjectTag, s3:prefix.
        "s3:GetObject", new Row(S3_OBJECT, Set.of("s3:ExistingObjectTag/", "s3:authType", "s3:ResourceAccount", "s3:TlsVersion")),
        "s3:ListBucket", new Row(S3_BUCKET, Set.of("s3:delimiter", "s3:max-keys", "s3:prefix", "s3:ResourceAccount", "s3:TlsVersion")),
        "s3:PutObject", new Row(S3_OBJECT, Set.of("s3:RequestObjectTag/", "s3:x-amz-acl", "s3:ResourceAccount", "s3:TlsVersion")),
        "s3:DeleteObject", new Row(S3_OBJECT, Set.of("s3:ResourceAccount", "s3:TlsVersion")),
        // Amazon SageMaker: InvokeEndpoint on endpoint*; the endpoint resource type supports aws:ResourceTag/.
        "sagemaker:InvokeEndpoint", new Row(Pattern.compile("arn:aws:sagemaker:[a-z0-9-]+:(\\*|\\d{12}):endpoint/[a-z0-9-]+"),
            Set.of("aws:ResourceTag/")),
        // Amazon EKS: DescribeCluster on cluster*.
        "eks:DescribeCluster", new Row(Pattern.compile("arn:aws:eks:[a-z0-9-]+:(\\*|\\d{12}):cluster/[a-zA-Z0-9-]+"), Set.of("aws:ResourceTag/")),
        // Amazon EC2: the Describe* actions list no resource type and no condition key (not even ec2:ResourceTag).
        "ec2:DescribeInstances", new Row(null, Set.of()),
        "ec2:DescribeInstanceStatus", new Row(null, Set.of()));

    /** Problems of one statement against the reference; empty when AWS would honour it as written. */
    static List<String> violations(IdentityKind.Statement s) {
        List<String> out = new ArrayList<>();
        for (String action : s.actions()) {
            Row row = REFERENCE.get(action);
            if (row == null) {
                out.add(action + " is not in the reference table");
                continue;
            }
            for (String arn : s.resources()) {
                if (row.resource() == null && !arn.equals("*")) out.add(action + " takes no resource ARN, needs \"*\", got " + arn);
                if (row.resource() != null && !row.resource().matcher(arn).matches()) out.add(action + " on " + arn + " is not its resource type");
            }
            s.condition().values().forEach(kv -> kv.keySet().forEach(key -> {
                boolean global = key.startsWith("aws:") && !key.startsWith("aws:ResourceTag/");
                if (!global && row.conditionKeys().stream().noneMatch(k -> k.endsWith("/") ? key.startsWith(k) : key.equals(k))) {
                    out.add(action + " does not support condition key " + key);
                }
            }));
        }
        return out;
    }

    static Stream<Arguments> grants() {
        return Stream.of(
            Arguments.of("storage.read", "bucket/data", List.of(
                new IdentityKind.Statement("G0", List.of("s3:GetObject"), List.of("arn:aws:s3:::data/*"), Map.of()),
                new IdentityKind.Statement("G1", List.of("s3:ListBucket"), List.of("arn:aws:s3:::data"), Map.of()))),
            Arguments.of("storage.write", "bucket/data", List.of(
                new IdentityKind.Statement("G0", List.of("s3:PutObject"), List.of("arn:aws:s3:::data/*"), Map.of()))),
            Arguments.of("storage.delete", "bucket/data", List.of(
                new IdentityKind.Statement("G0", List.of("s3:DeleteObject"), List.of("arn:aws:s3:::data/*"), Map.of()))),
            Arguments.of("endpoint.invoke", "inference_endpoint/fraud", List.of(
                new IdentityKind.Statement("G0", List.of("sagemaker:InvokeEndpoint"), List.of("arn:aws:sagemaker:us-east-1:*:endpoint/dev-fraud"), Map.of()))),
            Arguments.of("kubernetes.access", "kubernetes_cluster/gpu", List.of(
                new IdentityKind.Statement("G0", List.of("eks:DescribeCluster"), List.of("arn:aws:eks:us-east-1:*:cluster/dev-gpu"), Map.of()))),
            // Account-wide read of instances: the narrowest AWS allows; the instance is named in the Sid ("trainer" in hex).
            Arguments.of("instance.read", "instance/trainer", List.of(
                new IdentityKind.Statement("G0Instance747261696e6572", List.of("ec2:DescribeInstances", "ec2:DescribeInstanceStatus"), List.of("*"), Map.of()))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("grants")
    void eachGrantActionMakesExactlyTheseStatementsAndAwsHonoursThem(String action, String resource, List<IdentityKind.Statement> expected) {
        List<Map<String, Object>> grants = List.of(Map.of("resource", resource, "actions", List.of(action)));
        List<IdentityKind.Statement> statements = IdentityKind.statements(env, grants);
        assertThat(statements).isEqualTo(expected);
        assertThat(statements).allSatisfy(s -> assertThat(violations(s)).as(s.toString()).isEmpty());
        // And the policy reads back as the grant it was made from.
        String policy = IdentityKind.policy(env, grants);
        assertThat(IdentityKind.grants(Optional.of(JsonMapper.builder().build().readTree(policy)), env))
            .isEqualTo(List.of(Map.of("resource", resource, "actions", List.of(action))));
    }

    @Test
    void theTableCatchesTheGrantsThatGrantNothing() {
        // What instance.read used to write: a tag condition EC2 Describe* ignores, so it permitted nothing.
        var old = new IdentityKind.Statement("G0", List.of("ec2:DescribeInstances"), List.of("*"),
            Map.of("StringEquals", Map.of("ec2:ResourceTag/mlctl-address", "instance.trainer")));
        assertThat(violations(old)).containsExactly("ec2:DescribeInstances does not support condition key ec2:ResourceTag/mlctl-address");
        var scoped = new IdentityKind.Statement("G0", List.of("ec2:DescribeInstances"), List.of("arn:aws:ec2:us-east-1:*:instance/*"), Map.of());
        assertThat(violations(scoped)).singleElement().asString().contains("needs \"*\"");
        var wrongType = new IdentityKind.Statement("G0", List.of("s3:GetObject"), List.of("arn:aws:s3:::data"), Map.of());
        assertThat(violations(wrongType)).singleElement().asString().contains("is not its resource type");
    }

    @Test
    void severalInstanceReadGrantsEachReadBackAsTheirOwn() {
        List<Map<String, Object>> grants = List.of(
            Map.of("resource", "instance/gpu-1", "actions", List.of("instance.read")),
            Map.of("resource", "instance/trainer", "actions", List.of("instance.read")),
            Map.of("resource", "bucket/data", "actions", List.of("storage.read", "storage.write")));
        String policy = IdentityKind.policy(env, grants);
        var doc = JsonMapper.builder().build().readTree(policy);
        List<String> sids = new ArrayList<>();
        doc.get("Statement").forEach(s -> sids.add(s.get("Sid").asString()));
        assertThat(sids).doesNotHaveDuplicates().allMatch(s -> s.matches("[A-Za-z0-9]+"));
        assertThat(IdentityKind.grants(Optional.of(doc), env)).isEqualTo(List.of(
            Map.of("resource", "bucket/data", "actions", List.of("storage.read", "storage.write")),
            Map.of("resource", "instance/gpu-1", "actions", List.of("instance.read")),
            Map.of("resource", "instance/trainer", "actions", List.of("instance.read"))));
    }

    @Test
    void grantsNameTheRegionsPartitionAndAGrantMadeForAnotherRegionReadsBackAsMissing() {
        List<Map<String, Object>> grants = List.of(
            Map.of("resource", "inference_endpoint/ep", "actions", List.of("endpoint.invoke")),
            Map.of("resource", "bucket/data", "actions", List.of("storage.read")));
        io.mlctl.spec.Environment china = env.inRegion("cn-north-1");
        String policy = IdentityKind.policy(china, grants);
        assertThat(policy).contains("arn:aws-cn:sagemaker:cn-north-1:*:endpoint/" + env.name() + "-ep").contains("arn:aws-cn:s3:::data/*")
            .doesNotContain("arn:aws:");
        var doc = JsonMapper.builder().build().readTree(policy);
        assertThat(IdentityKind.grants(Optional.of(doc), china)).isEqualTo(List.of(
            Map.of("resource", "bucket/data", "actions", List.of("storage.read")),
            Map.of("resource", "inference_endpoint/ep", "actions", List.of("endpoint.invoke"))));
        // Read back for the spec's old region, the endpoint grant points elsewhere: it shows as missing, and is written again.
        var here = JsonMapper.builder().build().readTree(IdentityKind.policy(env, grants));
        io.mlctl.spec.Environment moved = env.inRegion("eu-west-1");
        assertThat(IdentityKind.grants(Optional.of(here), moved)).isEqualTo(List.of(
            Map.of("resource", "bucket/data", "actions", List.of("storage.read"))));
    }
}
