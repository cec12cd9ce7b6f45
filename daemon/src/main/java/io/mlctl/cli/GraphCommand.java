package io.mlctl.cli;

import io.mlctl.graph.ResourceGraph;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

@Command(name = "graph", mixinStandardHelpOptions = true,
    description = {"Print the dependency graph of each environment in Graphviz DOT.", "Example: mlctl graph examples/ | dot -Tsvg > graph.svg"})
final class GraphCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;

    @Override
    public Integer call() {
        ConfigRepo repo = root.services.loadConfig(config.paths);
        for (Environment env : repo.select(config.env)) {
            Map<io.mlctl.spec.Address, Set<io.mlctl.spec.Address>> deps = new LinkedHashMap<>();
            for (ResourceSpec r : env.resources()) deps.put(r.address(), r.dependencies());
            root.services.out().print(new ResourceGraph(deps).toDot(env.name()));
        }
        root.services.out().flush();
        return 0;
    }
}
