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
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.iam.IamClient;

/** On an account other teams use: what they put next to, or inside, mlctl's resources is left exactly as it is. */
@ExtendWith(MotoServer.class)
class SharedAccountTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: sh}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: network
              name: net
              cidr: 10.9.0.0/16
              subnets:
                - {name: a, cidr: 10.9.1.0/24, zone: us-east-1a}
                - {name: b, cidr: 10.9.2.0/24, zone: us-east-1b}
            - type: kubernetes_cluster
              name: k
              version: "1.29"
              subnet: net/a
              nodePools:
                - {name: gpu, machineType: g5.xlarge, min: 1, max: 2}
        """;

    @TempDir
    Path dir;
    URI moto;
    Ec2Client ec2;
    EksClient eks;
    IamClient iam;

    @BeforeEach
    void setUp(MotoServer.Instance m) {
        moto = m.endpoint();
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        ec2 = Ec2Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        eks = EksClient.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto).build();
        iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds).endpointOverride(moto).build();
    }

    @AfterEach
    void tearDown() {
        List.of(ec2, eks, iam).forEach(software.amazon.awssdk.core.SdkClient::close);
    }

    private Cli cli(URI endpoint) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", endpoint.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    private static Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    private static Filter f(String name, String... values) {
        return Filter.builder().name(name).values(values).build();
    }

    @Test
    void anotherTeamsNodeGroupInTheClusterIsNeitherPlannedNorDeletedAndDestroyRefusesUpFront() {
        String spec = Fixtures.write(dir, "sh.yaml", SPEC).toString();
        ok(cli(moto).run("apply", "--auto-approve", spec));
        String role = iam.listRoles().roles().get(0).arn();
        String subnet = ec2.describeSubnets(b -> b.filters(f("tag:mlctl-environment", "sh"))).subnets().get(0).subnetId();
        eks.createNodegroup(b -> b.clusterName("sh-k").nodegroupName("theirs").nodeRole(role).subnets(subnet)
            .scalingConfig(s -> s.minSize(1).maxSize(1).desiredSize(1)).tags(Map.of("team", "other")));

        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", spec)).out()).contains("No changes");
        Cli.Result destroy = cli(moto).run("destroy", "--auto-approve", spec);
        assertThat(destroy.exitCode()).isEqualTo(1);
        assertThat(destroy.err()).contains("kubernetes_cluster.k: EKS cluster sh-k holds node group theirs that mlctl does not manage; delete it first");
        assertThat(eks.listNodegroups(b -> b.clusterName("sh-k")).nodegroups()).containsExactlyInAnyOrder("gpu", "theirs");
    }

    @Test
    void anotherTeamsEndpointAndRouteTableInTheVpcAreNotTheNetworksSettingsAndAreNeverDeleted() {
        String spec = Fixtures.write(dir, "net.yaml", SPEC.replaceAll("(?s)\\n\\s*- type: kubernetes_cluster.*", "")).toString();
        ok(cli(moto).run("apply", "--auto-approve", spec));
        String vpc = ec2.describeVpcs(b -> b.filters(f("tag:mlctl-environment", "sh"))).vpcs().get(0).vpcId();
        String table = ec2.createRouteTable(b -> b.vpcId(vpc).tagSpecifications(t -> t.resourceType("route-table")
            .tags(x -> x.key("team").value("other")))).routeTable().routeTableId();
        String endpoint = ec2.createVpcEndpoint(b -> b.vpcId(vpc).serviceName("com.amazonaws.us-east-1.s3").vpcEndpointType("Gateway")
            .routeTableIds(table)).vpcEndpoint().vpcEndpointId();

        // Their endpoint is not this network's privateStorageAccess: nothing to change.
        assertThat(ok(cli(moto).run("plan", "--detailed-exitcode", spec)).out()).contains("No changes");
        Cli.Result destroy = cli(moto).run("destroy", "--auto-approve", spec);
        assertThat(destroy.exitCode()).isEqualTo(1);
        assertThat(destroy.err()).contains("network.net (" + vpc + ") holds VPC endpoint " + endpoint + " that mlctl does not manage");
        assertThat(ec2.describeVpcEndpoints(b -> b.vpcEndpointIds(endpoint)).vpcEndpoints()).singleElement()
            .satisfies(e -> assertThat(e.stateAsString()).isNotEqualTo("deleted"));
        assertThat(ec2.describeRouteTables(b -> b.routeTableIds(table)).routeTables()).hasSize(1);
    }

    @Test
    void aRoleOfAnotherTeamThatAReadLagHidAtFirstIsStillRefused() throws Exception {
        iam.createRole(b -> b.roleName("sh-runner").assumeRolePolicyDocument("{\"Version\":\"2012-10-17\",\"Statement\":[]}")
            .tags(t -> t.key("team").value("other")));
        String spec = Fixtures.write(dir, "role.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: sh}
            spec:
              provider: aws
              region: us-east-1
              resources:
                - {type: bucket, name: sh-data}
                - type: identity
                  name: runner
                  grants: [{actions: [storage.read], resource: bucket/sh-data}]
            """).toString();
        try (FaultProxy proxy = new FaultProxy(moto)) {
            // IAM reads lag writes: the first look says the role is not there, so the create call goes out and meets it.
            proxy.failQuery(r -> r.isAction("GetRole"), 404, "NoSuchEntity", 1);
            Cli.Result r = cli(proxy.endpoint()).run("apply", "--auto-approve", spec);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains("identity.runner: IAM role sh-runner already exists and is not managed by mlctl");
        }
        assertThat(iam.listRoleTags(b -> b.roleName("sh-runner")).tags()).extracting(t -> t.key()).containsExactly("team");
        assertThat(iam.listRolePolicies(b -> b.roleName("sh-runner")).policyNames()).isEmpty();
    }
}
