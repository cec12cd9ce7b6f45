package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.services.sts.model.Credentials;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Which account and region a plan reads, against moto_server (whose default credentials belong to
 * account 123456789012; an assumed role of another account's id gets that account).
 */
@ExtendWith(MotoServer.class)
class AwsAccountAndRegionTest {
    static final String MOTO_ACCOUNT = "123456789012";
    static final String OTHER_ACCOUNT = "111111111111";

    @TempDir
    Path dir;
    URI endpoint;
    Cli cli;
    StaticCredentialsProvider creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
    Map<String, Ec2Client> ec2 = new HashMap<>();
    S3Client s3;

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        endpoint = moto.endpoint();
        cli = new Cli(dir).env("AWS_ENDPOINT_URL", endpoint.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
        s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).forcePathStyle(true).build();
    }

    @AfterEach
    void tearDown() {
        ec2.values().forEach(Ec2Client::close);
        s3.close();
    }

    Ec2Client ec2(String region) {
        return ec2.computeIfAbsent(region, r -> Ec2Client.builder().region(Region.of(r)).credentialsProvider(creds).endpointOverride(endpoint).build());
    }

    private String spec(String region, String accountLine) {
        return Fixtures.write(dir, "env.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: training-dev
            spec:
              provider: aws
              region: %s
            %s  resources:
                - {type: bucket, name: training-dev-data-h4}
                - {type: network, name: ml-vpc, cidr: 10.0.0.0/16, subnets: [{name: training, cidr: 10.0.1.0/24}]}
                - {type: identity, name: trainer, grants: [{actions: [storage.read], resource: bucket/training-dev-data-h4}]}
            """.formatted(region, accountLine)).toString();
    }

    private static Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private static JsonNode json(Cli.Result r) {
        return JsonMapper.builder().build().readTree(ok(r).out());
    }

    private static Map<String, String> actions(JsonNode plan) {
        Map<String, String> m = new HashMap<>();
        plan.get("resourceChanges").forEach(c -> m.put(c.get("address").asString(), c.get("action").asString()));
        return m;
    }

    /** A CLI whose credentials are a role assumed in {@code account} (moto then serves that account). */
    private Cli cliOfAccount(String account) {
        try (StsClient sts = StsClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(endpoint).build()) {
            Credentials c = sts.assumeRole(b -> b.roleArn("arn:aws:iam::" + account + ":role/deployer").roleSessionName("h4")).credentials();
            return new Cli(dir).env("AWS_ENDPOINT_URL", endpoint.toString()).env("AWS_ACCESS_KEY_ID", c.accessKeyId())
                .env("AWS_SECRET_ACCESS_KEY", c.secretAccessKey()).env("AWS_SESSION_TOKEN", c.sessionToken()).env("AWS_REGION", "us-east-1");
        }
    }

    @Test
    void everyPlanNamesTheAccountAndRegionItRead() {
        String spec = spec("us-east-1", "");
        JsonNode plan = json(cli.run("plan", "--format", "json", spec));
        assertThat(plan.get("account").asString()).isEqualTo(MOTO_ACCOUNT);
        assertThat(plan.get("region").asString()).isEqualTo("us-east-1");
        assertThat(ok(cli.run("plan", spec)).out()).contains("environment training-dev (aws, account 123456789012, us-east-1)");
        assertThat(ok(cli.run("plan", "--format", "markdown", spec)).out())
            .startsWith("### mlctl plan: `training-dev` (aws, account 123456789012, us-east-1)");
        assertThat(ok(cliOfAccount(OTHER_ACCOUNT).run("plan", "--format", "json", spec)).out()).contains("\"account\" : \"111111111111\"");
    }

    @Test
    void credentialsOfAnotherAccountThanDeclaredAreRefusedBeforeAnythingIsRead() {
        String spec = spec("us-east-1", "  account: \"" + OTHER_ACCOUNT + "\"\n");
        Cli.Result plan = cli.run("plan", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isNotZero();
        assertThat(plan.err().strip()).endsWith("environment training-dev declares account 111111111111 but the AWS credentials in use "
            + "belong to 123456789012; refusing to plan");
        Cli.Result apply = cli.run("apply", "--auto-approve", spec);
        assertThat(apply.exitCode()).as(apply.toString()).isNotZero();
        assertThat(apply.err()).contains("belong to 123456789012; refusing to apply");
        assertThat(ec2("us-east-1").describeVpcs(b -> b.filters(owned())).vpcs()).isEmpty();
        assertThat(s3.listBuckets().buckets()).isEmpty();
        // The declared account's own credentials go ahead.
        Cli.Result right = cliOfAccount(OTHER_ACCOUNT).run("apply", "--auto-approve", spec);
        assertThat(right.exitCode()).as(right.toString()).isZero();
        assertThat(right.out()).contains("3 added");
    }

    @Test
    void aSavedPlanOfAnotherAccountIsNotApplied() {
        String spec = spec("us-east-1", "");
        Path saved = dir.resolve("other.plan.json");
        ok(cliOfAccount(OTHER_ACCOUNT).run("plan", "--out", saved.toString(), spec));
        Cli.Result apply = cli.run("apply", "--auto-approve", "--plan", saved.toString(), spec);
        assertThat(apply.exitCode()).as(apply.toString()).isNotZero();
        assertThat(apply.err()).contains("the saved plan was made for account 111111111111 but the credentials in use belong to 123456789012; "
            + "refusing to apply it");
        assertThat(ec2("us-east-1").describeVpcs(b -> b.filters(owned())).vpcs()).isEmpty();
    }

    @Test
    void aCloudPlanIsAppliedByItsHintAndNeverOnTheSandbox() {
        spec("us-east-1", "");
        Cli.Result plan = ok(cli.run("plan", "--out", "cloud.plan", "env.yaml"));
        assertThat(plan.out()).endsWith("\nSaved the plan to cloud.plan. To apply exactly it: mlctl apply cloud.plan\n");
        Cli.Result sandbox = cli.run("apply", "--sandbox", "cloud.plan");
        assertThat(sandbox.exitCode()).as(sandbox.toString()).isEqualTo(1);
        assertThat(sandbox.err()).isEqualTo("Error: cloud.plan: this plan was made on the cloud (aws, account 123456789012, us-east-1), "
            + "not the sandbox; run mlctl apply cloud.plan\n");
        assertThat(ok(cli.run("sandbox", "list")).out()).contains("0 resources");
        assertThat(ok(cli.run("apply", "cloud.plan")).out()).contains("Apply complete! Resources: 3 added");
        assertThat(ec2("us-east-1").describeVpcs(b -> b.filters(owned())).vpcs()).hasSize(1);
    }

    @Test
    void aRegionChangeReplacesWhatTheOldRegionHeldAndLeavesNothingThere() {
        ok(cli.run("apply", "--auto-approve", spec("us-east-1", "")));
        assertThat(ec2("us-east-1").describeVpcs(b -> b.filters(owned())).vpcs()).hasSize(1);

        String moved = spec("us-west-2", "");
        JsonNode plan = json(cli.run("plan", "--format", "json", moved));
        assertThat(actions(plan)).containsExactlyInAnyOrderEntriesOf(Map.of(
            "bucket.training-dev-data-h4", "replace", "network.ml-vpc", "replace"));
        plan.get("resourceChanges").forEach(c -> assertThat(c.get("before").get("region").asString()).as(c.toString()).isEqualTo("us-east-1"));

        // Two replacements are an ordinary change (the mass-delete guard starts above three deletions).
        Cli.Result apply = ok(cli.run("apply", "--auto-approve", moved));
        assertThat(apply.out()).contains("2 added, 0 changed, 2 destroyed");
        assertThat(ec2("us-east-1").describeVpcs(b -> b.filters(owned())).vpcs()).isEmpty();
        assertThat(ec2("us-east-1").describeSubnets(b -> b.filters(owned())).subnets()).isEmpty();
        assertThat(ec2("us-west-2").describeVpcs(b -> b.filters(owned())).vpcs()).hasSize(1);
        assertThat(s3.getBucketLocation(b -> b.bucket("training-dev-data-h4")).locationConstraintAsString()).isEqualTo("us-west-2");
        assertThat(ok(cli.run("plan", moved)).out()).contains("No changes.");
    }

    @Test
    void anEnvironmentThatOwnsSomethingInItsRegionIsReadThereOnly() {
        String spec = spec("us-east-1", "");
        ok(cli.run("apply", "--auto-approve", spec));
        Map<String, String> env = Map.of("AWS_ENDPOINT_URL", endpoint.toString(), "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test");
        io.mlctl.spec.Environment e = io.mlctl.testing.Specs.load(Path.of(spec)).environments().get(0);
        try (AwsDriver driver = new AwsDriver(AwsSettings.fromEnvironment(env), io.mlctl.testing.Specs.CATALOG)) {
            io.mlctl.engine.Engine engine = new io.mlctl.engine.Engine(driver, dir.resolve("state"), java.time.Clock.systemUTC(),
                io.mlctl.apply.RetryPolicy.standard(new java.util.Random(1)));
            assertThat(engine.plan(e, io.mlctl.planner.PlanOptions.defaults(Cli.NOW)).hasChanges()).isFalse();
            assertThat(driver.regionsAsked()).containsExactly("us-east-1");
        }
        // The same driver asked about an environment that owns nothing in its region looks in the others.
        try (AwsDriver driver = new AwsDriver(AwsSettings.fromEnvironment(env), io.mlctl.testing.Specs.CATALOG)) {
            driver.list(e.inRegion("eu-west-1"), io.mlctl.spec.ResourceType.INSTANCE, java.util.Optional.empty());
            assertThat(driver.regionsAsked()).contains("eu-west-1", "us-west-2", "ap-southeast-2").doesNotContain("ap-east-1", "cn-north-1");
        }
    }

    @Test
    void aNewEnvironmentWithNothingAnywherePlansOnlyCreates() {
        JsonNode plan = json(cli.run("plan", "--format", "json", spec("eu-west-1", "")));
        assertThat(actions(plan).values()).containsOnly("create");
    }

    static Filter owned() {
        return Filter.builder().name("tag:mlctl-environment").values("training-dev").build();
    }
}
