package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.apply.RetryPolicy;
import io.mlctl.engine.Engine;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.MarkdownRenderer;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.plan.render.TextRenderer;
import io.mlctl.provider.Driver;
import io.mlctl.spec.Address;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Small helpers the commands share. */
final class Commands {
    private Commands() {
    }

    static Engine engine(Services s, Driver driver, CloudOptions cloud) {
        return engine(s, driver, cloud, io.mlctl.apply.LockService.files());
    }

    static Engine engine(Services s, Driver driver, CloudOptions cloud, io.mlctl.apply.LockService locks) {
        return new Engine(driver, s.stateDir(cloud.stateDir), s.clock(), RetryPolicy.standard(new java.util.Random()), locks, s.policies(),
            Optional.of(new io.mlctl.cost.PlanCosts(new io.mlctl.cost.CostModel(s.prices()))),
            Optional.of(new io.mlctl.placement.Placements(s.catalog(), s.prices())));
    }

    static String render(Plan plan, Format format, boolean color) {
        return switch (format) {
            case text -> new TextRenderer(color).render(plan);
            case markdown -> new MarkdownRenderer().render(plan);
            case json -> new PlanJson().write(plan);
        };
    }

    static Set<Address> targets(List<String> targets) {
        Set<Address> out = new TreeSet<>();
        if (targets == null) return out;
        // A target may name something only the cloud still has (to prune it alone), so it is not checked against the spec.
        // A subnet or node pool is changed by its resource's update: targeting it targets that resource.
        for (String t : targets) out.add(Address.parse(t).resource());
        return out;
    }

    /**
     * Refuses, before anything is read from the cloud, an apply whose approval could not be asked:
     * the answer comes from standard input, which a spec read from {@code -} has used up, and a JSON
     * event stream has no place for a prompt.
     */
    static void requireNonInteractiveApproval(ConfigOptions config, boolean approved, boolean json, String command) {
        requireNonInteractiveApproval(config.paths, approved, json, command);
    }

    static void requireNonInteractiveApproval(java.util.List<java.nio.file.Path> paths, boolean approved, boolean json, String command) {
        if (approved) return;
        if (json) throw new MlctlException(command + " --format json cannot ask for approval: add --auto-approve (or apply a saved plan)");
        if (paths != null && paths.contains(io.mlctl.spec.ConfigLoader.STDIN)) {
            throw new MlctlException(command + " -: the spec is read from standard input, so the approval cannot be: add --auto-approve (or apply a saved plan)");
        }
    }

    static String readFile(Services s, java.nio.file.Path p) {
        try {
            return java.nio.file.Files.readString(s.cwd().resolve(p));
        } catch (IOException e) {
            throw new MlctlException("cannot read " + p + ": " + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
    }

    static void writeFile(Services s, java.nio.file.Path p, String text) {
        try {
            java.nio.file.Path f = s.cwd().resolve(p);
            if (f.getParent() != null) java.nio.file.Files.createDirectories(f.getParent());
            java.nio.file.Files.writeString(f, text);
        } catch (IOException e) {
            throw new MlctlException("cannot write " + p + ": " + e.getMessage());
        }
    }
}
