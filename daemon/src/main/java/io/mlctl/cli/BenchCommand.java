package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.bench.SyntheticEnvironment;
import io.mlctl.cost.Cost;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.engine.Engine;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.policy.Policies;
import io.mlctl.policy.PolicySet;
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
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "bench", hidden = true, mixinStandardHelpOptions = true,
    description = {"Benchmark validate + inventory + plan on a generated environment of N resources against the sandbox, "
        + "with the plan priced (unless --no-cost) and checked against --policies, each timed on its own.",
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

    @Option(names = "--no-cost", description = "Do not price the plan (by default every run prices it, as 'mlctl plan' does, and times that on its own).")
    boolean noCost;

    @Option(names = "--policies", paramLabel = "DIR", description = {"Also load these policies (kind: Policy documents, e.g. examples/policies), compile them "
        + "and check every plan against them as 'mlctl plan' does, timed on their own (default: none)."})
    Path policiesDir;

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

        Optional<PlanCosts> costs = noCost ? Optional.empty() : Optional.of(new PlanCosts(new CostModel(s.prices())));
        List<Path> policyPaths = policiesDir == null ? List.of() : List.of(s.cwd().resolve(policiesDir).normalize());
        if (!policyPaths.isEmpty()) {
            int n = Policies.compile(loader.load(policyPaths).policyDocuments(), s.catalog()).policies().size();
            if (n == 0) throw new MlctlException("no policies (kind: Policy documents) found in " + policiesDir);
        }

        // Per run: load + validate, inventory, plan, cost, policies (load + compile + check), and validate's own check; each in
        // wall time and in this thread's CPU time (all but the inventory run on this thread alone: on a machine shared with
        // other work, CPU time shows the cost of the work itself, wall time what a user waits).
        List<long[]> runs = new ArrayList<>();
        List<long[]> cpuRuns = new ArrayList<>();
        long peakHeap = 0;
        int changes = 0;
        Plan last = null;
        int policyCount = 0;
        for (int i = 0; i <= repeat; i++) {
            System.gc();
            resetPeaks();
            long[] wall = new long[8];
            long[] cpu = new long[8];
            mark(wall, cpu, 0);
            Environment e = loader.load(List.of(spec)).environments().get(0);
            mark(wall, cpu, 1);
            Inventory inv = new InventoryReader(sandbox).read(e);
            mark(wall, cpu, 2);
            Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(e, inv, PlanOptions.defaults(s.clock().instant()));
            mark(wall, cpu, 3);
            plan = Engine.priced(e, inv, plan, costs);
            mark(wall, cpu, 4);
            PolicySet policies = PolicySet.NONE;
            if (!policyPaths.isEmpty()) policies = Policies.compile(loader.load(policyPaths).policyDocuments(), s.catalog());
            mark(wall, cpu, 7);
            if (!policyPaths.isEmpty()) {
                plan = Engine.checked(e, inv, plan, policies);
                policyCount = policies.policies().size();
            }
            mark(wall, cpu, 5);
            if (!policies.isEmpty()) {
                // What 'mlctl validate' adds on its own (not part of a plan): the spec priced, and the policies checked against it.
                PolicySet.Cost specCost = costs.map(c -> c.ofSpec(e)).map(c -> new PolicySet.Cost(c.after().high(), c.after().high(), c.after().known()))
                    .orElse(PolicySet.Cost.UNKNOWN);
                policies.checkSpec(e, specCost);
            }
            mark(wall, cpu, 6);
            changes = plan.changes().size();
            last = plan;
            if (i > 0) {
                runs.add(phases(wall));
                cpuRuns.add(phases(cpu));
            }
            peakHeap = Math.max(peakHeap, peakHeap());
        }
        List<String> names = new ArrayList<>(List.of("load + validate", "inventory (sandbox)", "plan", "cost", "policies", "total",
            "validate + plan", "  with cost", costs.isPresent() ? "  with cost + policies" : "  with policies", "validate's own check",
            "  load + compile"));
        long[] median = new long[names.size()];
        long[] cpuMedian = new long[names.size()];
        for (int k : new int[] {0, 1, 2, 3, 4, 10, 5, 6, 7, 8, 9}) {
            List<Long> xs = sorted(runs, k);
            List<Long> cs = sorted(cpuRuns, k);
            median[k] = xs.get(xs.size() / 2);
            cpuMedian[k] = cs.get(cs.size() / 2);
            boolean skipped = (k == 3 || k == 7) && costs.isEmpty() || (k == 4 || k == 8 || k == 9 || k == 10) && policyPaths.isEmpty();
            if (skipped) continue;
            String cpuColumn = k == 1 || k == 5 ? "" : String.format(Locale.ROOT, "   cpu median %8.1f ms", cpuMedian[k] / 1e6);
            s.out().printf("%-24s median %8.1f ms   min %8.1f ms%s%n", names.get(k), median[k] / 1e6, xs.get(0) / 1e6, cpuColumn);
        }
        if (costs.isPresent() || !policyPaths.isEmpty()) {
            for (long[] m : List.of(median, cpuMedian)) {
                List<String> parts = new ArrayList<>();
                if (costs.isPresent()) parts.add(String.format(Locale.ROOT, "cost %+.1f %%", 100.0 * (m[7] - m[6]) / m[6]));
                if (!policyPaths.isEmpty()) parts.add(String.format(Locale.ROOT, "%s %+.1f %%", costs.isPresent() ? "cost + policies" : "policies",
                    100.0 * (m[8] - m[6]) / m[6]));
                s.out().println("overhead on validate + plan (" + (m == median ? "medians" : "cpu medians") + "): " + String.join("; ", parts));
            }
        }
        s.out().println("changes planned: " + changes + "; sandbox list requests per run: " + (sandbox.requestCount() / (repeat + 1)));
        if (last != null && last.cost().isPresent()) {
            s.out().println("monthly cost: " + Cost.money(last.cost().get().before().high()) + " before, " + Cost.money(last.cost().get().after().high()) + " after");
        }
        if (!policyPaths.isEmpty() && last != null) {
            long denials = last.policies().stream().filter(io.mlctl.plan.PolicyResult::deny).count();
            s.out().println("policies: " + policyCount + "; broken per plan: " + last.policies().size() + " (" + denials + " deny)");
        }
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

    private static final java.lang.management.ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static void mark(long[] wall, long[] cpu, int at) {
        wall[at] = System.nanoTime();
        cpu[at] = THREADS.getCurrentThreadCpuTime();
    }

    /**
     * From the eight marks of a run (the seventh, policies loaded and compiled, last): each phase, the total, validate + plan
     * plain, with cost, with cost and policies, validate's check, and the policies' load and compile.
     */
    private static long[] phases(long[] t) {
        long plain = (t[1] - t[0]) + (t[3] - t[2]);
        return new long[] {t[1] - t[0], t[2] - t[1], t[3] - t[2], t[4] - t[3], t[5] - t[4], t[5] - t[0], plain, plain + (t[4] - t[3]),
            plain + (t[5] - t[3]), t[6] - t[5], t[7] - t[4]};
    }

    private static List<Long> sorted(List<long[]> runs, int k) {
        List<Long> xs = new ArrayList<>();
        for (long[] r : runs) xs.add(r[k]);
        Collections.sort(xs);
        return xs;
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
