package io.mlctl.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Print a bash/zsh completion script.", "Install: source <(mlctl completion)"})
final class CompletionCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        root.services.out().print(AutoComplete.bash("mlctl", spec.root().commandLine()));
        root.services.out().flush();
        return 0;
    }
}
