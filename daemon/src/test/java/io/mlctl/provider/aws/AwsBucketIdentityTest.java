package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.Tag;

/**
 * Buckets and identities against moto_server: what mlctl does not own is refused and left exactly
 * as it was, a lost answer to any create call neither fails the apply nor makes a second resource,
 * and tags others put on a bucket or role are kept and never reported as drift.
 */
@ExtendWith(MotoServer.class)
class AwsBucketIdentityTest {
    @TempDir
    Path dir;
    URI endpoint;
    S3Client s3;
    IamClient iam;

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        endpoint = moto.endpoint();
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).forcePathStyle(true).build();
        iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds).endpointOverride(endpoint).build();
    }

    @AfterEach
    void tearDown() {
        s3.close();
        iam.close();
    }

    private Cli cli(URI awsEndpoint) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", awsEndpoint.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    private String spec(String env, String labels, String resources) {
        return Fixtures.write(dir, env + "-" + Math.abs(resources.hashCode() ^ labels.hashCode()) + ".yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: %s
              labels: {%s}
            spec:
              provider: aws
              region: us-east-1
              resources:
            %s""".formatted(env, labels, resources.indent(4))).toString();
    }

    private static String bucket(String name) {
        return "- {type: bucket, name: " + name + ", versioning: true, lifecycle: [{expireDays: 1}]}\n";
    }

    private static final String IDENTITY = "- {type: identity, name: trainer, grants: [{actions: [storage.read], resource: bucket/dev-data}]}\n";

    private Map<String, String> bucketTags(String bucket) {
        return s3.getBucketTagging(b -> b.bucket(bucket)).tagSet().stream().collect(Collectors.toMap(Tag::key, Tag::value, (a, b) -> a, TreeMap::new));
    }

    private Map<String, String> roleTags(String role) {
        return iam.getRole(b -> b.roleName(role)).role().tags().stream()
            .collect(Collectors.toMap(t -> t.key(), t -> t.value(), (a, b) -> a, TreeMap::new));
    }

    private void otherTeamsBucket(String name) {
        s3.createBucket(b -> b.bucket(name));
        s3.putBucketTagging(b -> b.bucket(name).tagging(t -> t.tagSet(Tag.builder().key("team").value("other").build(),
            Tag.builder().key("backup").value("daily").build())));
        s3.putBucketLifecycleConfiguration(b -> b.bucket(name).lifecycleConfiguration(l -> l.rules(LifecycleRule.builder().id("theirs")
            .status(ExpirationStatus.ENABLED).filter(f -> f.prefix("logs/")).expiration(e -> e.days(365)).build())));
    }

    private void assertUntouched(String bucket, Map<String, String> tags) {
        assertThat(bucketTags(bucket)).isEqualTo(tags);
        assertThat(s3.getBucketLifecycleConfiguration(b -> b.bucket(bucket)).rules()).singleElement().satisfies(r -> {
            assertThat(r.id()).isEqualTo("theirs");
            assertThat(r.expiration().days()).isEqualTo(365);
        });
        assertThat(s3.getBucketVersioning(b -> b.bucket(bucket)).status()).isNull();
    }

    @Test
    void anotherTeamsBucketIsRefusedAndLeftAsItWas() {
        otherTeamsBucket("other-team-data");
        Map<String, String> before = bucketTags("other-team-data");
        String spec = spec("dev", "team: ml", bucket("other-team-data"));

        Cli.Result r = cli(endpoint).run("apply", "--auto-approve", spec);

        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("bucket.other-team-data: bucket other-team-data already exists and is not managed by mlctl; "
            + "mlctl does not take over resources it did not create (rename it in the spec)\n");
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
        assertUntouched("other-team-data", before);
    }

    @Test
    void aBucketOfAnotherEnvironmentIsRefusedNamingThatEnvironment() {
        Cli.Result first = cli(endpoint).run("apply", "--auto-approve", spec("prod", "team: ml", bucket("shared-data")));
        assertThat(first.exitCode()).as(first.toString()).isZero();
        Map<String, String> before = bucketTags("shared-data");
        assertThat(before).containsEntry("mlctl-environment", "prod");

        Cli.Result r = cli(endpoint).run("apply", "--auto-approve", spec("dev", "team: other", "- {type: bucket, name: shared-data}\n"));

        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("bucket.shared-data: bucket shared-data already exists and is managed by mlctl environment prod as bucket.shared-data; ");
        assertThat(bucketTags("shared-data")).isEqualTo(before);
        assertThat(s3.getBucketVersioning(b -> b.bucket("shared-data")).statusAsString()).isEqualTo("Enabled");
        assertThat(s3.getBucketLifecycleConfiguration(b -> b.bucket("shared-data")).rules()).singleElement()
            .satisfies(x -> assertThat(x.expiration().days()).isEqualTo(1));
    }

    @Test
    void aRoleOfTheSameNameThatIsNotOursIsRefusedAndItsPoliciesUntouched() {
        iam.createRole(b -> b.roleName("dev-trainer").assumeRolePolicyDocument(IdentityKind.TRUST)
            .tags(software.amazon.awssdk.services.iam.model.Tag.builder().key("team").value("other").build()));
        String theirs = "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:ListAllMyBuckets\",\"Resource\":\"*\"}]}";
        iam.putRolePolicy(b -> b.roleName("dev-trainer").policyName("theirs").policyDocument(theirs));

        Cli.Result r = cli(endpoint).run("apply", "--auto-approve", spec("dev", "team: ml", bucket("dev-data") + IDENTITY));

        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("identity.trainer: IAM role dev-trainer already exists and is not managed by mlctl; ");
        assertThat(iam.listRolePolicies(b -> b.roleName("dev-trainer")).policyNames()).containsExactly("theirs");
        assertThat(roleTags("dev-trainer")).isEqualTo(Map.of("team", "other"));
        assertThat(iam.listInstanceProfiles().instanceProfiles()).isEmpty();
    }

    @Test
    void anInstanceProfileOfTheSameNameThatIsNotOursIsRefusedBeforeAnythingIsCreated() {
        iam.createInstanceProfile(b -> b.instanceProfileName("dev-trainer"));

        Cli.Result r = cli(endpoint).run("apply", "--auto-approve", spec("dev", "team: ml", bucket("dev-data") + IDENTITY));

        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("identity.trainer: IAM instance profile dev-trainer already exists and is not managed by mlctl; ");
        assertThat(iam.listRoles().roles()).noneMatch(x -> x.roleName().equals("dev-trainer"));
        assertThat(iam.getInstanceProfile(b -> b.instanceProfileName("dev-trainer")).instanceProfile().roles()).isEmpty();
    }

    @Test
    void lostAnswersToEveryCreateCallNeitherFailNorDuplicate() throws Exception {
        String spec = spec("dev", "team: ml", bucket("dev-data") + IDENTITY);
        try (FaultProxy proxy = new FaultProxy(endpoint)) {
            List<FaultProxy.Drop> drops = List.of(
                proxy.dropResponse(q -> q.method().equals("PUT") && q.path().equals("/dev-data") && q.query().equals("null"), 1),
                proxy.dropResponse(q -> q.isAction("CreateRole"), 1),
                proxy.dropResponse(q -> q.isAction("PutRolePolicy"), 1),
                proxy.dropResponse(q -> q.isAction("CreateInstanceProfile"), 1),
                proxy.dropResponse(q -> q.isAction("AddRoleToInstanceProfile"), 1));

            Cli.Result r = cli(proxy.endpoint()).run("apply", "--auto-approve", spec);

            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.out()).contains("Apply complete! Resources: 2 added");
            assertThat(drops).allSatisfy(d -> assertThat(d.dropped()).hasSize(1));
        }
        assertThat(s3.listBuckets().buckets()).extracting(b -> b.name()).containsExactly("dev-data");
        assertThat(bucketTags("dev-data")).containsEntry("mlctl-address", "bucket.dev-data").containsEntry("team", "ml");
        assertThat(iam.listRoles().roles()).filteredOn(x -> x.roleName().startsWith("dev-")).singleElement()
            .satisfies(x -> assertThat(x.path()).isEqualTo("/mlctl/dev/"));
        assertThat(iam.listRolePolicies(b -> b.roleName("dev-trainer")).policyNames()).containsExactly(IdentityKind.POLICY);
        assertThat(iam.listInstanceProfiles().instanceProfiles()).singleElement().satisfies(p -> {
            assertThat(p.instanceProfileName()).isEqualTo("dev-trainer");
            assertThat(p.roles()).extracting(x -> x.roleName()).containsExactly("dev-trainer");
        });
        Cli.Result plan = cli(endpoint).run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
    }

    @Test
    void tagsOthersPutOnABucketOrRoleAreKeptAndAreNotDrift() {
        String spec = spec("dev", "team: ml, owner: alice", bucket("dev-data") + IDENTITY);
        Cli.Result applied = cli(endpoint).run("apply", "--auto-approve", spec);
        assertThat(applied.exitCode()).as(applied.toString()).isZero();
        // A cost-allocation tag and a backup tool's tag, added outside mlctl (S3 replaces the set: keep what is there).
        List<Tag> withForeign = new java.util.ArrayList<>(s3.getBucketTagging(b -> b.bucket("dev-data")).tagSet());
        withForeign.add(Tag.builder().key("cost-center").value("research").build());
        s3.putBucketTagging(b -> b.bucket("dev-data").tagging(t -> t.tagSet(withForeign)));
        iam.tagRole(b -> b.roleName("dev-trainer").tags(software.amazon.awssdk.services.iam.model.Tag.builder().key("backup").value("daily").build()));

        Cli.Result plan = cli(endpoint).run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as("foreign tags are not drift: " + plan).isZero();

        // Labels change: one changes value, one goes away; only mlctl's labels move.
        String changed = spec("dev", "team: ml-platform", bucket("dev-data") + IDENTITY);
        Cli.Result r = cli(endpoint).run("apply", "--auto-approve", changed);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("0 added, 2 changed, 0 destroyed");
        assertThat(bucketTags("dev-data")).containsEntry("cost-center", "research").containsEntry("team", "ml-platform")
            .containsEntry("mlctl-environment", "dev").doesNotContainKey("owner");
        assertThat(roleTags("dev-trainer")).containsEntry("backup", "daily").containsEntry("team", "ml-platform")
            .containsEntry("mlctl-address", "identity.trainer").doesNotContainKey("owner");
        Cli.Result after = cli(endpoint).run("plan", "--detailed-exitcode", changed);
        assertThat(after.exitCode()).as(after.toString()).isZero();
    }
}
