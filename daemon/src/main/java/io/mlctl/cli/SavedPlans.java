package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.plan.Origin;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Saved plans on the command line: where a plan is made, the exact command that applies it, recognising a plan file
 * among spec paths, and refusing a plan anywhere but where it was made before any cloud is contacted.
 */
final class SavedPlans {
    private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

    private SavedPlans() {
    }

    /** Where a plan made now, with these spec paths and flags, is made. */
    static Origin origin(Services s, List<Path> specs, boolean sandbox) {
        List<String> paths = specs.stream().map(p -> p.normalize().toString()).toList();
        return sandbox ? Origin.sandbox(s.sandboxDir().toAbsolutePath().normalize().toString(), paths) : Origin.cloud(paths);
    }

    /** The command that applies the plan saved in {@code file}: run where it was saved, it applies it. */
    static String applyCommand(Path file, Origin origin) {
        return "mlctl apply " + (origin.sandbox() ? "--sandbox " : "") + quote(file.toString());
    }

    private static String quote(String word) {
        return SHELL_SAFE.matcher(word).matches() ? word : "'" + word.replace("'", "'\\''") + "'";
    }

    /**
     * Whether {@code p} is a saved plan rather than a spec: judged by content (a JSON object with a formatVersion,
     * which a spec never has), so that {@code mlctl apply tfplan}-style use works whatever the file is called.
     */
    static boolean isPlanFile(Services s, Path p) {
        Path f = s.cwd().resolve(p);
        try {
            if (!Files.isRegularFile(f) || Files.size(f) > 256L << 20) return false;
            String text = Files.readString(f);
            if (!text.stripLeading().startsWith("{")) return false;
            return tools.jackson.databind.json.JsonMapper.builder().build().readTree(text) instanceof tools.jackson.databind.node.ObjectNode o
                && o.has("formatVersion") && !o.has("apiVersion");
        } catch (IOException | RuntimeException e) {
            return false; // not readable as JSON: the spec loader says what is wrong with it
        }
    }

    static Plan read(Services s, Path file) {
        return new PlanJson().read(Commands.readFile(s, file), file.toString());
    }

    /**
     * Refuses, before anything is read from a cloud, a plan made on the sandbox applied to the cloud, the reverse, a
     * plan from another sandbox directory, and a plan that does not say where it was made.
     */
    static Origin checkMadeHere(Services s, Plan plan, Path file, boolean sandbox) {
        Origin origin = plan.origin().orElseThrow(() -> new MlctlException(file + ": this plan does not say where it was made (it was saved by an "
            + "older mlctl); make it again with mlctl plan --out " + quote(file.toString())));
        if (origin.sandbox() && !sandbox) {
            throw new MlctlException(file + ": this plan was made on the sandbox; run " + applyCommand(file, origin));
        }
        if (!origin.sandbox() && sandbox) {
            throw new MlctlException(file + ": this plan was made on the cloud (" + plan.provider() + ", " + plan.where() + "), not the sandbox; run "
                + applyCommand(file, origin));
        }
        if (origin.sandbox()) {
            String here = s.sandboxDir().toAbsolutePath().normalize().toString();
            String there = origin.sandboxDirectory().orElse(here);
            if (!there.equals(here)) {
                throw new MlctlException(file + ": this plan was made on the sandbox in " + there + ", not the one in use (" + here
                    + "); set MLCTL_SANDBOX=" + quote(there) + " or make the plan again");
            }
        }
        return origin;
    }

    /** The spec paths the plan was made from, each still there (relative ones in the working directory). */
    static List<Path> specs(Services s, Origin origin, Path file) {
        List<Path> paths = origin.specs().stream().map(Path::of).toList();
        for (Path p : paths) {
            if (!Files.exists(s.cwd().resolve(p))) {
                throw new MlctlException(file + ": the spec this plan was made from, " + p + ", is not there"
                    + (p.isAbsolute() ? "" : " (relative to the working directory, " + s.cwd() + ")")
                    + "; run apply where the plan was made, or name the spec: mlctl apply " + (origin.sandbox() ? "--sandbox " : "")
                    + "--plan " + quote(file.toString()) + " PATH");
            }
        }
        return paths;
    }
}
