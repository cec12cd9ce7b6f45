package io.mlctl.provider.azure;

import io.mlctl.testing.Acceptance;
import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against a real Azure subscription, only when asked: MLCTL_ACCEPTANCE_AZURE=1, a subscription
 * (AZURE_SUBSCRIPTION_ID or the Azure CLI's default) and credentials DefaultAzureCredential finds
 * (AZURE_CLIENT_ID/AZURE_TENANT_ID with a secret or certificate, workload or managed identity, or
 * 'az login'), with no endpoint override pointing elsewhere. It creates a resource group holding a
 * storage account with a container and a managed identity with a container-scoped grant (no charge
 * at rest), plans again, and destroys them. Skipped otherwise, saying why.
 */
class AzureAcceptanceTest {
    @TempDir
    Path dir;

    @Test
    void smallEnvironmentOnRealAzure() {
        Map<String, String> env = System.getenv();
        AzureSettings settings = AzureSettings.fromEnvironment(env);
        String skip = !"1".equals(env.get("MLCTL_ACCEPTANCE_AZURE")) ? "set MLCTL_ACCEPTANCE_AZURE=1 to run it"
            : env.containsKey(AzureSettings.ENDPOINT_VARIABLE) ? AzureSettings.ENDPOINT_VARIABLE + " points somewhere else than Azure"
            : settings.subscriptionFromEnvironment().isEmpty() ? "no subscription (AZURE_SUBSCRIPTION_ID, or 'az login' and 'az account set')"
            : !hasCredentials(env) ? "no credentials DefaultAzureCredential can use (AZURE_CLIENT_ID + AZURE_TENANT_ID + a secret or "
                + "certificate, a managed or workload identity, or 'az login')" : null;
        Acceptance.skipUnless("AzureAcceptanceTest", skip);
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        Path spec = Fixtures.write(dir, "acceptance.yaml", """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: mlctl-acc-%s, labels: {purpose: mlctl-acceptance}}
            spec:
              provider: azure
              region: %s
              resources:
                - {type: bucket, name: corpus, versioning: true, lifecycle: [{expireDays: 1}]}
                - {type: identity, name: reader, grants: [{actions: [storage.read], resource: bucket/corpus}]}
            """.formatted(suffix, env.getOrDefault("MLCTL_ACCEPTANCE_AZURE_REGION", "eastus")));
        Cli cli = new Cli(dir);
        env.forEach((k, v) -> {
            if (k.startsWith("AZURE_") || k.startsWith("IDENTITY_") || k.startsWith("MSI_") || k.equals("HOME") || k.equals("PATH")) cli.env(k, v);
        });
        Acceptance.applyPlanDestroy(cli, spec);
    }

    /** A cheap look for what DefaultAzureCredential would find, without asking Entra ID for a token. */
    private static boolean hasCredentials(Map<String, String> env) {
        boolean servicePrincipal = env.containsKey("AZURE_CLIENT_ID") && env.containsKey("AZURE_TENANT_ID")
            && (env.containsKey("AZURE_CLIENT_SECRET") || env.containsKey("AZURE_CLIENT_CERTIFICATE_PATH") || env.containsKey("AZURE_FEDERATED_TOKEN_FILE"));
        boolean managed = env.containsKey("IDENTITY_ENDPOINT") || env.containsKey("MSI_ENDPOINT");
        boolean cli = Files.isRegularFile(Path.of(env.getOrDefault("AZURE_CONFIG_DIR", System.getProperty("user.home") + "/.azure"), "azureProfile.json"));
        return servicePrincipal || managed || cli;
    }
}
