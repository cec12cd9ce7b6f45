package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;

/** mlctl import and the spec's import list end to end: the real CLI against moto, a lost answer included. */
@ExtendWith(MotoServer.class)
class AwsImportCliTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev
          labels: {team: ml}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: bucket
              name: team-data
              versioning: true
        """;

    @TempDir
    Path dir;
    URI moto;
    S3Client s3;

    @BeforeEach
    void setUp(MotoServer.Instance m) {
        moto = m.endpoint();
        s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
            .endpointOverride(moto).forcePathStyle(true).build();
        s3.createBucket(b -> b.bucket("team-data"));
    }

    @AfterEach
    void tearDown() {
        s3.close();
    }

    Cli cli(URI aws) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", aws.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    private Map<String, String> tags() {
        try {
            return s3.getBucketTagging(b -> b.bucket("team-data")).tagSet().stream().collect(Collectors.toMap(t -> t.key(), t -> t.value()));
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            return Map.of(); // no tag set at all
        }
    }

    @Test
    void anExistingBucketIsRefusedByCreateThenImportedWithTheChangeItImpliesAndManaged() {
        String spec = Fixtures.write(dir, "dev.yaml", SPEC).toString();
        Cli.Result clash = cli(moto).run("apply", "--auto-approve", spec);
        assertThat(clash.exitCode()).isEqualTo(1);
        assertThat(clash.err()).contains("bucket team-data already exists and is not managed by mlctl");
        assertThat(tags()).isEmpty();

        Cli.Result imported = cli(moto).run("import", "--auto-approve", "bucket.team-data", "team-data", spec);
        assertThat(imported.exitCode()).as(imported.toString()).isZero();
        assertThat(imported.out()).contains("# bucket.team-data will be imported and updated in place").contains("~ versioning")
            .contains("Resources: 1 imported, 0 added, 1 changed, 0 destroyed.");
        assertThat(tags()).containsEntry("mlctl-environment", "dev").containsEntry("mlctl-address", "bucket.team-data").containsEntry("team", "ml");
        assertThat(s3.getBucketVersioning(b -> b.bucket("team-data")).status()).isEqualTo(BucketVersioningStatus.ENABLED);

        Cli.Result plan = cli(moto).run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
        assertThat(cli(moto).run("output", spec).out()).contains("uri = s3://team-data");
    }

    @Test
    void anImportWhoseTaggingAnswerIsLostIsFinishedByTheRetryAndTheSpecsImportListStaysHarmless() throws Exception {
        String spec = Fixtures.write(dir, "dev.yaml", SPEC + """
              import:
                - to: bucket.team-data
                  id: team-data
            """).toString();
        try (FaultProxy proxy = new FaultProxy(moto)) {
            // Every attempt the SDK makes loses its answer (each went through): the step fails, and the engine's retry of the
            // import finds the bucket carrying its own marker and finishes without tagging it again.
            FaultProxy.Drop drop = proxy.dropResponse(r -> r.method().equals("PUT") && r.query().startsWith("tagging"), AwsClients.READ_ATTEMPTS);
            Cli.Result applied = cli(proxy.endpoint()).run("apply", "--auto-approve", spec);
            assertThat(applied.exitCode()).as(applied.toString()).isZero();
            assertThat(drop.dropped()).as("the answers of PutBucketTagging were dropped").hasSize(AwsClients.READ_ATTEMPTS);
            assertThat(applied.out()).contains("bucket.team-data: retrying").contains("Resources: 1 imported, 0 added, 1 changed, 0 destroyed.");
        }
        assertThat(tags()).containsEntry("mlctl-address", "bucket.team-data");
        Cli.Result again = cli(moto).run("plan", "--detailed-exitcode", spec);
        assertThat(again.exitCode()).as(again.toString()).isZero();
        assertThat(s3.listBuckets().buckets()).extracting(b -> b.name()).containsExactly("team-data");
    }

    @Test
    void aVpcImportLeavesAnS3EndpointTheSpecDoesNotAskForAsItIs() {
        try (Ec2Client ec2 = Ec2Client.builder().region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))).endpointOverride(moto).build()) {
            String vpc = ec2.createVpc(b -> b.cidrBlock("10.9.0.0/16")).vpc().vpcId();
            ec2.createSubnet(b -> b.vpcId(vpc).cidrBlock("10.9.1.0/24").availabilityZone("us-east-1a"));
            String table = ec2.createRouteTable(b -> b.vpcId(vpc)).routeTable().routeTableId();
            String endpoint = ec2.createVpcEndpoint(b -> b.vpcId(vpc).serviceName("com.amazonaws.us-east-1.s3").vpcEndpointType("Gateway")
                .routeTableIds(table)).vpcEndpoint().vpcEndpointId();
            String spec = Fixtures.write(dir, "net.yaml", """
                apiVersion: mlctl.io/v1
                kind: Environment
                metadata:
                  name: dev
                spec:
                  provider: aws
                  region: us-east-1
                  resources:
                    - type: network
                      name: net
                      cidr: 10.9.0.0/16
                      subnets:
                        - {name: a, cidr: 10.9.1.0/24, zone: us-east-1a}
                """).toString();
            Cli.Result r = cli(moto).run("import", "--auto-approve", "network.net", vpc, spec);
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.out()).doesNotContain("privateStorageAccess");
            var ep = ec2.describeVpcEndpoints(b -> b.vpcEndpointIds(endpoint)).vpcEndpoints().get(0);
            assertThat(ep.stateAsString()).isNotEqualToIgnoringCase("deleted");
            assertThat(ep.tags()).extracting(t -> t.key()).doesNotContain("mlctl-environment");
            assertThat(cli(moto).run("plan", "--detailed-exitcode", spec).exitCode()).isZero();
        }
    }
}
