package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.LockService;
import io.mlctl.locks.S3Locks;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.MotoServer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code mlctl apply|destroy --lock s3://…} on the sandbox, with the lock in moto: a person's apply is
 * refused while a daemon replica holds the environment, and an apply that takes the lock leaves none behind.
 */
@ExtendWith(MotoServer.class)
class S3LockCliTest {
    private static final String LOCK = "s3://team-locks/mlctl";
    private static final String KEY = "mlctl/dev.lock";
    @TempDir
    Path dir;
    Cli cli;
    String spec;
    S3Client s3;
    S3Locks daemon;

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        cli = new Cli(dir).env("AWS_ENDPOINT_URL", moto.endpoint().toString()).env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test").env("USER", "alice").env("HOSTNAME", "laptop");
        spec = Fixtures.write(dir, "specs/dev.yaml", Fixtures.smallEnv("dev")).toString();
        s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(moto.endpoint()).forcePathStyle(true)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))).build();
        s3.createBucket(b -> b.bucket("team-locks"));
        // Versioned, so that every write and the delete of the lock object stay visible to the test.
        s3.putBucketVersioning(b -> b.bucket("team-locks").versioningConfiguration(v -> v.status("Enabled")));
        daemon = new S3Locks(s3, S3Locks.Location.parse(LOCK), "replica-0", Clock.fixed(Cli.NOW, ZoneOffset.UTC), Duration.ofSeconds(60),
            Duration.ofSeconds(20));
    }

    @AfterEach
    void tearDown() {
        daemon.close();
        s3.close();
    }

    private List<ObjectVersion> lockVersions() {
        return s3.listObjectVersions(b -> b.bucket("team-locks").prefix(KEY)).versions();
    }

    private boolean lockPresent() {
        return !s3.listObjectsV2(b -> b.bucket("team-locks")).contents().isEmpty();
    }

    private String nothingApplied() {
        return cli.run("sandbox", "list", "-e", "dev").out();
    }

    @Test
    void anApplyOrDestroyWhileAReplicaHoldsTheLockIsRefusedAndChangesNothing() {
        String before = nothingApplied();
        try (LockService.Held held = daemon.acquire("dev", dir, "mlctl daemon", Cli.NOW)) {
            String refusal = "Error: environment dev is locked by mlctl daemon (replica-0, since 2026-01-01T00:00:00Z, renewed until "
                + "2026-01-01T00:01:00Z); wait for it to finish and try again\n";
            Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", "--lock", LOCK, spec);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).isEqualTo(refusal);
            assertThat(nothingApplied()).isEqualTo(before).contains("0 resources");

            Cli.Result viaEnv = cli.env("MLCTL_LOCK", LOCK).run("destroy", "--sandbox", "--auto-approve", spec);
            assertThat(viaEnv.exitCode()).as(viaEnv.toString()).isEqualTo(1);
            assertThat(viaEnv.err()).isEqualTo(refusal);
            held.check();
        }
        assertThat(lockVersions()).as("the refused commands wrote nothing: one write, by the replica").hasSize(1);
        assertThat(lockPresent()).isFalse();
    }

    @Test
    void anApplyHoldsTheLockWhileItRunsAndLeavesNoneBehind() throws Exception {
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", "--lock", LOCK, spec);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Apply complete! Resources: 4 added");
        assertThat(nothingApplied()).contains("4 resources");
        assertThat(lockPresent()).isFalse();
        List<ObjectVersion> versions = lockVersions();
        assertThat(versions).as("the lock was written once, then deleted").hasSize(1);
        String body = s3.getObjectAsBytes(b -> b.bucket("team-locks").key(KEY).versionId(versions.get(0).versionId())).asUtf8String();
        var lock = JsonMapper.builder().build().readTree(body);
        assertThat(lock.get("purpose").asString()).isEqualTo("mlctl apply");
        assertThat(lock.get("holder").asString()).startsWith("alice@laptop, pid ");
        assertThat(s3.listObjectVersions(b -> b.bucket("team-locks").prefix(KEY)).deleteMarkers()).hasSize(1);

        // A later command takes it again over the delete marker, and the destroy releases it too.
        Cli.Result destroy = cli.env("MLCTL_LOCK", LOCK).run("destroy", "--sandbox", "--auto-approve", spec);
        assertThat(destroy.exitCode()).as(destroy.toString()).isZero();
        assertThat(nothingApplied()).contains("0 resources");
        assertThat(lockVersions()).hasSize(2);
        assertThat(lockPresent()).isFalse();
    }

    @Test
    void anUnknownLockIsOneLineAndNothingIsApplied() {
        String before = nothingApplied();
        Cli.Result r = cli.run("apply", "--sandbox", "--auto-approve", "--lock", "kubernets", spec);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Error: unknown lock 'kubernets': use file, kubernetes or s3://BUCKET/PREFIX (did you mean kubernetes?)\n");
        Cli.Result noBucket = cli.run("apply", "--sandbox", "--auto-approve", "--lock", "s3://no-such-bucket/mlctl", spec);
        assertThat(noBucket.exitCode()).isEqualTo(1);
        assertThat(noBucket.err()).isEqualTo("Error: the lock bucket no-such-bucket does not exist (--lock s3://no-such-bucket/mlctl): "
            + "create it or name another\n");
        assertThat(nothingApplied()).isEqualTo(before).contains("0 resources");
    }

    @Test
    void theHelpDocumentsTheLock() {
        for (String command : List.of("apply", "destroy")) {
            assertThat(cli.run(command, "--help").out()).contains("--lock=KIND").contains("MLCTL_LOCK").contains("s3://BUCKET/PREFIX")
                .contains("kubernetes").contains("--lease-namespace=NS");
        }
    }
}
