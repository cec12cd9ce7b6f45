package io.mlctl.plan.render;

import io.mlctl.MlctlException;
import io.mlctl.plan.Action;
import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Fingerprints;
import io.mlctl.plan.Origin;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.plan.Summary;
import io.mlctl.plan.UnchangedResource;
import io.mlctl.spec.Address;
import io.mlctl.spec.Values;
import io.mlctl.util.Hashing;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The machine-readable plan ({@code schema/plan.schema.json}), also the saved-plan file format. A
 * {@code checksum} over the rest of the document detects a damaged or hand-edited file.
 */
public final class PlanJson {
    private static final ObjectMapper COMPACT = JsonMapper.builder().build();
    private static final ObjectMapper PRETTY = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    public String write(Plan plan) {
        ObjectNode doc = toJson(plan);
        doc.put("checksum", checksum(doc));
        return PRETTY.writeValueAsString(doc) + "\n";
    }

    public ObjectNode toJson(Plan plan) {
        ObjectNode n = COMPACT.createObjectNode();
        n.put("formatVersion", plan.formatVersion());
        n.put("environment", plan.environment());
        n.put("provider", plan.provider());
        n.put("region", plan.region());
        if (plan.account().isPresent()) n.put("account", plan.account().get());
        else n.putNull("account");
        n.put("createdAt", plan.createdAt().toString());
        n.put("destroy", plan.destroy());
        ArrayNode targets = n.putArray("targets");
        plan.targets().forEach(t -> targets.add(t.toString()));
        n.set("summary", summary(plan.summary()));
        n.put("applyable", plan.hasChanges() && !plan.denied());
        n.put("massDelete", plan.massDelete());
        ArrayNode warnings = n.putArray("warnings");
        plan.warnings().forEach(warnings::add);
        ArrayNode policies = n.putArray("policies");
        for (PolicyResult r : plan.policies()) {
            ObjectNode o = policies.addObject();
            o.put("policy", r.policy());
            o.put("enforcement", r.enforcement());
            if (r.address().isPresent()) o.put("address", r.address().get().toString());
            else o.putNull("address");
            o.put("message", r.message());
            if (r.at().isPresent()) o.put("at", r.at().get());
            else o.putNull("at");
            o.put("live", r.live());
        }
        plan.cost().ifPresent(e -> n.set("cost", cost(e)));
        if (!plan.placements().isEmpty()) n.set("placements", placements(plan));
        ArrayNode changes = n.putArray("resourceChanges");
        for (Change c : plan.changes()) {
            ObjectNode o = changes.addObject();
            o.put("address", c.address().toString());
            o.put("type", c.address().type().id());
            o.put("name", c.address().name());
            if (c.address().isComponent()) o.put("component", c.address().component());
            o.put("action", c.action().id());
            ArrayNode actions = o.putArray("actions");
            c.primitives().forEach(actions::add);
            if (c.cloudId() == null) o.putNull("cloudId");
            else o.put("cloudId", c.cloudId());
            o.put("reason", c.reason());
            o.set("before", c.before().isEmpty() && c.action() == Action.CREATE ? COMPACT.nullNode() : Values.toJson(c.before()));
            o.set("after", c.action() == Action.DELETE ? COMPACT.nullNode() : Values.toJson(c.after()));
            // terraform's JSON plan names what an import takes over the same way.
            if (c instanceof Change.Import im) o.putObject("importing").put("id", im.cloudId());
            ArrayNode attrs = o.putArray("changes");
            for (AttributeChange a : c.attributes()) {
                ObjectNode an = attrs.addObject();
                an.put("path", a.path());
                an.set("before", Values.toJson(a.before()));
                an.set("after", Values.toJson(a.after()));
                an.put("forcesReplacement", a.forcesReplacement());
            }
            ArrayNode deps = o.putArray("dependsOn");
            c.dependsOn().stream().sorted().forEach(d -> deps.add(d.toString()));
            if (plan.cost().isPresent()) o.set("cost", CostText.of(plan, c).<JsonNode>map(PlanJson::sides).orElse(COMPACT.nullNode()));
        }
        ArrayNode unchanged = n.putArray("unchanged");
        for (UnchangedResource u : plan.unchanged()) {
            unchanged.addObject().put("address", u.address().toString()).put("cloudId", u.cloudId());
        }
        ObjectNode fp = n.putObject("fingerprints");
        fp.put("spec", plan.fingerprints().spec());
        fp.put("inventory", plan.fingerprints().inventory());
        fp.set("specResources", Values.toJson(plan.fingerprints().specResources()));
        fp.set("inventoryResources", Values.toJson(plan.fingerprints().inventoryResources()));
        plan.origin().ifPresent(o -> {
            ObjectNode on = n.putObject("origin");
            on.put("sandbox", o.sandbox());
            o.sandboxDirectory().ifPresent(d -> on.put("sandboxDirectory", d));
            ArrayNode specs = on.putArray("specs");
            o.specs().forEach(specs::add);
        });
        return n;
    }

    /**
     * The plan's cost: totals before and after, the delta, the assumptions, and every resource the estimate priced (the unchanged
     * ones too, so that a saved plan keeps the whole estimate).
     */
    static ObjectNode cost(CostEstimate e) {
        ObjectNode o = COMPACT.createObjectNode();
        o.put("currency", e.currency());
        o.set("before", amount(e.before()));
        o.set("after", amount(e.after()));
        // complete: false when something before or after had no price, so the difference leaves it out.
        o.putObject("delta").put("low", cents(e.deltaLow())).put("high", cents(e.deltaHigh()))
            .put("complete", e.before().known() && e.after().known());
        ArrayNode assumptions = o.putArray("assumptions");
        e.assumptions().forEach(assumptions::add);
        ArrayNode resources = o.putArray("resources");
        for (CostEstimate.ResourceCost r : e.resources()) resources.addObject().put("address", r.address().toString()).setAll(sides(r));
        return o;
    }

    private static ObjectNode sides(CostEstimate.ResourceCost r) {
        ObjectNode o = COMPACT.createObjectNode();
        o.set("before", r.before().<JsonNode>map(PlanJson::amount).orElse(COMPACT.nullNode()));
        o.set("after", r.after().<JsonNode>map(PlanJson::amount).orElse(COMPACT.nullNode()));
        return o;
    }

    /** A monthly amount as tools read it: {@code {low, high, usageBased, unknown: [...]}} (also {@code mlctl cost}'s). */
    public static ObjectNode amount(CostEstimate.Amount a) {
        ObjectNode o = COMPACT.createObjectNode();
        o.put("low", a.low()).put("high", a.high()).put("usageBased", a.usageBased());
        ArrayNode unknown = o.putArray("unknown");
        a.unknown().forEach(unknown::add);
        return o;
    }

    /** A difference of two amounts in cents carries float noise (1094.43 - 0.1): written rounded. */
    private static double cents(double usd) {
        return Math.round(usd * 100) / 100.0;
    }

    public static ObjectNode summary(Summary s) {
        ObjectNode o = COMPACT.createObjectNode();
        o.put("create", s.create()).put("update", s.update()).put("replace", s.replace()).put("delete", s.delete()).put("import", s.imported());
        return o;
    }

    private static String checksum(ObjectNode docWithoutChecksum) {
        return "sha256:" + Hashing.sha256Text(COMPACT.writeValueAsString(docWithoutChecksum));
    }

    /** Reads a saved plan; {@code source} names it in errors. */
    public Plan read(String text, String source) {
        JsonNode root;
        try {
            root = COMPACT.readTree(text);
        } catch (RuntimeException e) {
            throw new PlanFileException(source, "not a valid plan file (not JSON: " + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!(root instanceof ObjectNode doc) || !doc.has("formatVersion")) {
            throw new PlanFileException(source, "not an mlctl plan (no formatVersion)");
        }
        if (!Plan.FORMAT_VERSION.equals(doc.get("formatVersion").asString())) {
            throw new PlanFileException(source, "plan format " + doc.get("formatVersion").asString() + " is not supported (this mlctl reads " + Plan.FORMAT_VERSION + ")");
        }
        String expected = doc.path("checksum").asString("");
        doc.remove("checksum");
        if (!expected.equals(checksum(doc))) {
            throw new PlanFileException(source, "plan file is corrupt or was edited (checksum mismatch); run mlctl plan --out again");
        }
        try {
            List<Change> changes = new ArrayList<>();
            for (JsonNode c : doc.get("resourceChanges")) changes.add(change(c));
            List<UnchangedResource> unchanged = new ArrayList<>();
            for (JsonNode u : doc.path("unchanged")) {
                unchanged.add(new UnchangedResource(Address.parse(u.get("address").asString()), u.get("cloudId").asString()));
            }
            List<Address> targets = new ArrayList<>();
            doc.path("targets").forEach(t -> targets.add(Address.parse(t.asString())));
            List<String> warnings = new ArrayList<>();
            doc.path("warnings").forEach(w -> warnings.add(w.asString()));
            JsonNode fp = doc.get("fingerprints");
            Fingerprints fingerprints = new Fingerprints(fp.get("spec").asString(), fp.get("inventory").asString(),
                strings(fp.get("specResources")), strings(fp.get("inventoryResources")));
            return new Plan(doc.get("formatVersion").asString(), doc.get("environment").asString(), doc.get("provider").asString(),
                doc.get("region").asString(), Optional.ofNullable(doc.path("account").isString() ? doc.get("account").asString() : null),
                Instant.parse(doc.get("createdAt").asString()), doc.get("destroy").asBoolean(),
                targets, changes, unchanged, warnings, doc.get("massDelete").asBoolean(), fingerprints, origin(doc.get("origin")), policies(doc), cost(doc.get("cost")),
                placements(doc));
        } catch (RuntimeException e) {
            throw new PlanFileException(source, "plan file is malformed: " + e.getMessage());
        }
    }

    /** Absent in plans written before policies existed. */
    private static List<PolicyResult> policies(JsonNode doc) {
        List<PolicyResult> out = new ArrayList<>();
        for (JsonNode p : doc.path("policies")) {
            JsonNode a = p.get("address");
            JsonNode at = p.get("at");
            out.add(new PolicyResult(p.get("policy").asString(), "deny".equals(p.get("enforcement").asString()),
                Optional.ofNullable(a == null || a.isNull() ? null : Address.parse(a.asString())), p.get("message").asString(),
                Optional.ofNullable(at == null || at.isNull() ? null : at.asString()), p.path("live").asBoolean(false)));
        }
        return out;
    }

    /**
     * How each {@code machineType: auto} was resolved: the chosen machine type and the alternatives (cheapest first), each with
     * its monthly price (null without one); written only when the plan resolved one.
     */
    private static ArrayNode placements(Plan plan) {
        ArrayNode out = COMPACT.createArrayNode();
        for (io.mlctl.plan.Placement p : plan.placements()) {
            ObjectNode o = out.addObject();
            o.put("address", p.address().toString());
            o.put("path", p.path());
            o.put("choice", p.choice().id());
            o.set("chosen", option(p.chosen()));
            o.put("spot", p.spot());
            o.put("unit", p.unit());
            o.put("reason", p.reason());
            ArrayNode alternatives = o.putArray("alternatives");
            p.alternatives().forEach(a -> alternatives.add(option(a)));
        }
        return out;
    }

    private static ObjectNode option(io.mlctl.plan.Placement.Option a) {
        ObjectNode o = COMPACT.createObjectNode();
        o.put("machineType", a.machineType());
        if (a.attached().isPresent()) o.put("attached", a.attached().get());
        else o.putNull("attached");
        o.put("accelerator", a.accelerator());
        o.put("count", a.count());
        if (a.monthly().isPresent()) o.put("monthly", a.monthly().get());
        else o.putNull("monthly");
        return o;
    }

    /** Absent in plans written before placements were, and in plans that resolved none. */
    private static List<io.mlctl.plan.Placement> placements(JsonNode doc) {
        List<io.mlctl.plan.Placement> out = new ArrayList<>();
        for (JsonNode p : doc.path("placements")) {
            List<io.mlctl.plan.Placement.Option> alternatives = new ArrayList<>();
            p.path("alternatives").forEach(a -> alternatives.add(option(a)));
            out.add(new io.mlctl.plan.Placement(Address.parse(p.get("address").asString()), p.get("path").asString(),
                io.mlctl.plan.Placement.Choice.of(p.get("choice").asString()), option(p.get("chosen")), p.get("spot").asBoolean(),
                p.get("unit").asString(), p.get("reason").asString(), alternatives));
        }
        return out;
    }

    private static io.mlctl.plan.Placement.Option option(JsonNode o) {
        JsonNode attached = o.get("attached");
        JsonNode monthly = o.get("monthly");
        return new io.mlctl.plan.Placement.Option(o.get("machineType").asString(),
            Optional.ofNullable(attached == null || attached.isNull() ? null : attached.asString()), o.get("accelerator").asString(),
            o.get("count").asInt(), Optional.ofNullable(monthly == null || monthly.isNull() ? null : monthly.asDouble()));
    }

    /** Absent in plans written before costs were, and in plans made without prices. */
    private static Optional<CostEstimate> cost(JsonNode c) {
        if (c == null || c.isNull()) return Optional.empty();
        List<CostEstimate.ResourceCost> resources = new ArrayList<>();
        for (JsonNode r : c.path("resources")) {
            resources.add(new CostEstimate.ResourceCost(Address.parse(r.get("address").asString()), optionalAmount(r.get("before")),
                optionalAmount(r.get("after"))));
        }
        List<String> assumptions = new ArrayList<>();
        c.path("assumptions").forEach(a -> assumptions.add(a.asString()));
        return Optional.of(new CostEstimate(c.get("currency").asString(), resources, amount(c.get("before")), amount(c.get("after")), assumptions));
    }

    private static Optional<CostEstimate.Amount> optionalAmount(JsonNode a) {
        return a == null || a.isNull() ? Optional.empty() : Optional.of(amount(a));
    }

    private static CostEstimate.Amount amount(JsonNode a) {
        List<String> unknown = new ArrayList<>();
        a.path("unknown").forEach(u -> unknown.add(u.asString()));
        return new CostEstimate.Amount(a.get("low").asDouble(), a.get("high").asDouble(), a.get("usageBased").asBoolean(), unknown);
    }

    /** Absent in plans written before it was recorded. */
    private static Optional<Origin> origin(JsonNode o) {
        if (o == null || o.isNull()) return Optional.empty();
        List<String> specs = new ArrayList<>();
        o.get("specs").forEach(p -> specs.add(p.asString()));
        JsonNode dir = o.get("sandboxDirectory");
        return Optional.of(new Origin(o.get("sandbox").asBoolean(), Optional.ofNullable(dir == null ? null : dir.asString()), specs));
    }

    private static Map<String, String> strings(JsonNode n) {
        Map<String, String> m = new LinkedHashMap<>();
        n.properties().forEach(e -> m.put(e.getKey(), e.getValue().asString()));
        return m;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(JsonNode n) {
        Object v = Values.fromJson(n);
        return v == null ? Map.of() : (Map<String, Object>) v;
    }

    private static Change change(JsonNode c) {
        Address a = Address.parse(c.get("address").asString());
        Action action = Action.of(c.get("action").asString());
        Set<Address> deps = new TreeSet<>();
        c.path("dependsOn").forEach(d -> deps.add(Address.parse(d.asString())));
        List<AttributeChange> attrs = new ArrayList<>();
        for (JsonNode x : c.path("changes")) {
            attrs.add(new AttributeChange(x.get("path").asString(), Values.fromJson(x.get("before")), Values.fromJson(x.get("after")),
                x.get("forcesReplacement").asBoolean()));
        }
        String id = c.get("cloudId").isNull() ? null : c.get("cloudId").asString();
        return switch (action) {
            case CREATE -> new Change.Create(a, map(c.get("after")), deps);
            case UPDATE -> new Change.Update(a, id, map(c.get("before")), map(c.get("after")), attrs, deps);
            case REPLACE -> new Change.Replace(a, id, map(c.get("before")), map(c.get("after")), attrs, deps, c.get("reason").asString());
            case DELETE -> new Change.Delete(a, id, map(c.get("before")), deps, c.get("reason").asString());
            case IMPORT -> new Change.Import(a, id, map(c.get("before")), map(c.get("after")), attrs, deps);
        };
    }

    /** A saved plan that cannot be used. */
    public static final class PlanFileException extends MlctlException {
        public PlanFileException(String source, String message) {
            super(source + ": " + message);
        }
    }
}
