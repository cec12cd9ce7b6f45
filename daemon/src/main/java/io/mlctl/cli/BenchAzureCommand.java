package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.provider.azure.AzureSettings;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "bench-azure", hidden = true, mixinStandardHelpOptions = true,
    description = {"Count the Resource Manager requests and time of a no-change plan on a synthetic environment.",
        "Point MLCTL_AZURE_RESOURCE_MANAGER_ENDPOINT at the ARM fake (bin/azure-fakes prints it); never a real",
        "subscription: it creates resources. See docs/benchmarks.md."})
final class BenchAzureCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @picocli.CommandLine.Mixin CloudBench.Size size;

    @picocli.CommandLine.Option(names = "--mix", defaultValue = "thirds",
        description = "thirds: buckets, networks, identities (as bench-gcp); ml: a sixth each of networks, buckets, identities, VMs, AKS clusters and online endpoints (default ${DEFAULT-VALUE}).")
    String mix;

    @Override
    public Integer call() throws IOException {
        Services s = root.services;
        AzureSettings azure = AzureSettings.fromEnvironment(s.env());
        String host = azure.resourceManager().getHost();
        if (!azure.plaintext() || !(host.equals("127.0.0.1") || host.equals("localhost"))) {
            throw new MlctlException("bench-azure needs MLCTL_AZURE_RESOURCE_MANAGER_ENDPOINT pointed at the local ARM fake (see bin/azure-fakes)");
        }
        if (!mix.equals("thirds") && !mix.equals("ml")) throw new MlctlException("--mix must be thirds or ml, not " + mix);
        int each = size.resources / (mix.equals("ml") ? 6 : 3);
        StringBuilder y = new StringBuilder("apiVersion: mlctl.io/v1\nkind: Environment\nmetadata: {name: bench-azure, labels: {team: ml}}\nspec:\n"
            + "  provider: azure\n  region: eastus\n  resources:\n");
        for (int i = 0; i < each; i++) {
            y.append("    - {type: bucket, name: data-").append(i).append(", versioning: true, ")
                .append("lifecycle: [{afterDays: 30, storageClass: archive}, {noncurrentExpireDays: 90}]}\n");
            y.append("    - {type: network, name: net-").append(i).append(", cidr: 10.0.0.0/16, subnets: [{name: a, cidr: 10.0.0.0/20}], ")
                .append("firewall: [{name: ssh, ports: [22], sources: [203.0.113.0/24]}]}\n");
            y.append("    - {type: identity, name: id-").append(i).append(", grants: [{actions: [storage.read], resource: bucket/data-")
                .append(i).append("}]}\n");
            if (mix.equals("ml")) {
                y.append("    - {type: instance, name: vm-").append(i).append(", machineType: Standard_D4s_v3, subnet: net-").append(i)
                    .append("/a, identity: id-").append(i).append("}\n");
                y.append("    - {type: kubernetes_cluster, name: k-").append(i).append(", version: \"1.29\", subnet: net-").append(i)
                    .append("/a, identity: id-").append(i).append(", nodePools: [{name: gpu, machineType: Standard_NC6s_v3, min: 0, max: 4, spot: true}]}\n");
                y.append("    - {type: inference_endpoint, name: ep-").append(i).append(", modelUri: \"azureml://registries/nlp/models/m/versions/1\", ")
                    .append("machineType: Standard_DS3_v2, minReplicas: 1, maxReplicas: 3, identity: id-").append(i).append("}\n");
            }
        }
        CloudBench.run(s, y.toString(), "azure", size.repeat);
        return 0;
    }
}
