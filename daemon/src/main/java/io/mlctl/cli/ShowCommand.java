package io.mlctl.cli;

import io.mlctl.plan.Plan;
import io.mlctl.plan.render.PlanJson;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "show", mixinStandardHelpOptions = true, description = "Render a saved plan (from plan --out) as text, markdown or JSON.")
final class ShowCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @Parameters(paramLabel = "FILE", description = "A plan saved with 'mlctl plan --out FILE'.")
    Path file;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (default), json or markdown.")
    Format format;

    @Override
    public Integer call() {
        Services s = root.services;
        Plan plan = new PlanJson().read(Commands.readFile(s, file), file.toString());
        s.out().print(Commands.render(plan, format, s.color(root.noColor)));
        s.out().flush();
        return 0;
    }
}
