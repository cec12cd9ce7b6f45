package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.bench.SyntheticEnvironment;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.YamlLoader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "bench", hidden = true, mixinStandardHelpOptions = true,
    description = {"Benchmark validate + inventory + plan on a generated environment of N resources against the sandbox.",
        "Results go to docs/benchmarks.md; see there for the commands that reproduce them."})
final class BenchCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @Option(names = "--resources", paramLabel = "N", defaultValue = "10000", description = "Resources in the environment (default ${DEFAULT-VALUE}).")
    int resources;

    @Option(names = "--repeat", paramLabel = "K", defaultValue = "5", description = "Measured runs after one warm-up (default ${DEFAULT-VALUE}).")
    int repeat;

    @Option(names = "--drift", paramLabel = "PERCENT", defaultValue = "1", description = "Share of resources changed out of band (default ${DEFAULT-VALUE}%%).")
    int drift;

    @Option(names = "--dir", paramLabel = "DIR", description = "Write the spec and sandbox here and keep them (for timing 'bin/mlctl plan' as a whole process).")
    Path dir;

    @Override
    public Integer call() throws IOException {
        Services s = root.services;
        Path work = dir != null ? s.cwd().resolve(dir) : Files.createTempDirectory("mlctl-bench");
        Path spec = work.resolve("bench.yaml");
        Files.createDirectories(work);
        Files.writeString(spec, SyntheticEnvironment.yaml("bench", resources));
        // Limits raised for the generated file only: the benchmark measures the engine, not the guard rails.
        YamlLoader yaml = new YamlLoader(new YamlLoader.Limits(256L * 1024 * 1024, 50, 64, 50_000_000));
        ConfigLoader loader = new ConfigLoader(yaml, s.schema(), s.catalog(), work);
        Environment env = loader.load(List.of(spec)).environments().get(0);
        SandboxCloud sandbox = new SandboxCloud(work.resolve("sandbox"), s.catalog(), s.clock());
        seed(sandbox, env);
        s.out().println("environment: " + env.resources().size() + " resources, " + drift + "% drifted; spec " + Files.size(spec) / 1024 + " KiB at " + spec);

        List<long[]> runs = new ArrayList<>();
        long peakHeap = 0;
        int changes = 0;
        for (int i = 0; i <= repeat; i++) {
            System.gc();
            resetPeaks();
            long t0 = System.nanoTime();
            Environment e = loader.load(List.of(spec)).environments().get(0);
            long t1 = System.nanoTime();
            Inventory inv = new InventoryReader(sandbox).read(e);
            long t2 = System.nanoTime();
            Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(e, inv, PlanOptions.defaults(s.clock().instant()));
            long t3 = System.nanoTime();
            changes = plan.changes().size();
            if (i > 0) runs.add(new long[] {t1 - t0, t2 - t1, t3 - t2, t3 - t0});
            peakHeap = Math.max(peakHeap, peakHeap());
        }
        String[] names = {"load + validate", "inventory (sandbox)", "plan", "total"};
        for (int k = 0; k < names.length; k++) {
            List<Long> xs = new ArrayList<>();
            for (long[] r : runs) xs.add(r[k]);
            Collections.sort(xs);
            s.out().printf("%-20s median %8.1f ms   min %8.1f ms%n", names[k], xs.get(xs.size() / 2) / 1e6, xs.get(0) / 1e6);
        }
        s.out().println("changes planned: " + changes + "; sandbox list requests per run: " + (sandbox.requestCount() / (repeat + 1)));
        s.out().printf("peak heap: %.0f MiB (max heap %.0f MiB)%n", peakHeap / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0);
        s.out().flush();
        if (changes == 0 && drift > 0) throw new MlctlException("benchmark drift was not detected");
        return 0;
    }

    /** Writes the environment into the sandbox as if applied, then drifts a share of it. */
    private void seed(SandboxCloud sandbox, Environment env) {
        if (Files.exists(sandbox.root().resolve("aws"))) return;
        int every = drift > 0 ? Math.max(1, 100 / drift) : Integer.MAX_VALUE;
        int i = 0;
        for (ResourceSpec r : env.resources()) {
            Map<String, Object> attrs = new HashMap<>(r.attributes());
            if (++i % every == 0) attrs.put("diskGbDrift", 1L); // an attribute the spec does not have: an update
            String id = r.address().type().id() + "-" + r.address().name();
            sandbox.write(env.provider(), new SandboxCloud.StoredResource(id, r.address().type(), attrs, Ownership.tags(env.name(), r.address()), "2026-01-01T00:00:00Z"));
        }
    }

    private static void resetPeaks() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) if (p.getType() == MemoryType.HEAP) sum += p.getPeakUsage().getUsed();
        return sum;
    }
}
