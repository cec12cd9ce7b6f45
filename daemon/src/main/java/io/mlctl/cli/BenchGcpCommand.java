package io.mlctl.cli;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "bench-gcp", hidden = true, mixinStandardHelpOptions = true,
    description = {"Count the Google API requests and time of a no-change plan on an environment of buckets, networks and service accounts.",
        "Point the CLOUDSDK_API_ENDPOINT_OVERRIDES_* variables at the GCP fakes (bin/gcp-fakes prints them; never a real project:",
        "it creates resources). See docs/benchmarks.md."})
final class BenchGcpCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @picocli.CommandLine.Mixin CloudBench.Size size;

    @Override
    public Integer call() throws IOException {
        Services s = root.services;
        // Every service it touches must be a local fake: it creates buckets (global names) and service accounts.
        io.mlctl.provider.gcp.GcpSettings gcp = io.mlctl.provider.gcp.GcpSettings.fromEnvironment(s.env());
        for (String service : new String[] {"compute", "storage", "iam", "cloudresourcemanager", "container", "aiplatform"}) {
            String host = gcp.hostPort(service).orElse("");
            if (!gcp.plaintext(service) || !(host.startsWith("127.0.0.1:") || host.startsWith("localhost:"))) {
                throw new MlctlException("bench-gcp needs every Google API pointed at the local GCP fakes (see bin/gcp-fakes); "
                    + service + " is not");
            }
        }
        int each = size.resources / 3;
        StringBuilder y = new StringBuilder("apiVersion: mlctl.io/v1\nkind: Environment\nmetadata: {name: bench-gcp, labels: {team: ml}}\nspec:\n"
            + "  provider: gcp\n  region: us-central1\n  resources:\n");
        for (int i = 0; i < each; i++) {
            y.append("    - {type: bucket, name: bench-gcp-bucket-").append(i).append(", versioning: true, ")
                .append("lifecycle: [{afterDays: 30, storageClass: archive}, {noncurrentExpireDays: 90}]}\n");
            y.append("    - {type: network, name: net-").append(i).append(", cidr: 10.0.0.0/16, subnets: [{name: a, cidr: 10.0.0.0/20}], ")
                .append("firewall: [{name: ssh, ports: [22], sources: [203.0.113.0/24]}]}\n");
            y.append("    - {type: identity, name: sa-").append(i).append(", grants: [{actions: [storage.read], resource: bucket/bench-gcp-bucket-")
                .append(i).append("}]}\n");
        }
        CloudBench.run(s, y.toString(), "gcp", size.repeat);
        return 0;
    }
}
