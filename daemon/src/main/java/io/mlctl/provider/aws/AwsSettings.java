package io.mlctl.provider.aws;

import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * Where and as whom the AWS driver talks: credentials from the SDK's default chain (environment,
 * profile, SSO, instance role; never the spec), and the endpoint overrides AWS tools honour
 * ({@code AWS_ENDPOINT_URL}, {@code AWS_ENDPOINT_URL_<SERVICE>}).
 */
public record AwsSettings(AwsCredentialsProvider credentials, Map<String, String> environment) {
    public static AwsSettings fromEnvironment(Map<String, String> env) {
        // The SDK's default chain reads the process environment; a caller-provided environment (tests,
        // the daemon's config) is consulted first for the same variables, then the chain as usual.
        String key = env.get("AWS_ACCESS_KEY_ID");
        String secret = env.get("AWS_SECRET_ACCESS_KEY");
        AwsCredentialsProvider chain = DefaultCredentialsProvider.builder().build();
        if (key != null && secret != null) {
            AwsCredentialsProvider fromEnv = StaticCredentialsProvider.create(env.get("AWS_SESSION_TOKEN") != null
                ? AwsSessionCredentials.create(key, secret, env.get("AWS_SESSION_TOKEN")) : AwsBasicCredentials.create(key, secret));
            chain = AwsCredentialsProviderChain.of(fromEnv, chain);
        }
        return new AwsSettings(chain, Map.copyOf(env));
    }

    /** The endpoint for a service id such as "S3", "EC2", "IAM", "SAGEMAKER", if overridden. */
    public Optional<URI> endpoint(String serviceId) {
        String specific = environment.get("AWS_ENDPOINT_URL_" + serviceId.toUpperCase(Locale.ROOT).replace(' ', '_'));
        String general = environment.get("AWS_ENDPOINT_URL");
        String value = specific != null && !specific.isBlank() ? specific : general;
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(URI.create(value));
    }

    /** Never the environment's values: they hold credentials. */
    @Override
    public String toString() {
        return "AwsSettings[endpoint=" + endpoint("").map(java.net.URI::toString).orElse("default") + "]";
    }
}
