package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.inventory.Inventory;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Plan;
import io.mlctl.plan.render.CostText;
import io.mlctl.plan.render.PlanJson;
import io.mlctl.provider.Driver;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** The monthly cost of environments as they are, without planning a change (a plan shows its own before and after). */
@Command(name = "cost", mixinStandardHelpOptions = true,
    description = {"Print the monthly cost of each environment and of each of its resources, in USD, without planning any change.",
        "By default it prices what the spec declares, from the prices mlctl ships (refreshed by 'mlctl prices update'): "
            + "no cloud is read and no credentials are needed.",
        "With --live it prices what the environment owns now, read from its cloud as 'mlctl inventory' reads it "
            + "(--live --sandbox: from the sandbox).",
        "Assumptions, printed with the costs: 730 hours a month; an autoscaled node pool or endpoint costs a range, "
            + "at its minimum and at its maximum; spot capacity at the spot price; a bucket per GB-month of its expectedSizeGb, "
            + "else usage-based (not in the total). A price the catalog lacks is shown as unknown and left out of the total, never as $0.00."},
    footerHeading = "%nExamples:%n",
    footer = {"  mlctl cost examples/", "  mlctl cost --live --sandbox --env training-dev examples/",
        "  mlctl cost --format json examples/aws-training.yaml | jq '.environments[0].total.high'"})
final class CostCommand implements Callable<Integer> {
    /** The JSON document's version: a 1.x only adds fields. */
    static final String FORMAT_VERSION = "1.0";

    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;
    @Mixin CloudOptions cloud;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (default) or json.")
    Format format;

    @Option(names = "--live", description = "Price what the environment owns now in its cloud (needs its credentials, or --sandbox), not the spec.")
    boolean live;

    /** One environment's prices: each resource's monthly cost and the total. */
    private record Priced(Environment env, List<CostEstimate.ResourceCost> resources, CostEstimate.Amount total, List<String> assumptions) {
    }

    @Override
    public Integer call() {
        Services s = root.services;
        if (format == Format.markdown) throw new MlctlException("cost prints text or json");
        if (cloud.sandbox && !live) throw new MlctlException("--sandbox prices what the sandbox holds: add --live (without it, cost prices the spec and reads no cloud)");
        ConfigRepo repo = s.loadConfig(config.paths);
        List<Environment> envs = repo.select(config.env);
        PlanCosts costs = new PlanCosts(new CostModel(s.prices()));
        List<Priced> priced = new ArrayList<>();
        // The spec as a first plan would place it: machineType: auto at the cheapest machine type carrying its accelerator.
        io.mlctl.placement.Placements placements = new io.mlctl.placement.Placements(s.catalog(), s.prices());
        for (Environment env : envs) {
            priced.add(live ? live(s, costs, env) : spec(costs, placements.resolve(env, Inventory.empty(env.name()), false).environment()));
        }
        LinkedHashSet<String> assumptions = new LinkedHashSet<>();
        priced.forEach(p -> assumptions.addAll(p.assumptions()));
        if (format == Format.json) json(s, priced, List.copyOf(assumptions));
        else text(s, priced, List.copyOf(assumptions));
        s.out().flush();
        return 0;
    }

    private static Priced spec(PlanCosts costs, Environment env) {
        CostEstimate e = costs.ofSpec(env);
        return new Priced(env, e.resources(), e.after(), e.assumptions());
    }

    /** What the environment owns is the "before" of a plan that changes nothing. */
    private Priced live(Services s, PlanCosts costs, Environment env) {
        Inventory inventory;
        try (Driver driver = s.driver(env, cloud.sandbox)) {
            inventory = Commands.engine(s, driver, cloud).inventory(env);
        }
        Plan nothing = new Plan(Plan.FORMAT_VERSION, env.name(), env.provider().id(), env.region(), s.clock().instant(), false, List.of(), List.of(),
            List.of(), List.of(), false, new Fingerprints("", "", Map.of(), Map.of()));
        CostEstimate e = costs.estimate(env, inventory, nothing);
        List<CostEstimate.ResourceCost> owned = e.resources().stream()
            .map(r -> new CostEstimate.ResourceCost(r.address(), Optional.empty(), r.before())).toList();
        return new Priced(env, owned, e.before(), e.assumptions());
    }

    private void text(Services s, List<Priced> priced, List<String> assumptions) {
        for (int i = 0; i < priced.size(); i++) {
            Priced p = priced.get(i);
            if (i > 0) s.out().println();
            String what = !live ? "as the spec declares it" : "what it owns now in " + (cloud.sandbox ? "the sandbox" : "the cloud");
            s.out().println(p.env().name() + " (" + p.env().provider().id() + ", " + p.env().region() + "), " + what + ":");
            if (p.resources().isEmpty()) s.out().println(live ? "  nothing applied yet (the environment owns no resources)" : "  no resources");
            int width = Math.max("Total".length(), p.resources().stream().mapToInt(r -> r.address().toString().length()).max().orElse(0));
            for (CostEstimate.ResourceCost r : p.resources()) {
                String address = r.address().toString();
                s.out().println("  " + address + " ".repeat(width - address.length()) + "  " + r.after().map(CostText::amount).orElse(""));
            }
            s.out().println("  Total" + " ".repeat(width - "Total".length()) + "  " + CostText.current(p.total()));
        }
        if (assumptions.isEmpty()) return;
        s.out().println();
        s.out().println("Assumptions:");
        for (String a : assumptions) s.out().println("  - " + a);
    }

    private void json(Services s, List<Priced> priced, List<String> assumptions) {
        JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode doc = mapper.createObjectNode().put("formatVersion", FORMAT_VERSION).put("currency", "USD").put("basis", live ? "live" : "spec");
        ArrayNode all = doc.putArray("environments");
        for (Priced p : priced) {
            ObjectNode e = all.addObject().put("name", p.env().name()).put("provider", p.env().provider().id()).put("region", p.env().region());
            e.set("total", PlanJson.amount(p.total()));
            ArrayNode rs = e.putArray("resources");
            for (CostEstimate.ResourceCost r : p.resources()) {
                ObjectNode o = rs.addObject().put("address", r.address().toString());
                r.after().ifPresent(a -> o.set("cost", PlanJson.amount(a)));
            }
        }
        ArrayNode as = doc.putArray("assumptions");
        assumptions.forEach(as::add);
        s.out().println(mapper.writeValueAsString(doc));
    }
}
