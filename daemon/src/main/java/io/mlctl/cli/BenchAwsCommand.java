package io.mlctl.cli;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "bench-aws", hidden = true, mixinStandardHelpOptions = true,
    description = {"Count the AWS requests and time of a no-change plan on an environment of buckets, networks and roles.",
        "Point AWS_ENDPOINT_URL at moto_server (never at a real account: it creates resources). See docs/benchmarks.md."})
final class BenchAwsCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @picocli.CommandLine.Mixin CloudBench.Size size;

    @Override
    public Integer call() throws IOException {
        Services s = root.services;
        if (!s.env().containsKey("AWS_ENDPOINT_URL")) throw new MlctlException("bench-aws needs AWS_ENDPOINT_URL pointing at an emulator");
        int each = size.resources / 3;
        StringBuilder y = new StringBuilder("apiVersion: mlctl.io/v1\nkind: Environment\nmetadata: {name: bench-aws}\nspec:\n  provider: aws\n"
            + "  region: us-east-1\n  resources:\n");
        for (int i = 0; i < each; i++) {
            y.append("    - {type: bucket, name: bench-bucket-").append(i).append(", versioning: true, encryption: kms, ")
                .append("lifecycle: [{afterDays: 30, storageClass: archive}, {noncurrentExpireDays: 90}]}\n");
            y.append("    - {type: network, name: net-").append(i).append(", cidr: 10.0.0.0/16, ")
                .append("firewall: [{name: ssh, ports: [22], sources: [203.0.113.0/24]}]}\n");
            y.append("    - {type: identity, name: role-").append(i).append(", grants: [{actions: [storage.read], resource: bucket/bench-bucket-")
                .append(i).append("}]}\n");
        }
        CloudBench.run(s, y.toString(), "aws", size.repeat);
        return 0;
    }
}
