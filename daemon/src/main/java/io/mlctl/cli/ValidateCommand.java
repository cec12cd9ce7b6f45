package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.plan.PolicyResult;
import java.util.List;
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
        int denied = 0;
        for (Environment e : repo.select(config.env)) {
            root.services.out().println(e.position().file() + ": environment " + e.name() + " (" + e.provider().id() + ", " + e.region()
                + "): " + e.resources().size() + " resources");
            for (PolicyResult r : policies(e)) {
                // A denial is an error like a spec error (stderr, exit 1); a warning is said and passes.
                if (r.denies()) {
                    root.services.err().println(line(r));
                    denied++;
                } else {
                    root.services.out().println("Warning: " + line(r));
                }
            }
        }
        if (denied > 0) {
            root.services.err().println(denied + (denied == 1 ? " policy denial" : " policy denials"));
            return 1;
        }
        root.services.out().println("Success! " + repo.environments().size() + " environment" + (repo.environments().size() == 1 ? " is" : "s are") + " valid.");
        return 0;
    }

    /** The repository's policies against what each spec declares, priced from the spec (no cloud is read). */
    private List<PolicyResult> policies(Environment spec) {
        if (root.services.policies().isEmpty()) return List.of();
        // As a first plan would place it: machineType: auto at the machine type it resolves to (GPUs, price).
        Environment e = new io.mlctl.placement.Placements(root.services.catalog(), root.services.prices())
            .resolve(spec, io.mlctl.inventory.Inventory.empty(spec.name()), false).environment();
        io.mlctl.plan.CostEstimate cost = new io.mlctl.cost.PlanCosts(new io.mlctl.cost.CostModel(root.services.prices())).ofSpec(e);
        // Only the spec is known here: before is taken to be the same (no delta), so a rule on the change cannot deny what it cannot see.
        return root.services.policies().checkSpec(e, new io.mlctl.policy.PolicySet.Cost(cost.after().high(), cost.after().high(), cost.after().known()));
    }

    /** "dev.yaml:10:7: policy no-public-buckets (deny): bucket.data: buckets must not be public", as a spec error reads. */
    private static String line(PolicyResult r) {
        return r.at().map(at -> at + ": ").orElse("") + "policy " + r.policy() + " (" + r.enforcement() + "): "
            + r.address().map(a -> a + ": ").orElse("") + r.message();
    }

    /** Every outcome is one JSON document on stdout, for CI annotations: spec errors and the other errors (no such environment) alike. */
    private int json() {
        JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode doc = mapper.createObjectNode();
        ArrayNode errors = mapper.createArrayNode();
        ArrayNode environments = mapper.createArrayNode();
        ArrayNode warnings = mapper.createArrayNode();
        try {
            ConfigRepo repo = root.services.loadConfig(config.paths);
            for (Environment e : repo.select(config.env)) {
                environments.addObject().put("name", e.name()).put("provider", e.provider().id()).put("region", e.region())
                    .put("file", e.position().file()).put("resources", e.resources().size());
                for (PolicyResult r : policies(e)) {
                    ObjectNode o = (r.denies() ? errors : warnings).addObject();
                    // file:line:col, the file itself possibly holding a colon: the last two fields are the numbers.
                    String at = r.at().orElse("");
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(.+):(\\d+):(\\d+)").matcher(at);
                    if (m.matches()) o.put("file", m.group(1)).put("line", Integer.parseInt(m.group(2))).put("column", Integer.parseInt(m.group(3)));
                    else o.putNull("file").putNull("line").putNull("column");
                    o.put("message", "policy " + r.policy() + " (" + r.enforcement() + "): " + r.address().map(a -> a + ": ").orElse("") + r.message());
                    o.put("policy", r.policy());
                }
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
        doc.set("warnings", warnings);
        root.services.out().print(mapper.writeValueAsString(doc) + "\n");
        root.services.out().flush();
        return errors.isEmpty() ? 0 : 1;
    }
}
