package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.gax.grpc.GrpcStatusCode;
import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.ApiExceptionFactory;
import com.google.api.gax.rpc.ErrorDetails;
import com.google.cloud.storage.StorageException;
import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.mlctl.provider.DriverException;
import java.io.IOException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Google's failures as users read them: one line, the permission and resource, the quota and region, retried only when worth it. */
class GcpErrorsTest {
    private static ApiException api(Status.Code code, String message, ErrorInfo info) {
        ErrorDetails details = info == null ? null : ErrorDetails.builder().setRawErrorMessages(List.of(Any.pack(info))).build();
        return ApiExceptionFactory.createException(new RuntimeException(message), GrpcStatusCode.of(code), false, details);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
            Arguments.of("permission with ErrorInfo",
                api(Status.Code.PERMISSION_DENIED, "Permission denied\nlong body", ErrorInfo.newBuilder().setReason("IAM_PERMISSION_DENIED")
                    .putMetadata("permission", "compute.instances.create").putMetadata("resource", "projects/p/zones/us-central1-a/instances/i").build()),
                "compute.instances.insert i: permission denied: the credentials lack compute.instances.create on projects/p/zones/us-central1-a/instances/i",
                false),
            Arguments.of("permission named only in the message",
                api(Status.Code.PERMISSION_DENIED, "Required 'compute.networks.create' permission for 'projects/p/global/networks/n'", null),
                "compute.instances.insert i: permission denied: the credentials lack compute.networks.create on projects/p/global/networks/n", false),
            Arguments.of("GPU quota inside an operation",
                api(Status.Code.RESOURCE_EXHAUSTED, "Operation failed: QUOTA_EXCEEDED: Quota 'NVIDIA_V100_GPUS' exceeded.  Limit: 0.0 in region us-central1.", null),
                "compute.instances.insert i: quota NVIDIA_V100_GPUS exceeded in region us-central1 (limit 0); request more in the console under IAM & Admin > Quotas",
                false),
            Arguments.of("unavailable is retried", api(Status.Code.UNAVAILABLE, "The service is currently unavailable.", null),
                "compute.instances.insert i: UNAVAILABLE: The service is currently unavailable.", true),
            Arguments.of("a rate limit is retried", api(Status.Code.RESOURCE_EXHAUSTED, "Rate Limit Exceeded", null),
                "compute.instances.insert i: RESOURCE_EXHAUSTED: Rate Limit Exceeded", true),
            Arguments.of("a bad request is not", api(Status.Code.INVALID_ARGUMENT, "io.grpc.StatusRuntimeException: INVALID_ARGUMENT: Invalid value for field 'resource.name'\nmore", null),
                "compute.instances.insert i: INVALID_ARGUMENT: Invalid value for field 'resource.name'", false),
            Arguments.of("storage 403", new StorageException(403, "sa@p.iam.gserviceaccount.com does not have storage.buckets.create access to the Google Cloud project. Permission 'storage.buckets.create' denied on resource (or it may not exist)."),
                "compute.instances.insert i: permission denied: the credentials lack storage.buckets.create", false),
            Arguments.of("storage 429", new StorageException(429, "The rate of change requests to the bucket is too high"),
                "compute.instances.insert i: HTTP 429: The rate of change requests to the bucket is too high", true),
            Arguments.of("no credentials", new RuntimeException(new IOException("Your default credentials were not found. To set up Application Default Credentials, see https://cloud.google.com/docs/authentication/external/set-up-adc for more information.")),
                "no Google Cloud credentials found for compute.instances.insert i: run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file",
                false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneLineEach(String why, Throwable failure, String message, boolean retryable) {
        DriverException e = GcpErrors.translate("compute.instances.insert i", failure);
        assertThat(e.getMessage()).isEqualTo(message).doesNotContain("\n");
        assertThat(e.retryable()).isEqualTo(retryable);
    }
}
