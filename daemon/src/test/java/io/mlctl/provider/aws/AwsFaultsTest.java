package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.Journal;
import io.mlctl.testing.Cli;
import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.iam.IamClient;

/** Throttling, server errors, refusals and a killed apply, injected between the driver and moto_server. */
@ExtendWith(MotoServer.class)
class AwsFaultsTest {
    @TempDir
    Path dir;

    private Cli cli(java.net.URI endpoint) {
        return new Cli(dir).env("AWS_ENDPOINT_URL", endpoint.toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("AWS_REGION", "us-east-1");
    }

    private String spec() {
        return Fixtures.write(dir, "dev.yaml", Fixtures.smallEnv("dev")).toString();
    }

    @Test
    void throttlingAndServerErrorsAreRetried(MotoServer.Instance moto) throws Exception {
        try (FaultProxy proxy = new FaultProxy(moto.endpoint())) {
            FaultProxy.Fault throttled = proxy.failEc2(r -> r.isAction("RunInstances"), 503, "RequestLimitExceeded", 4);
            FaultProxy.Fault unavailable = proxy.failQuery(r -> r.isAction("CreateRole"), 503, "ServiceUnavailable", 4);
            FaultProxy.Fault slowDown = proxy.failS3(r -> r.method().equals("PUT") && r.path().equals("/dev-data") && r.query().equals("null"),
                503, "SlowDown", 4);
            Cli.Result r = cli(proxy.endpoint()).run("apply", "--auto-approve", spec());
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.out()).contains("Apply complete! Resources: 4 added");
            assertThat(throttled.served()).isEqualTo(4);
            assertThat(unavailable.served()).isEqualTo(4);
            assertThat(slowDown.served()).isEqualTo(4);
            // More failures than the SDK's own attempts: mlctl's backoff took over and said so.
            assertThat(r.out()).contains("instance.gpu-1: retrying in").contains("RequestLimitExceeded");
            assertThat(cli(moto.endpoint()).run("plan", "--detailed-exitcode", spec()).exitCode()).isZero();
        }
    }

    @Test
    void accessDeniedIsOneLineNamingTheActionAndResource(MotoServer.Instance moto) throws Exception {
        try (FaultProxy proxy = new FaultProxy(moto.endpoint())) {
            proxy.failQuery(r -> r.isAction("CreateRole"), 403, "AccessDenied", 100);
            Cli.Result r = cli(proxy.endpoint()).run("apply", "--auto-approve", spec());
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err()).contains("create identity.trainer: AWS refused iam:CreateRole dev-trainer: AccessDenied (injected AccessDenied);"
                + " check the IAM permissions of the credentials in use\n");
            assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(r.err()).contains("skip").doesNotContain("test"); // no secret in the output
        }
    }

    @Test
    void applyKilledMidwayResumesWithoutDuplicates(MotoServer.Instance moto) throws Exception {
        String spec = spec();
        Path state = dir.resolve("state");
        try (FaultProxy proxy = new FaultProxy(moto.endpoint())) {
            proxy.delay(120);
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.mlctl.cli.Main", "apply", "--auto-approve", spec);
            pb.environment().put("AWS_ENDPOINT_URL", proxy.endpoint().toString());
            pb.environment().put("AWS_ACCESS_KEY_ID", "test");
            pb.environment().put("AWS_SECRET_ACCESS_KEY", "test");
            pb.environment().put("MLCTL_STATE_DIR", state.toString());
            pb.redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile());
            Process p = pb.start();
            Path journal = state.resolve("dev").resolve(Journal.FILE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (System.nanoTime() < deadline && !(Files.exists(journal) && Fixtures.read(journal).contains("\"op\":\"create\",\"address\":\"instance.gpu-1\""))) {
                Thread.sleep(10);
            }
            assertThat(p.isAlive()).as(Fixtures.read(dir.resolve("first.log"))).isTrue();
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Fixtures.read(state.resolve("dev").resolve(Journal.FILE))).doesNotContain("\"event\":\"end\"");
        Cli.Result resumed = cli(moto.endpoint()).run("apply", "--auto-approve", spec);
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("Resuming an interrupted apply");
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        try (Ec2Client ec2 = Ec2Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto.endpoint()).build();
             IamClient iam = IamClient.builder().region(Region.AWS_GLOBAL).credentialsProvider(creds).endpointOverride(moto.endpoint()).build()) {
            Filter owned = Filter.builder().name("tag:mlctl-environment").values("dev").build();
            Map<String, Integer> perAddress = new HashMap<>();
            ec2.describeInstances(b -> b.filters(owned)).reservations().forEach(r -> r.instances().forEach(i -> i.tags().stream()
                .filter(t -> t.key().equals("mlctl-address")).forEach(t -> perAddress.merge(t.value(), 1, Integer::sum))));
            ec2.describeVpcs(b -> b.filters(owned)).vpcs().forEach(v -> perAddress.merge("network", 1, Integer::sum));
            assertThat(perAddress).containsExactlyInAnyOrderEntriesOf(Map.of("instance.gpu-1", 1, "network", 1));
            assertThat(iam.listRoles(b -> b.pathPrefix("/mlctl/dev/")).roles()).hasSize(1);
        }
        Cli.Result plan = cli(moto.endpoint()).run("plan", "--detailed-exitcode", spec);
        assertThat(plan.exitCode()).as(plan + "\nresumed: " + resumed).isZero();
    }
}
