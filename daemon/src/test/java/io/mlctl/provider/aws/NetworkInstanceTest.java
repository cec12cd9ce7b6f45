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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.s3.S3Client;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The AWS network and instance kinds through the real CLI against moto_server: lost answers, storms, other teams' things. */
@ExtendWith(MotoServer.class)
class NetworkInstanceTest {
    static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: lost
          labels:
            team: ml
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: network
              name: net
              cidr: 10.0.0.0/16
              privateStorageAccess: true
              subnets:
                - name: pub
                  cidr: 10.0.1.0/24
                  zone: us-east-1a
                  private: false
              firewall:
                - name: ssh
                  direction: ingress
                  ports: [22]
                  sources: [203.0.113.0/24]
            - type: instance
              name: box
              machineType: m5.large
              subnet: net/pub
        """;

    @TempDir
    Path dir;
    URI endpoint;
    Ec2Client ec2;

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        endpoint = moto.endpoint();
        ec2 = Ec2Client.builder().region(Region.US_EAST_1).credentialsProvider(creds()).endpointOverride(endpoint).build();
    }

    @AfterEach
    void tearDown() {
        ec2.close();
    }

    static StaticCredentialsProvider creds() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
    }

    Cli cli(URI aws) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", aws.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    static Filter f(String name, String... values) {
        return Filter.builder().name(name).values(values).build();
    }

    static Cli.Result ok(Cli.Result r) {
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r;
    }

    void planIsClean(String spec) {
        Cli.Result plan = cli(endpoint).run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isZero();
    }

    List<Instance> liveInstances(String env) {
        return ec2.describeInstances(b -> b.filters(f("tag:mlctl-environment", env), f("instance-state-name", "pending", "running", "stopping", "stopped")))
            .reservations().stream().flatMap(r -> r.instances().stream()).toList();
    }

    /** How many of each thing the spec makes exist for environment {@code env}. */
    Map<String, Integer> counts(String env) {
        Filter owned = f("tag:mlctl-environment", env);
        return Map.of(
            "vpc", ec2.describeVpcs(b -> b.filters(owned)).vpcs().size(),
            "subnet", ec2.describeSubnets(b -> b.filters(owned)).subnets().size(),
            "igw", ec2.describeInternetGateways(b -> b.filters(owned)).internetGateways().size(),
            "routeTable", ec2.describeRouteTables(b -> b.filters(f("tag:Name", env + "-net-public"))).routeTables().size(),
            "securityGroup", ec2.describeSecurityGroups(b -> b.filters(owned)).securityGroups().size(),
            "endpoint", (int) ec2.describeVpcEndpoints().vpcEndpoints().stream().filter(e -> !"deleted".equals(e.stateAsString())).count(),
            "instance", liveInstances(env).size());
    }

    static final Map<String, Integer> ONE_OF_EACH = Map.of("vpc", 1, "subnet", 1, "igw", 1, "routeTable", 1, "securityGroup", 1,
        "endpoint", 1, "instance", 1);

    @ParameterizedTest
    @ValueSource(strings = {"CreateVpc", "CreateSubnet", "CreateInternetGateway", "CreateRouteTable", "CreateSecurityGroup",
        "CreateVpcEndpoint", "RunInstances"})
    void aCreateWhoseAnswerIsLostIsFinishedNotRepeated(String action) throws Exception {
        String spec = Fixtures.write(dir, "lost.yaml", SPEC).toString();
        try (FaultProxy proxy = new FaultProxy(endpoint)) {
            FaultProxy.Drop drop = proxy.dropResponse(r -> r.isAction(action), 1);
            Cli.Result r = ok(cli(proxy.endpoint()).run("apply", "--auto-approve", spec));
            assertThat(drop.dropped()).as("the answer of %s was dropped", action).hasSize(1);
            assertThat(r.out()).contains("Apply complete! Resources: 2 added");
        }
        assertThat(counts("lost")).containsExactlyInAnyOrderEntriesOf(ONE_OF_EACH);
        planIsClean(spec);
    }

    @ParameterizedTest
    @ValueSource(longs = {7, 11, 23})
    void aThrottlingStormLeavesNoDuplicateAndAConvergedEnvironment(long seed) throws Exception {
        String spec = Fixtures.write(dir, "storm.yaml", SPEC.replace("name: lost", "name: storm") + """
                  identity: runner
                - type: bucket
                  name: storm-net-data
                  versioning: true
                - type: identity
                  name: runner
                  grants:
                    - actions: [storage.read]
                      resource: bucket/storm-net-data
            """).toString();
        try (FaultProxy proxy = new FaultProxy(endpoint)) {
            // A third of all requests refused, none more than twice in a row. Reads are retried by the SDK and then by the
            // engine, creates look before they are sent again: one apply does it, whatever order the parallel steps take.
            proxy.storm(0.3, seed, 2);
            Cli.Result run = cli(proxy.endpoint()).run("apply", "--auto-approve", spec);
            List<Cli.Result> runs = List.of(run);
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(proxy.stormServed()).as(runs.toString()).isGreaterThan(10);
            assertThat(String.join("\n", runs.stream().map(Cli.Result::out).toList())).contains("Apply complete! Resources:");
        }
        assertThat(counts("storm")).containsExactlyInAnyOrderEntriesOf(ONE_OF_EACH);
        try (S3Client s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds()).endpointOverride(endpoint).forcePathStyle(true).build();
             IamClient iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds()).endpointOverride(endpoint).build()) {
            assertThat(s3.listBuckets().buckets()).extracting(b -> b.name()).containsExactly("storm-net-data");
            assertThat(iam.listRoles(b -> b.pathPrefix("/mlctl/storm/")).roles()).hasSize(1);
        }
        planIsClean(spec);
    }

    @Test
    void instancesCarryTheirNetworksFirewallAndLosingItShowsAsDrift() {
        String spec = Fixtures.write(dir, "fw.yaml", SPEC).toString();
        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        String group = ec2.describeSecurityGroups(b -> b.filters(f("tag:mlctl-environment", "lost"), f("group-name", "lost-net")))
            .securityGroups().get(0).groupId();
        Instance box = liveInstances("lost").get(0);
        assertThat(box.securityGroups()).extracting(g -> g.groupId()).containsExactly(group);

        String vpc = box.vpcId();
        String other = ec2.createSecurityGroup(b -> b.groupName("someone-else").description("x").vpcId(vpc)).groupId();
        ec2.modifyInstanceAttribute(b -> b.instanceId(box.instanceId()).groups(other));
        Cli.Result plan = cli(endpoint).run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan.toString()).isEqualTo(2);
        assertThat(plan.out()).contains("instance.box").contains("lost-net (" + group + ") not attached");

        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        assertThat(liveInstances("lost").get(0).securityGroups()).extracting(g -> g.groupId()).containsExactlyInAnyOrder(group, other);
        planIsClean(spec);
    }

    @Test
    void otherTeamsTagsAndSubnetsAreNeitherDriftNorTouched() {
        String spec = Fixtures.write(dir, "tags.yaml", SPEC).toString();
        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        String vpc = ec2.describeVpcs(b -> b.filters(f("tag:mlctl-environment", "lost"))).vpcs().get(0).vpcId();
        String instance = liveInstances("lost").get(0).instanceId();
        ec2.createTags(b -> b.resources(vpc, instance).tags(Tag.builder().key("CostCenter").value("4711").build()));
        String foreign = ec2.createSubnet(b -> b.vpcId(vpc).cidrBlock("10.0.9.0/24")
            .tagSpecifications(t -> t.resourceType("subnet").tags(Tag.builder().key("team").value("data").build()))).subnet().subnetId();
        planIsClean(spec);
        Cli.Result inventory = ok(cli(endpoint).run("inventory", "--format", "json", spec));
        assertThat(inventory.out()).doesNotContain(foreign).doesNotContain("10.0.9.0/24");
        // The cloud's tags are shown as they are; the attribute the plan compares holds only mlctl's labels.
        JsonNode resources = JsonMapper.builder().build().readTree(inventory.out()).get("resources");
        resources.forEach(x -> assertThat(x.get("attributes").get("tags").toString()).isEqualTo("{\"team\":\"ml\"}"));
        assertThat(resources).hasSize(2);

        // A label changes and a subnet is added: mlctl's labels follow the spec, everything else stays.
        String changed = Fixtures.write(dir, "tags2.yaml", SPEC.replace("team: ml", "team: ml-platform")
            .replace("          private: false\n", "          private: false\n        - name: priv\n          cidr: 10.0.2.0/24\n")).toString();
        ok(cli(endpoint).run("apply", "--auto-approve", changed));
        Map<String, String> vpcTags = NetworkKind.tagMap(ec2.describeVpcs(b -> b.vpcIds(vpc)).vpcs().get(0).tags());
        assertThat(vpcTags).containsEntry("CostCenter", "4711").containsEntry("team", "ml-platform");
        assertThat(NetworkKind.tagMap(liveInstances("lost").get(0).tags())).containsEntry("CostCenter", "4711").containsEntry("team", "ml-platform");
        assertThat(ec2.describeSubnets(b -> b.subnetIds(foreign)).subnets()).singleElement()
            .satisfies(s -> assertThat(NetworkKind.tagMap(s.tags())).containsExactlyEntriesOf(Map.of("team", "data")));
        planIsClean(changed);

        // A label removed from the spec is removed from the cloud; the other team's tag is still not ours to remove.
        String unlabelled = Fixtures.write(dir, "tags3.yaml", Fixtures.read(Path.of(changed)).replace("  labels:\n    team: ml-platform\n", "")).toString();
        Cli.Result unlabel = ok(cli(endpoint).run("apply", "--auto-approve", unlabelled));
        assertThat(NetworkKind.tagMap(ec2.describeVpcs(b -> b.vpcIds(vpc)).vpcs().get(0).tags())).as(unlabel.out()).containsEntry("CostCenter", "4711")
            .doesNotContainKey("team");
        planIsClean(unlabelled);

        // The VPC cannot go while the other team's subnet is in it: said in one line, before anything of the network is deleted.
        Cli.Result destroy = cli(endpoint).run("destroy", "--auto-approve", unlabelled);
        assertThat(destroy.exitCode()).isEqualTo(1);
        assertThat(destroy.err()).contains("holds subnet " + foreign + " (10.0.9.0/24) that mlctl does not manage");
        assertThat(ec2.describeSubnets(b -> b.filters(f("vpc-id", vpc))).subnets()).hasSize(3);
    }

    @Test
    void aSameNamedSecurityGroupOfSomeoneElseInTheVpcIsRefusedAndLeftAlone() {
        String spec = Fixtures.write(dir, "sg.yaml", SPEC.replaceAll("(?s)    - type: instance.*", "")).toString();
        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        String vpc = ec2.describeVpcs(b -> b.filters(f("tag:mlctl-environment", "lost"))).vpcs().get(0).vpcId();
        String ours = ec2.describeSecurityGroups(b -> b.filters(f("group-name", "lost-net"))).securityGroups().get(0).groupId();
        ec2.deleteSecurityGroup(b -> b.groupId(ours));
        String theirs = ec2.createSecurityGroup(b -> b.groupName("lost-net").description("not mlctl's").vpcId(vpc)).groupId();
        String changed = Fixtures.write(dir, "sg2.yaml", Fixtures.read(Path.of(spec)).replace("ports: [22]", "ports: [22, 443]")).toString();
        Cli.Result r = cli(endpoint).run("apply", "--auto-approve", changed);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("network.net: security group lost-net (" + theirs + ") in " + vpc
            + " already exists and is not managed by mlctl");
        assertThat(ec2.describeSecurityGroups(b -> b.groupIds(theirs)).securityGroups().get(0).ipPermissions()).isEmpty();
    }

    @Test
    void aVpcOfTheSameNameOwnedBySomeoneElseIsNoClash() {
        String spec = Fixtures.write(dir, "name.yaml", SPEC.replaceAll("(?s)    - type: instance.*", "")).toString();
        String theirs = ec2.createVpc(b -> b.cidrBlock("10.0.0.0/16")
            .tagSpecifications(t -> t.resourceType("vpc").tags(Tag.builder().key("Name").value("lost-net").build()))).vpc().vpcId();
        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        assertThat(ec2.describeVpcs(b -> b.filters(f("tag:Name", "lost-net"))).vpcs()).hasSize(2);
        assertThat(NetworkKind.tagMap(ec2.describeVpcs(b -> b.vpcIds(theirs)).vpcs().get(0).tags())).containsExactlyEntriesOf(Map.of("Name", "lost-net"));
        planIsClean(spec);
    }

    @Test
    void aSubnetEc2CannotChangeIsReplacedOnItsOwnWithWhatRunsInIt() {
        String spec = Fixtures.write(dir, "nested.yaml", SPEC).toString();
        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        String moved = Fixtures.write(dir, "nested2.yaml", SPEC.replace("cidr: 10.0.1.0/24", "cidr: 10.0.3.0/24")).toString();
        Cli.Result plan = ok(cli(endpoint).run("plan", "--format", "json", moved));
        JsonNode changes = JsonMapper.builder().build().readTree(plan.out()).get("resourceChanges");
        Map<String, String> actions = new java.util.HashMap<>();
        changes.forEach(c -> actions.put(c.get("address").asString(), c.get("action").asString()));
        assertThat(actions).containsExactlyInAnyOrderEntriesOf(Map.of("network.net", "update", "network.net.subnet.pub", "replace",
            "instance.box", "replace"));
        assertThat(plan.out()).contains("subnets[pub].cidr cannot be changed in place");
        String vpc = ec2.describeVpcs(b -> b.filters(f("tag:mlctl-environment", "lost"))).vpcs().get(0).vpcId();
        ok(cli(endpoint).run("apply", "--auto-approve", "--allow-mass-delete", moved));
        planIsClean(moved);
        assertThat(ec2.describeVpcs(b -> b.filters(f("tag:mlctl-environment", "lost"))).vpcs()).singleElement()
            .satisfies(v -> assertThat(v.vpcId()).isEqualTo(vpc));
        assertThat(ec2.describeSubnets(b -> b.filters(f("vpc-id", vpc), f("tag:mlctl-environment", "lost"))).subnets())
            .extracting(software.amazon.awssdk.services.ec2.model.Subnet::cidrBlock).contains("10.0.3.0/24").doesNotContain("10.0.1.0/24");
        String opened = Fixtures.write(dir, "nested3.yaml", SPEC.replace("cidr: 10.0.1.0/24", "cidr: 10.0.3.0/24").replace("ports: [22]", "ports: [22, 443]")
            .replace("machineType: m5.large", "machineType: m5.xlarge")).toString();
        Cli.Result inPlace = ok(cli(endpoint).run("plan", "--format", "json", opened));
        Map<String, String> inPlaceActions = new java.util.HashMap<>();
        JsonMapper.builder().build().readTree(inPlace.out()).get("resourceChanges")
            .forEach(c -> inPlaceActions.put(c.get("address").asString(), c.get("action").asString()));
        assertThat(inPlaceActions).containsExactlyInAnyOrderEntriesOf(Map.of("network.net", "update", "instance.box", "update"));
    }

    @Test
    void aFirewallChangeWhoseAnswerIsLostIsNotAnError() throws Exception {
        String spec = Fixtures.write(dir, "fw1.yaml", SPEC).toString();
        ok(cli(endpoint).run("apply", "--auto-approve", spec));
        String opened = Fixtures.write(dir, "fw2.yaml", SPEC.replace("ports: [22]", "ports: [22, 443]")).toString();
        try (FaultProxy proxy = new FaultProxy(endpoint)) {
            FaultProxy.Drop drop = proxy.dropResponse(r -> r.isAction("AuthorizeSecurityGroupIngress"), 1);
            ok(cli(proxy.endpoint()).run("apply", "--auto-approve", opened));
            assertThat(drop.dropped()).hasSize(1);
        }
        planIsClean(opened);
    }
}
