package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.SpecError;
import io.mlctl.spec.SpecException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

@Command(name = "validate", mixinStandardHelpOptions = true,
    description = {"Check spec files against the schema and the semantic rules (references, cycles, CIDRs, catalogs).",
        "Every error is printed as file:line:column: message; the exit code is 1 if there is any."})
final class ValidateCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text",
        description = "text (default) or json: {\"valid\", \"errors\": [{\"file\", \"line\", \"column\", \"message\"}], \"environments\": [...]} on stdout, exit 1 when invalid.")
    ReportFormat format;

    @Override
    public Integer call() {
        if (format == ReportFormat.json) return json();
        ConfigRepo repo = root.services.loadConfig(config.paths);
        for (Environment e : repo.select(config.env)) {
            root.services.out().println(e.position().file() + ": environment " + e.name() + " (" + e.provider().id() + ", " + e.region()
                + "): " + e.resources().size() + " resources");
        }
        root.services.out().println("Success! " + repo.environments().size() + " environment" + (repo.environments().size() == 1 ? " is" : "s are") + " valid.");
        return 0;
    }

    /** Every outcome is one JSON document on stdout, for CI annotations: spec errors and the other errors (no such environment) alike. */
    private int json() {
        JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode doc = mapper.createObjectNode();
        ArrayNode errors = mapper.createArrayNode();
        ArrayNode environments = mapper.createArrayNode();
        try {
            ConfigRepo repo = root.services.loadConfig(config.paths);
            for (Environment e : repo.select(config.env)) {
                environments.addObject().put("name", e.name()).put("provider", e.provider().id()).put("region", e.region())
                    .put("file", e.position().file()).put("resources", e.resources().size());
            }
        } catch (SpecException e) {
            for (SpecError err : e.errors()) {
                errors.addObject().put("file", err.position().file()).put("line", err.position().line())
                    .put("column", err.position().column()).put("message", err.message());
            }
            environments.removeAll();
        } catch (MlctlException e) {
            ObjectNode o = errors.addObject();
            o.putNull("file");
            o.putNull("line");
            o.putNull("column");
            o.put("message", e.userMessage());
            environments.removeAll();
        }
        doc.put("valid", errors.isEmpty());
        doc.set("errors", errors);
        doc.set("environments", environments);
        root.services.out().print(mapper.writeValueAsString(doc) + "\n");
        root.services.out().flush();
        return errors.isEmpty() ? 0 : 1;
    }
}
