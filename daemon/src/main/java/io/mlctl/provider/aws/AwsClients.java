package io.mlctl.provider.aws;

import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.applicationautoscaling.ApplicationAutoScalingClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.eks.EksClient;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.resourcegroupstaggingapi.ResourceGroupsTaggingApiClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sagemaker.SageMakerClient;
import software.amazon.awssdk.services.sts.StsClient;

/** The SDK clients of one region, sharing one HTTP connection pool and one request counter. */
final class AwsClients implements AutoCloseable {
    /** The SDK's standard retries, a little more patient (throttling storms); creates without a token use none. */
    static final int READ_ATTEMPTS = 5;
    final Ec2Client ec2;
    final S3Client s3;
    final IamClient iam;
    final EksClient eks;
    final SageMakerClient sagemaker;
    final ApplicationAutoScalingClient autoscaling;
    final ResourceGroupsTaggingApiClient tagging;
    /** Who the credentials belong to (GetCallerIdentity), asked of this region's regional endpoint. */
    final StsClient sts;
    /**
     * Clients that never retry on their own, for the first call of a create that takes no client
     * token: after a lost answer a blind retry would make a second resource. The managed-resource
     * machinery retries such a create by looking first.
     */
    final Ec2Client ec2Once;
    final S3Client s3Once;
    final IamClient iamOnce;
    final SageMakerClient sagemakerOnce;
    final Region region;
    private final SdkHttpClient http;
    private final AwsSettings settings;
    private final ClientOverrideConfiguration override;
    /** Tagging clients of other regions, for finding where an environment owns something: one client, not a region's full set. */
    private final java.util.Map<String, ResourceGroupsTaggingApiClient> taggingElsewhere = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();

    AwsClients(String region, AwsSettings settings) {
        this.region = Region.of(region);
        this.http = ApacheHttpClient.builder().maxConnections(64).build();
        ExecutionInterceptor counter = new ExecutionInterceptor() {
            @Override
            public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                requests.incrementAndGet();
            }
        };
        ClientOverrideConfiguration override = ClientOverrideConfiguration.builder()
            .addExecutionInterceptor(counter).retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(READ_ATTEMPTS).build()).build();
        this.settings = settings;
        this.override = override;
        this.ec2 = configure(Ec2Client.builder(), "EC2", settings, override).build();
        var s3b = configure(S3Client.builder(), "S3", settings, override);
        // Emulators and private endpoints answer on one host name: path-style addressing.
        if (settings.endpoint("S3").isPresent()) s3b.forcePathStyle(true);
        this.s3 = s3b.build();
        // IAM is global; its endpoint signs in us-east-1.
        this.iam = configure(IamClient.builder(), "IAM", settings, override).region(Region.AWS_GLOBAL).build();
        this.eks = configure(EksClient.builder(), "EKS", settings, override).build();
        this.sagemaker = configure(SageMakerClient.builder(), "SAGEMAKER", settings, override).build();
        this.autoscaling = configure(ApplicationAutoScalingClient.builder(), "APPLICATION_AUTO_SCALING", settings, override).build();
        this.tagging = configure(ResourceGroupsTaggingApiClient.builder(), "RESOURCE_GROUPS_TAGGING_API", settings, override).build();
        this.sts = configure(StsClient.builder(), "STS", settings, override).build();
        ClientOverrideConfiguration once = override.toBuilder().retryStrategy(AwsRetryStrategy.doNotRetry()).build();
        this.ec2Once = configure(Ec2Client.builder(), "EC2", settings, once).build();
        var s3o = configure(S3Client.builder(), "S3", settings, once);
        if (settings.endpoint("S3").isPresent()) s3o.forcePathStyle(true);
        this.s3Once = s3o.build();
        this.iamOnce = configure(IamClient.builder(), "IAM", settings, once).region(Region.AWS_GLOBAL).build();
        this.sagemakerOnce = configure(SageMakerClient.builder(), "SAGEMAKER", settings, once).build();
    }

    private <B extends software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<B, ?>
        & software.amazon.awssdk.core.client.builder.SdkSyncClientBuilder<B, ?>> B configure(
        B builder, String serviceId, AwsSettings settings, ClientOverrideConfiguration override) {
        builder.region(region).credentialsProvider(settings.credentials()).overrideConfiguration(override).httpClient(http);
        settings.endpoint(serviceId).ifPresent(builder::endpointOverride);
        return builder;
    }

    /** The tagging API of {@code other} region, on this region's connections and counter. */
    ResourceGroupsTaggingApiClient taggingIn(String other) {
        if (other.equals(region.id())) return tagging;
        return taggingElsewhere.computeIfAbsent(other, r -> {
            var b = ResourceGroupsTaggingApiClient.builder().region(Region.of(r)).credentialsProvider(settings.credentials())
                .overrideConfiguration(override).httpClient(http);
            settings.endpoint("RESOURCE_GROUPS_TAGGING_API").ifPresent(b::endpointOverride);
            return b.build();
        });
    }

    java.util.Set<String> taggingRegions() {
        return java.util.Set.copyOf(taggingElsewhere.keySet());
    }

    long requestCount() {
        return requests.get();
    }

    @Override
    public void close() {
        ec2.close();
        s3.close();
        iam.close();
        eks.close();
        sagemaker.close();
        autoscaling.close();
        tagging.close();
        sts.close();
        taggingElsewhere.values().forEach(ResourceGroupsTaggingApiClient::close);
        ec2Once.close();
        s3Once.close();
        iamOnce.close();
        sagemakerOnce.close();
        http.close();
    }
}
