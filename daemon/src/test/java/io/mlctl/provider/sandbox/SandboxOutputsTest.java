package io.mlctl.provider.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Outputs come from the resource's cloud id, not from its address: a resource imported under another name (made by hand,
 * named as its maker chose) gives its own bucket URI, cluster name and endpoint URL.
 */
class SandboxOutputsTest {
    @TempDir
    Path dir;

    private static Environment env(String provider, String region) {
        return Specs.env("apiVersion: mlctl.io/v1\nkind: Environment\nmetadata: {name: ml}\nspec:\n  provider: " + provider + "\n  region: " + region
            + "\n  resources:\n    - {type: bucket, name: data}\n");
    }

    static Stream<Arguments> imported() {
        String rg = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/legacy-rg/providers/";
        return Stream.of(
            Arguments.of("aws", "us-east-1", "bucket.data", "legacy-data", Map.of(), Map.of("uri", "s3://legacy-data")),
            Arguments.of("gcp", "europe-west4", "bucket.data", "legacy-data", Map.of(), Map.of("uri", "gs://legacy-data")),
            Arguments.of("azure", "westeurope", "bucket.data", rg + "Microsoft.Storage/storageAccounts/legacystore/blobServices/default/containers/raw",
                Map.of(), Map.of("uri", "https://legacystore.blob.core.windows.net/raw")),
            Arguments.of("aws", "us-east-1", "kubernetes_cluster.main", "arn:aws:eks:us-west-2:000000000000:cluster/old-eks", Map.of("version", "1.30",
                "region", "us-west-2"), Map.of("endpoint", "https://"
                    + io.mlctl.util.Hashing.sha256Text("arn:aws:eks:us-west-2:000000000000:cluster/old-eks").substring(0, 32).toUpperCase()
                    + ".gr7.us-west-2.eks.amazonaws.com", "credentials", "aws eks update-kubeconfig --region us-west-2 --name old-eks", "version", "1.30")),
            Arguments.of("gcp", "europe-west4", "kubernetes_cluster.main", "projects/other-proj/locations/europe-west4/clusters/old-gke",
                Map.of("version", "1.30"), Map.of("credentials", "gcloud container clusters get-credentials old-gke --region europe-west4 --project other-proj")),
            Arguments.of("azure", "westeurope", "kubernetes_cluster.main", rg + "Microsoft.ContainerService/managedClusters/old-aks",
                Map.of("version", "1.30"), Map.of("credentials", "az aks get-credentials --resource-group legacy-rg --name old-aks", "version", "1.30.9")),
            Arguments.of("aws", "us-east-1", "inference_endpoint.model", "arn:aws:sagemaker:us-east-1:000000000000:endpoint/churn-v1", Map.of(),
                Map.of("invokeUrl", "https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/churn-v1/invocations")),
            Arguments.of("gcp", "europe-west4", "inference_endpoint.model", "projects/other-proj/locations/europe-west4/endpoints/42", Map.of(),
                Map.of("invokeUrl", "https://europe-west4-aiplatform.googleapis.com/v1/projects/other-proj/locations/europe-west4/endpoints/42:predict")),
            Arguments.of("aws", "us-east-1", "identity.runner", "arn:aws:iam::000000000000:role/ci-runner", Map.of(),
                Map.of("arn", "arn:aws:iam::000000000000:role/ci-runner", "instanceProfile", "arn:aws:iam::000000000000:instance-profile/ci-runner")),
            Arguments.of("gcp", "europe-west4", "identity.runner", "projects/other-proj/serviceAccounts/ci@other-proj.iam.gserviceaccount.com", Map.of(),
                Map.of("email", "ci@other-proj.iam.gserviceaccount.com")),
            Arguments.of("aws", "us-east-1", "network.net", "vpc-0123", Map.of("subnets", java.util.List.of(Map.of("name", "a", "cidr", "10.1.0.0/24"))),
                Map.of("subnets", "a=subnet-" + io.mlctl.util.Hashing.sha256Text("vpc-0123/a").substring(0, 17))),
            Arguments.of("azure", "westeurope", "network.net", rg + "Microsoft.Network/virtualNetworks/old-vnet",
                Map.of("subnets", java.util.List.of(Map.of("name", "a"), Map.of("name", "b")), "firewall", java.util.List.of(Map.of("name", "ssh"))),
                Map.of("subnets", "a=" + rg + "Microsoft.Network/virtualNetworks/old-vnet/subnets/a,b=" + rg + "Microsoft.Network/virtualNetworks/old-vnet/subnets/b")));
    }

    @ParameterizedTest(name = "{0} {2}")
    @MethodSource("imported")
    void derivedFromTheCloudId(String provider, String region, String address, String cloudId, Map<String, Object> attributes,
                               Map<String, String> expected) {
        SandboxCloud cloud = new SandboxCloud(dir, Specs.CATALOG, Clock.systemUTC());
        Map<String, String> outputs = cloud.outputs(env(provider, region), new ObservedResource(Address.parse(address), cloudId, attributes, Map.of()));
        assertThat(outputs).containsAllEntriesOf(expected);
        assertThat(outputs).doesNotContainKey("id");
        // A security group only on AWS, and only for a network with firewall rules.
        if (address.startsWith("network.")) assertThat(outputs).isEqualTo(expected);
    }
}
