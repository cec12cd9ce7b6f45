package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.provider.aws.AwsDriver;
import io.mlctl.provider.aws.AwsSettings;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.MotoServer;
import io.mlctl.testing.Specs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The daemon's loop with the real AWS driver, against moto_server. */
@ExtendWith(MotoServer.class)
class DaemonAwsTest {
    @TempDir
    Path dir;

    @Test
    void aCommitIsAppliedToAwsAndTheNextOneUpdatesIt(MotoServer.Instance moto) {
        String spec = """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: gitops-aws, labels: {team: ml}}
            spec:
              provider: aws
              region: us-east-1
              apply: auto
              resources:
                - {type: bucket, name: gitops-datasets, versioning: true}
                - {type: identity, name: reader, grants: [{actions: [storage.read], resource: bucket/gitops-datasets}]}
            """;
        try (GitRepos git = new GitRepos(dir)) {
            git.write("envs/aws.yaml", spec).commit("aws env");
            git.push("main");
            DaemonConfig config = DaemonConfig.builder(git.url(), dir.resolve("state")).path("envs").interval(Duration.ofSeconds(1))
                .listen("127.0.0.1:0").build();
            AwsSettings settings = AwsSettings.fromEnvironment(Map.of("AWS_ENDPOINT_URL", moto.endpoint().toString(),
                "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test"));
            StringWriter logs = new StringWriter();
            DaemonLog log = new DaemonLog(new PrintWriter(logs, true), false, Clock.systemUTC());
            DaemonMetrics metrics = new DaemonMetrics();
            try (GitSource source = new GitSource(config.repo(), dir.resolve("cache.git"), GitCredentials.none());
                 Notifier notifier = new Notifier(Optional.empty(), log, 1, Duration.ofMillis(1))) {
                Reconciler r = new Reconciler(config, source, d -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, d).load(List.of(d)),
                    env -> new AwsDriver(settings, Specs.CATALOG), Clock.systemUTC(), log, notifier, metrics, new PlanStore(dir.resolve("plans")),
                    DaemonHarness.ASSESSMENT);
                r.tick();
                assertThat(r.statuses()).singleElement().satisfies(s -> {
                    assertThat(s.status()).as(logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
                    assertThat(s.lastPlanSummary().orElseThrow().create()).isEqualTo(2);
                });
                try (S3Client s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(moto.endpoint()).forcePathStyle(true)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))).build()) {
                    assertThat(s3.getBucketVersioning(b -> b.bucket("gitops-datasets")).statusAsString()).isEqualTo("Enabled");
                    git.write("envs/aws.yaml", spec.replace("versioning: true", "versioning: false")).commit("versioning off");
                    git.push("main");
                    r.tick();
                    assertThat(r.statuses().get(0).lastPlanSummary().orElseThrow().update()).isEqualTo(1);
                    assertThat(s3.getBucketVersioning(b -> b.bucket("gitops-datasets")).statusAsString()).isEqualTo("Suspended");
                }
                assertThat(metrics.scrape()).contains("mlctl_cloud_requests_total{provider=\"aws\"}");
            }
        }
    }
}
