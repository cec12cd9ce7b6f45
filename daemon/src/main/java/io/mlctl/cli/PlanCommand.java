package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.planner.PlanOptions;
import io.mlctl.provider.Driver;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "plan", mixinStandardHelpOptions = true,
    description = {"Show what apply would change: the spec compared with what the environment owns in the cloud.",
        "Owned resources no longer in the spec are planned for deletion (prune). Nothing is changed."})
final class PlanCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;
    @Mixin CloudOptions cloud;
    @Mixin QuietOption output;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (default), json or markdown (for a pull request).")
    Format format;

    @Option(names = "--out", paramLabel = "FILE", description = "Also save the plan to FILE (JSON) for a later 'mlctl apply FILE' (with --sandbox when planned on the sandbox).")
    Path out;

    @Option(names = "--detailed-exitcode", description = "Exit 0 when there are no changes, 2 when there are, 1 on error.")
    boolean detailedExitcode;

    @Option(names = "--target", paramLabel = "ADDR", description = "Plan only this resource (type.name) and what it depends on; repeatable.")
    List<String> targets;

    @Option(names = "--destroy", description = "Plan the deletion of everything the environment owns.")
    boolean destroy;

    @Option(names = "--replace-placement", description = "Re-resolve machineType: auto of resources that exist too: plan moving them to the "
        + "cheapest machine type now (without it they keep the one they run on).")
    boolean replacePlacement;

    @Override
    public Integer call() {
        Services s = root.services;
        ConfigRepo repo = s.loadConfig(config.paths);
        List<Environment> envs = repo.select(config.env);
        if (envs.size() > 1 && (out != null || format == Format.json)) {
            throw new MlctlException("found " + envs.size() + " environments; choose one with --env for --out or --format json");
        }
        if (output.quiet && format != Format.text) throw new MlctlException("--quiet is for text output; --format " + format + " is already only the plan");
        boolean changes = false;
        List<String> denied = new java.util.ArrayList<>();
        for (Environment env : envs) {
            try (Driver driver = s.driver(env, cloud.sandbox)) {
                Engine engine = Commands.engine(s, driver, cloud);
                Plan plan = engine.plan(env, new PlanOptions(destroy, Commands.targets(targets), s.clock().instant(), replacePlacement))
                    .madeAt(SavedPlans.origin(s, config.paths, cloud.sandbox));
                changes |= plan.hasChanges();
                if (plan.denied()) denied.add(env.name());
                if (output.quiet) {
                    // The summary line alone, named by environment when there are several.
                    s.out().println((envs.size() > 1 ? env.name() + ": " : "") + (plan.hasChanges() ? plan.summary().sentence() : "No changes."));
                    // A denied plan's reasons are what a quiet run is for: the error below points at them.
                    if (plan.denied()) s.out().print(new io.mlctl.plan.render.TextRenderer(s.color(root.noColor)).policies(plan));
                    if (out != null) Commands.writeFile(s, out, new PlanJson().write(plan));
                    continue;
                }
                s.out().print(Commands.render(plan, format, s.color(root.noColor)));
                if (envs.size() > 1 && format != Format.json) s.out().println();
                if (out != null) {
                    Commands.writeFile(s, out, new PlanJson().write(plan));
                    if (format != Format.json) {
                        s.out().println("\nSaved the plan to " + out + ". To apply exactly it: " + SavedPlans.applyCommand(out, plan.origin().orElseThrow()));
                    }
                }
            }
        }
        s.out().flush();
        // A plan a deny policy refuses is a failed check (a CI gate, a required status), whatever --detailed-exitcode says.
        if (!denied.isEmpty()) {
            throw new MlctlException("policy check failed for environment" + (denied.size() > 1 ? "s " : " ") + String.join(", ", denied)
                + "; the plan above says which policies deny it");
        }
        return detailedExitcode && changes ? 2 : 0;
    }
}
