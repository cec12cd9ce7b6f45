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

/** What the cloud benchmarks share: apply a synthetic environment, count requests and time of no-change plans, destroy it. */
final class CloudBench {
    private CloudBench() {
    }

    /** The options every cloud benchmark takes. */
    static final class Size {
        @picocli.CommandLine.Option(names = "--resources", defaultValue = "300", description = "Resources: a third each buckets, networks, identities (default ${DEFAULT-VALUE}).")
        int resources;

        @picocli.CommandLine.Option(names = "--repeat", defaultValue = "3", description = "Measured plans (default ${DEFAULT-VALUE}).")
        int repeat;
    }

    static void run(Services s, String yaml, String cloud, int repeat) throws IOException {
        Path dir = Files.createTempDirectory("mlctl-bench-" + cloud);
        Path spec = dir.resolve("bench.yaml");
        Files.writeString(spec, yaml);
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
    }
}
