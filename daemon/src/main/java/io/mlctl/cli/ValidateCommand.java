package io.mlctl.cli;

import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

@Command(name = "validate", mixinStandardHelpOptions = true,
    description = {"Check spec files against the schema and the semantic rules (references, cycles, CIDRs, catalogs).",
        "Every error is printed as file:line:column: message; the exit code is 1 if there is any."})
final class ValidateCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;

    @Override
    public Integer call() {
        ConfigRepo repo = root.services.loadConfig(config.paths);
        for (Environment e : repo.select(config.env)) {
            root.services.out().println(e.position().file() + ": environment " + e.name() + " (" + e.provider().id() + ", " + e.region()
                + "): " + e.resources().size() + " resources");
        }
        root.services.out().println("Success! " + repo.environments().size() + " environment" + (repo.environments().size() == 1 ? " is" : "s are") + " valid.");
        return 0;
    }
}
