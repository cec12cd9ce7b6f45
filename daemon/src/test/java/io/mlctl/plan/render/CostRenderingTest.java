package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PlanCosts;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.CostEstimate.Amount;
import io.mlctl.plan.CostEstimate.ResourceCost;
import io.mlctl.plan.Origin;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A plan's cost as people (text, Markdown) and programs (JSON) read it, and a saved plan keeping it. */
class CostRenderingTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Instant AT = Instant.parse("2026-03-04T05:06:07Z");
    private static final Environment ENV = Specs.env(Fixtures.smallEnv("dev"));
    private static final PlanCosts COSTS = new PlanCosts(new CostModel(PriceCatalog.shipped()));
    private static final String NO_PRICE = "no price for accelerator nvidia-x in aws us-east-1";

    private static Amount usd(double low, double high) {
        return new Amount(low, high, false, List.of());
    }

    private static Amount usd(double usd) {
        return usd(usd, usd);
    }

    private static final Amount USAGE = new Amount(0, 0, true, List.of());

    private static Map<Address, ObservedResource> owned() {
        Map<Address, ObservedResource> inv = new HashMap<>();
        ENV.resources().forEach(r -> inv.put(r.address(), new ObservedResource(r.address(), "id-" + r.address().name(), r.attributes(),
            Ownership.tags("dev", r.address()))));
        return inv;
    }

    /** Every action (the planner's mixed plan of PlanJsonTest): network and instance replaced, bucket updated, a role created, one deleted. */
    private static Plan mixed() {
        Map<Address, ObservedResource> inv = owned();
        Address bucket = Address.parse("bucket.dev-data");
        Map<String, Object> b = new HashMap<>(inv.get(bucket).attributes());
        b.put("versioning", false);
        inv.put(bucket, new ObservedResource(bucket, "dev-data", b, Ownership.tags("dev", bucket)));
        Address net = Address.parse("network.net");
        Map<String, Object> n = new HashMap<>(inv.get(net).attributes());
        n.put("cidr", "10.5.0.0/16");
        inv.put(net, new ObservedResource(net, "vpc-1", n, Ownership.tags("dev", net)));
        Address old = Address.parse("identity.old");
        inv.put(old, new ObservedResource(old, "arn:old", Map.of("region", "us-east-1"), Ownership.tags("dev", old)));
        inv.remove(Address.parse("identity.trainer"));
        return new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(ENV, new Inventory("dev", inv, List.of()), PlanOptions.defaults(AT));
    }

    /**
     * The mixed plan with a cost given by hand, so that every form shows: the bucket sized by this change (usage-based to $23.00),
     * the instance gaining an accelerator with no price, a cluster the plan leaves alone costing a range.
     */
    static Plan handPriced() {
        List<ResourceCost> resources = List.of(
            new ResourceCost(Address.parse("network.net"), Optional.of(usd(0)), Optional.of(usd(0))),
            new ResourceCost(Address.parse("bucket.dev-data"), Optional.of(USAGE), Optional.of(usd(23))),
            new ResourceCost(Address.parse("identity.old"), Optional.of(usd(0)), Optional.empty()),
            new ResourceCost(Address.parse("identity.trainer"), Optional.empty(), Optional.of(usd(0))),
            new ResourceCost(Address.parse("instance.gpu-1"), Optional.of(usd(383.98)), Optional.of(new Amount(383.98, 383.98, false, List.of(NO_PRICE)))),
            new ResourceCost(Address.parse("kubernetes_cluster.k"), Optional.of(usd(100, 400)), Optional.of(usd(100, 400))));
        return mixed().costing(new CostEstimate("USD", resources, new Amount(483.98, 783.98, true, List.of()),
            new Amount(506.98, 806.98, false, List.of(NO_PRICE)), List.of("730 hours a month", "spot at the catalog's spot price")));
    }

    static Stream<Arguments> amounts() {
        return Stream.of(
            Arguments.of("free", usd(0), "$0.00/month"),
            Arguments.of("fixed, with thousands", usd(2233.8), "$2,233.80/month"),
            Arguments.of("autoscaled", usd(83.95, 755.55), "$83.95..$755.55/month"),
            Arguments.of("an unsized bucket alone", USAGE, "usage-based"),
            Arguments.of("priced and usage-based", new Amount(10, 10, true, List.of()), "$10.00/month + usage-based"),
            Arguments.of("nothing priced", new Amount(0, 0, false, List.of(NO_PRICE)), "unknown (" + NO_PRICE + ")"),
            Arguments.of("priced and unknown", new Amount(5, 5, false, List.of("a", "b")), "$5.00/month + unknown (a; b)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("amounts")
    void anAmountSaysWhatItIs(String name, Amount amount, String text) {
        assertThat(CostText.amount(amount)).isEqualTo(text);
    }

    static Stream<Arguments> changes() {
        Optional<Amount> none = Optional.empty();
        return Stream.of(
            Arguments.of("create", none, Optional.of(usd(2233.8)), "$0.00 -> $2,233.80/month"),
            Arguments.of("delete", Optional.of(usd(83.95, 755.55)), none, "$83.95..$755.55 -> $0.00/month"),
            Arguments.of("scaled up", Optional.of(usd(337.48, 601.96)), Optional.of(usd(337.48, 1130.92)), "$337.48..$601.96 -> $337.48..$1,130.92/month"),
            Arguments.of("cheaper", Optional.of(usd(673)), Optional.of(usd(201.9)), "$673.00 -> $201.90/month"),
            Arguments.of("cost unchanged", Optional.of(usd(41.4)), Optional.of(usd(41.4)), "$41.40/month (unchanged)"),
            Arguments.of("a free create", none, Optional.of(usd(0)), "$0.00/month"),
            Arguments.of("a free delete", Optional.of(usd(0)), none, "$0.00/month"),
            Arguments.of("an unsized bucket created", none, Optional.of(USAGE), "$0.00 -> usage-based"),
            Arguments.of("a bucket given a size", Optional.of(USAGE), Optional.of(usd(23)), "usage-based -> $23.00/month"),
            Arguments.of("an unsized bucket deleted", Optional.of(USAGE), none, "usage-based -> $0.00/month"),
            Arguments.of("no price after", Optional.of(usd(10)), Optional.of(new Amount(0, 0, false, List.of(NO_PRICE))), "$10.00 -> unknown (" + NO_PRICE + ")"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("changes")
    void aResourceChangeShowsItsCostBeforeAndAfter(String name, Optional<Amount> before, Optional<Amount> after, String text) {
        assertThat(CostText.change(before, after)).isEqualTo(text);
    }

    static Stream<Arguments> totals() {
        return Stream.of(
            Arguments.of("from nothing", Amount.ZERO, new Amount(1094.43, 2643.42, true, List.of()),
                "$0.00 -> $1,094.43..$2,643.42/month (+$1,094.43..+$2,643.42) + usage-based"),
            Arguments.of("saving", usd(673), usd(201.9), "$673.00 -> $201.90/month (-$471.10)"),
            Arguments.of("no change", new Amount(5, 9, false, List.of("x")), new Amount(5, 9, false, List.of("x")), "$5.00..$9.00/month (no change) + unknown"),
            Arguments.of("up at one end only", usd(100, 200), usd(100, 300), "$100.00..$200.00 -> $100.00..$300.00/month (+$0.00..+$100.00)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("totals")
    void aPlansTotalShowsBeforeAfterAndTheDelta(String name, Amount before, Amount after, String text) {
        assertThat(CostText.total(new CostEstimate("USD", List.of(), before, after, List.of()))).isEqualTo(text);
    }

    @Test
    void textShowsEachResourcesCostUnderItsHeadingAndTheTotalsAfterTheSummary() {
        String text = new TextRenderer(false).render(handPriced());
        assertThat(text)
            .contains("  # network.net must be replaced (cidr cannot be changed in place)\n  # cost: $0.00/month (unchanged)\n-/+ network \"net\" {\n")
            .contains("  # bucket.dev-data will be updated in place\n  # cost: usage-based -> $23.00/month\n  ~ bucket \"dev-data\" {\n")
            .contains("  # identity.trainer will be created\n  # cost: $0.00/month\n")
            .contains("  # instance.gpu-1 must be replaced (")
            .contains("  # cost: $383.98 -> $383.98/month + unknown (" + NO_PRICE + ")\n-/+ instance \"gpu-1\" {\n")
            .contains("  # identity.old will be destroyed (no longer declared in the spec)\n  # cost: $0.00/month\n")
            .contains("Plan: 3 to add, 1 to change, 3 to destroy (2 replaced).\n\n"
                + "Cost: $483.98..$783.98 -> $506.98..$806.98/month (+$23.00, not counting what has no price) + unknown\n"
                + "  not priced: " + NO_PRICE + " (left out of the totals)\n"
                + "  - 730 hours a month\n  - spot at the catalog's spot price\n");
        // The cluster the plan leaves alone counts in the totals, but is not a change.
        assertThat(text).doesNotContain("kubernetes_cluster");
        String color = new TextRenderer(true).render(handPriced());
        assertThat(color).contains("\u001b[1mCost:\u001b[0m");
        assertThat(color.replaceAll("\u001b\\[[0-9;]*m", "")).isEqualTo(text);
    }

    @Test
    void markdownHasACostColumnAndTheTotalsUnderTheSummaryWithTheAssumptionsFolded() {
        String md = new MarkdownRenderer().render(handPriced());
        assertThat(md)
            .contains("**Plan: 3 to add, 1 to change, 3 to destroy (2 replaced).**\n\n"
                + "**Cost:** $483.98..$783.98 -> $506.98..$806.98/month (+$23.00, not counting what has no price) + unknown\n\n"
                + "Not priced (left out of the totals): " + NO_PRICE + "\n\n"
                + "<details><summary>Cost assumptions</summary>\n\n- 730 hours a month\n- spot at the catalog's spot price\n\n</details>\n\n")
            .contains("| Action | Resource | Cloud id | Monthly cost | Why |\n|---|---|---|---|---|\n")
            .contains("| update | `bucket.dev-data` | `dev-data` | usage-based -> $23.00/month | ")
            .contains("| create | `identity.trainer` | (new) | $0.00/month | ")
            .contains("| delete | `identity.old` | `arn:old` | $0.00/month | ");
        // Every row has as many cells as the header.
        md.lines().filter(l -> l.startsWith("| ")).forEach(l -> assertThat(l.split("(?<!\\\\)\\|", -1)).as(l).hasSize(7));
    }

    @Test
    void aPlanWithoutPricesShowsNoCost() {
        Plan plan = mixed();
        assertThat(new TextRenderer(false).render(plan)).doesNotContain("cost").doesNotContain("Cost");
        assertThat(new MarkdownRenderer().render(plan)).doesNotContain("Cost").contains("| Action | Resource | Cloud id | Why |\n|---|---|---|---|\n");
        assertThat(JSON.readTree(new PlanJson().write(plan)).has("cost")).isFalse();
        assertThat(JSON.readTree(new PlanJson().write(plan)).at("/resourceChanges/0").has("cost")).isFalse();
    }

    @Test
    void aPlanWithoutChangesShowsTheCurrentTotalInOneLine() {
        Inventory inventory = new Inventory("dev", owned(), List.of());
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(AT));
        Plan priced = plan.costing(COSTS.estimate(ENV, inventory, plan));
        assertThat(plan.hasChanges()).isFalse();
        // g4dn.xlarge on demand at 0.526 an hour x 730 = 383.98, and its 100 GB gp3 boot disk at 0.08 = 8.00.
        assertThat(new TextRenderer(false).render(priced))
            .isEqualTo("No changes. Environment dev (aws, us-east-1) matches the spec (4 resources).\nCost: $391.98/month + usage-based\n");
        assertThat(new MarkdownRenderer().render(priced)).endsWith("**No changes.** The environment matches the spec (4 resources).\n\n"
            + "**Cost:** $391.98/month + usage-based\n");
    }

    @Test
    void aSubnetOrNodePoolChangedOnItsOwnLeavesTheCostToItsResourcesChange() {
        Map<Address, ObservedResource> inv = owned();
        Address net = Address.parse("network.net");
        Map<String, Object> n = new HashMap<>(inv.get(net).attributes());
        n.put("subnets", List.of(Map.of("name", "train", "cidr", "10.0.7.0/24", "zone", "us-east-1a", "private", true)));
        inv.put(net, new ObservedResource(net, "vpc-1", n, Ownership.tags("dev", net)));
        Inventory inventory = new Inventory("dev", inv, List.of());
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(AT));
        Plan priced = plan.costing(COSTS.estimate(ENV, inventory, plan));
        String text = new TextRenderer(false).render(priced);
        assertThat(text).contains("  # network.net will be updated in place\n  # cost: $0.00/month (unchanged)\n")
            .contains("  # network.net.subnet.train must be replaced (subnets[train].cidr cannot be changed in place)\n-/+ subnet");
        JsonNode changes = JSON.readTree(new PlanJson().write(priced)).get("resourceChanges");
        for (JsonNode c : changes) {
            if (c.has("component")) assertThat(c.get("cost").isNull()).as(c.toString()).isTrue();
            else assertThat(c.at("/cost/after/low").isNumber()).as(c.toString()).isTrue();
        }
    }

    @Test
    void theDeleteOfADuplicateShowsNoCostOfTheResourceKeptUnderItsAddress() {
        Address gpu = Address.parse("instance.gpu-1");
        Inventory inventory = new Inventory("dev", owned(), List.of(new ObservedResource(gpu, "i-dup", owned().get(gpu).attributes(), Ownership.tags("dev", gpu))));
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(AT));
        Plan priced = plan.costing(COSTS.estimate(ENV, inventory, plan));
        assertThat(plan.summary().delete()).isEqualTo(1);
        String text = new TextRenderer(false).render(priced);
        assertThat(text).contains("  # instance.gpu-1 will be destroyed (duplicate of id-gpu-1").doesNotContain("# cost:");
        assertThat(JSON.readTree(new PlanJson().write(priced)).at("/resourceChanges/0/cost").isNull()).isTrue();
    }

    @Test
    void jsonCarriesTheNumbersInFieldsOfTheirOwn() {
        JsonNode doc = JSON.readTree(new PlanJson().write(handPriced()));
        JsonNode cost = doc.get("cost");
        assertThat(cost.get("currency").asString()).isEqualTo("USD");
        assertThat(cost.at("/before/low").asDouble()).isEqualTo(483.98);
        assertThat(cost.at("/before/usageBased").asBoolean()).isTrue();
        assertThat(cost.at("/after/high").asDouble()).isEqualTo(806.98);
        assertThat(cost.at("/after/unknown/0").asString()).isEqualTo(NO_PRICE);
        // 506.98 - 483.98 is 23.000000000000057 in doubles: written in cents.
        assertThat(cost.at("/delta/low").toString()).isEqualTo("23.0");
        assertThat(cost.at("/delta/high").toString()).isEqualTo("23.0");
        assertThat(cost.get("assumptions").valueStream().map(JsonNode::asString).toList()).containsExactly("730 hours a month", "spot at the catalog's spot price");
        assertThat(cost.get("resources").size()).as("the unchanged cluster too").isEqualTo(6);
        Map<String, JsonNode> byAddress = new HashMap<>();
        doc.get("resourceChanges").forEach(c -> byAddress.put(c.get("address").asString(), c.get("cost")));
        assertThat(byAddress.get("identity.trainer").get("before").isNull()).as("a create has no cost before").isTrue();
        assertThat(byAddress.get("identity.trainer").at("/after/low").asDouble()).isZero();
        assertThat(byAddress.get("identity.old").get("after").isNull()).as("a delete has no cost after").isTrue();
        assertThat(byAddress.get("bucket.dev-data").at("/before/usageBased").asBoolean()).isTrue();
        assertThat(byAddress.get("bucket.dev-data").at("/after/low").asDouble()).isEqualTo(23.0);
    }

    /** Plans as the engine prices them, as this test prices them by hand, and as saved on the sandbox. */
    private static List<Plan> pricedPlans() {
        Map<Address, ObservedResource> inv = owned();
        inv.remove(Address.parse("instance.gpu-1"));
        Inventory inventory = new Inventory("dev", inv, List.of());
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(ENV, inventory, PlanOptions.defaults(AT));
        Plan engine = plan.costing(COSTS.estimate(ENV, inventory, plan));
        return List.of(handPriced(), engine, engine.readFrom("123456789012", "us-east-1").madeAt(Origin.sandbox("/work/.mlctl/sandbox", List.of("dev.yaml"))));
    }

    @Test
    void aSavedPlanKeepsItsCost() {
        for (Plan plan : pricedPlans()) {
            Plan back = new PlanJson().read(new PlanJson().write(plan), "p.json");
            assertThat(back.cost()).isPresent();
            assertThat(back).isEqualTo(plan);
            assertThat(new TextRenderer(false).render(back)).isEqualTo(new TextRenderer(false).render(plan));
        }
    }

    @Test
    void aPlanSavedBeforeCostsStillReads() {
        // What an mlctl before costs wrote: the same plan without the cost fields.
        Plan back = new PlanJson().read(new PlanJson().write(mixed()), "old.json");
        assertThat(back.cost()).isEmpty();
        assertThat(back).isEqualTo(mixed());
    }

    @Test
    void pricedPlansConformToTheSchemaAndItRejectsAWrongCost() throws Exception {
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(Files.readString(Fixtures.repoRoot().resolve("schema/plan.schema.json")), InputFormat.JSON);
        for (Plan plan : pricedPlans()) assertThat(schema.validate(new PlanJson().write(plan), InputFormat.JSON)).isEmpty();
        String doc = new PlanJson().write(handPriced());
        Map<String, Consumer<tools.jackson.databind.node.ObjectNode>> wrong = Map.of(
            "a cost in text", d -> ((tools.jackson.databind.node.ObjectNode) d.at("/cost/after")).put("low", "506.98"),
            "a currency other than USD", d -> ((tools.jackson.databind.node.ObjectNode) d.get("cost")).put("currency", "EUR"),
            "an amount without usageBased", d -> ((tools.jackson.databind.node.ObjectNode) d.at("/cost/before")).remove("usageBased"),
            "a change's cost that is not an object", d -> ((tools.jackson.databind.node.ObjectNode) d.at("/resourceChanges/0")).put("cost", 12),
            "a negative amount", d -> ((tools.jackson.databind.node.ObjectNode) d.at("/resourceChanges/0/cost/before")).put("low", -1));
        wrong.forEach((name, edit) -> {
            tools.jackson.databind.node.ObjectNode d = (tools.jackson.databind.node.ObjectNode) JSON.readTree(doc);
            edit.accept(d);
            assertThat(schema.validate(JSON.writeValueAsString(d), InputFormat.JSON)).as(name).isNotEmpty();
        });
    }
}
