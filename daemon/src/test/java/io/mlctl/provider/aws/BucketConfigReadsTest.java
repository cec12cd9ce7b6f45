package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.FaultProxy;
import io.mlctl.testing.MotoServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The per-bucket configuration reads S3 forces overlap on a bounded pool, with no extra request. */
@ExtendWith(MotoServer.class)
class BucketConfigReadsTest {
    @Test
    void readsOverlapBoundedAndCountTheSame(MotoServer.Instance moto) throws Exception {
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));
        List<String> buckets = new ArrayList<>();
        try (S3Client setup = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(moto.endpoint())
            .forcePathStyle(true).build()) {
            for (int i = 0; i < 6; i++) {
                String b = "reads-" + i;
                setup.createBucket(x -> x.bucket(b));
                buckets.add(b);
            }
            setup.putBucketVersioning(x -> x.bucket("reads-0").versioningConfiguration(v -> v.status("Enabled")));
        }
        buckets.add("reads-gone"); // listed by the tagging API, deleted before its reads
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        AtomicInteger requests = new AtomicInteger();
        ExecutionInterceptor gauge = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission c, ExecutionAttributes a) {
                requests.incrementAndGet();
                maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            }

            @Override
            public void afterTransmission(Context.AfterTransmission c, ExecutionAttributes a) {
                inFlight.decrementAndGet();
            }
        };
        try (FaultProxy proxy = new FaultProxy(moto.endpoint());
             S3Client s3 = S3Client.builder().region(Region.US_EAST_1).credentialsProvider(creds).endpointOverride(proxy.endpoint())
                 .forcePathStyle(true).overrideConfiguration(ClientOverrideConfiguration.builder().addExecutionInterceptor(gauge).build()).build()) {
            proxy.delay(40); // every answer takes a while, so reads that can overlap do
            Map<String, Optional<Map<String, Object>>> read = BucketKind.readAll(s3, buckets);

            assertThat(read).hasSize(7);
            assertThat(read.get("reads-gone")).isEmpty();
            assertThat(read.get("reads-0")).hasValueSatisfying(attrs -> assertThat(attrs).containsEntry("versioning", true)
                .containsEntry("encryption", "managed").containsEntry("public", true).containsEntry("lifecycle", List.of()));
            assertThat(read.get("reads-5")).hasValueSatisfying(attrs -> assertThat(attrs).containsEntry("versioning", false));
            assertThat(requests.get()).as("four reads per bucket, no more").isEqualTo(4 * 7);
            assertThat(maxInFlight.get()).isBetween(2, BucketKind.READERS);
        }
    }
}
