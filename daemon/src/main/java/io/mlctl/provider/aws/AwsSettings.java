package io.mlctl.provider.aws;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Where and as whom the AWS driver talks: credentials from the SDK's default chain (environment,
 * profile, SSO, instance role; never the spec), and the endpoint overrides AWS tools honour
 * ({@code AWS_ENDPOINT_URL}, {@code AWS_ENDPOINT_URL_<SERVICE>}).
 */
public record AwsSettings(AwsCredentialsProvider credentials, Map<String, String> environment) {
    public static AwsSettings fromEnvironment(Map<String, String> env) {
        return new AwsSettings(DefaultCredentialsProvider.builder().build(), Map.copyOf(env));
    }

    /** The endpoint for a service id such as "S3", "EC2", "IAM", "SAGEMAKER", if overridden. */
    public Optional<URI> endpoint(String serviceId) {
        String specific = environment.get("AWS_ENDPOINT_URL_" + serviceId.toUpperCase(Locale.ROOT).replace(' ', '_'));
        String general = environment.get("AWS_ENDPOINT_URL");
        String value = specific != null && !specific.isBlank() ? specific : general;
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(URI.create(value));
    }
}
