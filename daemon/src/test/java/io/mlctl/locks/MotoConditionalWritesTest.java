package io.mlctl.locks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.testing.MotoServer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The probe the S3 lock stands on: does moto_server honour the conditional headers S3 documents
 * (If-None-Match: * and If-Match on PutObject, If-Match on DeleteObject), and does exactly one of
 * several simultaneous conditional writers win? If moto ignored a header, the lock tests would pass
 * for the wrong reason; these fail instead.
 */
@ExtendWith(MotoServer.class)
class MotoConditionalWritesTest {
    private static final String BUCKET = "probe-locks";
    S3Client s3;

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        s3 = S3Client.builder().region(Region.US_EAST_1).endpointOverride(moto.endpoint()).forcePathStyle(true)
            .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"))).build();
        s3.createBucket(b -> b.bucket(BUCKET));
    }

    @AfterEach
    void tearDown() {
        s3.close();
    }

    private String put(String key, String body, String ifNoneMatch, String ifMatch) {
        return s3.putObject(b -> b.bucket(BUCKET).key(key).ifNoneMatch(ifNoneMatch).ifMatch(ifMatch), RequestBody.fromString(body)).eTag();
    }

    private static int status(Runnable call) {
        try {
            call.run();
            return 200;
        } catch (S3Exception e) {
            return e.statusCode();
        }
    }

    @Test
    void ifNoneMatchStarRefusesAnExistingObject() {
        put("k", "first", "*", null);
        assertThatThrownBy(() -> put("k", "second", "*", null)).isInstanceOfSatisfying(S3Exception.class, e -> {
            assertThat(e.statusCode()).isEqualTo(412);
            assertThat(e.awsErrorDetails().errorCode()).isEqualTo("PreconditionFailed");
        });
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String()).isEqualTo("first");
    }

    @Test
    void ifMatchWritesOnlyOverTheETagSeen() {
        String first = put("k", "first", null, null);
        String second = put("k", "second", null, first);
        assertThat(second).isNotEqualTo(first);
        assertThat(status(() -> put("k", "third", null, first))).as("stale ETag").isEqualTo(412);
        assertThat(status(() -> put("k", "third", null, "\"0123456789abcdef0123456789abcdef\""))).isEqualTo(412);
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String()).isEqualTo("second");
        // Real S3 answers 404 NoSuchKey for If-Match on a missing key; so does moto.
        assertThatThrownBy(() -> put("missing", "x", null, second)).isInstanceOf(NoSuchKeyException.class);
    }

    @Test
    void conditionalDeleteDeletesOnlyTheETagSeen() {
        String first = put("k", "first", null, null);
        String second = put("k", "second", null, null);
        assertThat(status(() -> s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch(first)))).isEqualTo(412);
        assertThat(s3.getObjectAsBytes(b -> b.bucket(BUCKET).key("k")).asUtf8String()).isEqualTo("second");
        s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch(second));
        assertThatThrownBy(() -> s3.headObject(b -> b.bucket(BUCKET).key("k"))).isInstanceOf(NoSuchKeyException.class);
        assertThat(status(() -> s3.deleteObject(b -> b.bucket(BUCKET).key("k").ifMatch(second)))).as("gone").isEqualTo(404);
    }

}
