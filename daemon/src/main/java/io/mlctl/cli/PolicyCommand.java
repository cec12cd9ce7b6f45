package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.plan.CostEstimate;
import io.mlctl.policy.PolicySet;
import io.mlctl.policy.PolicyTests;
import io.mlctl.spec.ConfigRepo;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "policy", mixinStandardHelpOptions = true, subcommands = PolicyCommand.Test.class,
    description = {"Work with the config repository's policies (kind: Policy documents next to the environments)."})
final class PolicyCommand {
    @ParentCommand MlctlCommand root;

    @Command(name = "test", mixinStandardHelpOptions = true,
        description = {"Run the policy tests (kind: PolicyTest documents) found in PATH: each example environment is checked against "
            + "the policies found in PATH, and the policies it breaks must be exactly those its test expects. No cloud is read; "
            + "costs come from the price catalog unless a test states one (spec.cost.after).",
            "Prints PASS or FAIL per test; exits 1 when any fails (or none is found), for CI."})
    static final class Test implements Callable<Integer> {
        @ParentCommand PolicyCommand parent;

        @Parameters(paramLabel = "PATH", arity = "1..*", description = "Files or folders with policies and their tests.")
        List<Path> paths;

        @Override
        public Integer call() {
            Services s = parent.root.services;
            ConfigRepo repo = s.loadConfig(paths);
            if (repo.policyTests().isEmpty()) throw new MlctlException("no policy tests found (kind: PolicyTest documents) in " + paths.get(0)
                + (paths.size() > 1 ? " and the other paths" : ""));
            if (s.policies().isEmpty()) throw new MlctlException("no policies found (kind: Policy documents) to test");
            PlanCosts costs = new PlanCosts(new CostModel(s.prices()));
            int failed = 0;
            io.mlctl.placement.Placements placements = new io.mlctl.placement.Placements(s.catalog(), s.prices());
            for (ConfigRepo.PolicyTest test : repo.policyTests()) {
                // The example as a first plan would place it (machineType: auto resolved), as plan checks it.
                ConfigRepo.PolicyTest t = new ConfigRepo.PolicyTest(test.name(),
                    placements.resolve(test.environment(), io.mlctl.inventory.Inventory.empty(test.environment().name()), false).environment(),
                    test.document());
                PolicyTests.Outcome o = PolicyTests.run(s.policies(), t, env -> {
                    CostEstimate e = costs.ofSpec(env);
                    return new PolicySet.Cost(e.after().high(), e.after().high(), e.after().known());
                });
                if (o.passed()) {
                    s.out().println("PASS  " + o.name() + " (" + o.at() + ")");
                    continue;
                }
                failed++;
                s.out().println("FAIL  " + o.name() + " (" + o.at() + ")");
                o.missing().forEach(m -> s.out().println("        expected, not broken: " + m));
                o.unexpected().forEach(u -> s.out().println("        broken, not expected: " + u));
                o.errors().forEach(e -> s.out().println("        could not evaluate: " + e));
            }
            int n = repo.policyTests().size();
            s.out().println((n - failed) + " passed, " + failed + " failed.");
            s.out().flush();
            return failed == 0 ? 0 : 1;
        }
    }
}
