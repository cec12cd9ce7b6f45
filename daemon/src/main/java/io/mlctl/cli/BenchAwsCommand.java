package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.Driver;
import io.mlctl.spec.Environment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "bench-aws", hidden = true, mixinStandardHelpOptions = true,
    description = {"Count the AWS requests and time of a no-change plan on an environment of buckets, networks and roles.",
        "Point AWS_ENDPOINT_URL at moto_server (never at a real account: it creates resources). See docs/benchmarks.md."})
final class BenchAwsCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @Option(names = "--resources", defaultValue = "300", description = "Resources: a third each buckets, networks, identities (default ${DEFAULT-VALUE}).")
    int resources;

    @Option(names = "--repeat", defaultValue = "3", description = "Measured plans (default ${DEFAULT-VALUE}).")
    int repeat;

    @Override
    public Integer call() throws IOException {
        Services s = root.services;
        if (!s.env().containsKey("AWS_ENDPOINT_URL")) throw new MlctlException("bench-aws needs AWS_ENDPOINT_URL pointing at an emulator");
        int each = resources / 3;
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
        Path dir = Files.createTempDirectory("mlctl-bench-aws");
        Path spec = dir.resolve("bench.yaml");
        Files.writeString(spec, y.toString());
        Environment env = s.loadConfig(List.of(spec)).environments().get(0);
        try (Driver driver = s.driver(env, false)) {
            Engine engine = new Engine(driver, dir.resolve("state"), s.clock(), RetryPolicy.standard(new Random()));
            long t0 = System.nanoTime();
            engine.apply(env, new Engine.ApplyRequest(PlanOptions.defaults(s.clock().instant()), Optional.empty(), true, 10, "bench"),
                p -> true, new Engine.Observer() { });
            s.out().printf("applied %d resources in %.1f s%n", env.resources().size(), (System.nanoTime() - t0) / 1e9);
            List<Long> requests = new ArrayList<>();
            List<Double> seconds = new ArrayList<>();
            for (int i = 0; i < repeat; i++) {
                long before = driver.requestCount();
                long start = System.nanoTime();
                Plan plan = engine.plan(env, PlanOptions.defaults(s.clock().instant()));
                seconds.add((System.nanoTime() - start) / 1e9);
                requests.add(driver.requestCount() - before);
                if (plan.hasChanges()) throw new MlctlException("expected no changes, got " + plan.summary().sentence());
            }
            Collections.sort(seconds);
            s.out().printf("no-change plan of %d resources: %d requests (%.2f per resource), median %.2f s%n",
                env.resources().size(), requests.get(0), requests.get(0) / (double) env.resources().size(), seconds.get(seconds.size() / 2));
            engine.apply(env, new Engine.ApplyRequest(new PlanOptions(true, java.util.Set.of(), s.clock().instant()), Optional.empty(), true, 10, "bench"),
                p -> true, new Engine.Observer() { });
        }
        s.out().flush();
        return 0;
    }
}
