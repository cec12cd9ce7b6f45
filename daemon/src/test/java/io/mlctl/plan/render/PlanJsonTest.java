package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.Plan;
import io.mlctl.planner.PlanOptions;
import io.mlctl.planner.Planner;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlanJsonTest {
    private final Environment env = Specs.env(Fixtures.smallEnv("dev"));

    /** A plan with every action: update, replace, delete and create. */
    private Plan mixedPlan() {
        Map<Address, ObservedResource> inv = new HashMap<>();
        env.resources().forEach(r -> inv.put(r.address(), new ObservedResource(r.address(), "id-" + r.address().name(), r.attributes(),
            Ownership.tags("dev", r.address()))));
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
        return new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, new Inventory("dev", inv, List.of()), PlanOptions.defaults(Instant.parse("2026-03-04T05:06:07Z")));
    }

    @Test
    void roundTripsEveryAction() {
        Plan plan = mixedPlan();
        assertThat(plan.summary().create()).isEqualTo(1);
        assertThat(plan.summary().update()).isEqualTo(1);
        assertThat(plan.summary().replace()).isEqualTo(2);
        assertThat(plan.summary().delete()).isEqualTo(1);
        String text = new PlanJson().write(plan);
        Plan back = new PlanJson().read(text, "p.json");
        assertThat(back).isEqualTo(plan);
        for (io.mlctl.plan.Origin o : List.of(io.mlctl.plan.Origin.sandbox("/work/.mlctl/sandbox", List.of("specs/dev.yaml")),
                io.mlctl.plan.Origin.cloud(List.of("/abs/specs", "more.yaml")))) {
            Plan made = plan.readFrom("123456789012", "us-east-1").madeAt(o);
            assertThat(new PlanJson().read(new PlanJson().write(made), "p.json")).isEqualTo(made);
        }
    }

    @Test
    void aSubnetReplacedOnItsOwnRoundTripsAndSaysWhatItIs() {
        Map<Address, ObservedResource> inv = new HashMap<>();
        env.resources().forEach(r -> inv.put(r.address(), new ObservedResource(r.address(), "id-" + r.address().name(), r.attributes(),
            Ownership.tags("dev", r.address()))));
        Address net = Address.parse("network.net");
        Map<String, Object> n = new HashMap<>(inv.get(net).attributes());
        n.put("subnets", List.of(Map.of("name", "train", "cidr", "10.0.7.0/24", "zone", "us-east-1a", "private", true)));
        inv.put(net, new ObservedResource(net, "vpc-1", n, Ownership.tags("dev", net)));
        Plan plan = new Planner(io.mlctl.provider.sandbox.SandboxCloud::rulesOf).plan(env, new Inventory("dev", inv, List.of()),
            PlanOptions.defaults(Instant.parse("2026-03-04T05:06:07Z")));
        String text = new PlanJson().write(plan);
        assertThat(new PlanJson().read(text, "p.json")).isEqualTo(plan);
        var doc = tools.jackson.databind.json.JsonMapper.builder().build().readTree(text);
        var subnet = java.util.stream.StreamSupport.stream(doc.get("resourceChanges").spliterator(), false)
            .filter(c -> c.get("address").asString().equals("network.net.subnet.train")).findFirst().orElseThrow();
        assertThat(subnet.get("component").asString()).isEqualTo("subnet.train");
        assertThat(subnet.get("action").asString()).isEqualTo("replace");
        assertThat(new TextRenderer(false).render(plan)).contains("-/+ subnet \"net/train\" {\n        in = vpc-1\n");
    }

    @Test
    void replaceIsWrittenAsDeleteThenCreate() {
        String text = new PlanJson().write(mixedPlan());
        var doc = tools.jackson.databind.json.JsonMapper.builder().build().readTree(text);
        var replace = java.util.stream.StreamSupport.stream(doc.get("resourceChanges").spliterator(), false)
            .filter(c -> c.get("address").asString().equals("network.net")).findFirst().orElseThrow();
        assertThat(replace.get("action").asString()).isEqualTo("replace");
        assertThat(replace.get("actions").toString()).isEqualTo("[\"delete\",\"create\"]");
        assertThat(replace.get("reason").asString()).isEqualTo("cidr cannot be changed in place");
    }

    @Test
    void rejectsTamperingAndOtherFormats() {
        String text = new PlanJson().write(mixedPlan());
        assertThatThrownBy(() -> new PlanJson().read(text.replace("10.5.0.0/16", "10.6.0.0/16"), "p.json"))
            .hasMessage("p.json: plan file is corrupt or was edited (checksum mismatch); run mlctl plan --out again");
        assertThatThrownBy(() -> new PlanJson().read(text.replace("\"formatVersion\" : \"1.1\"", "\"formatVersion\" : \"9.0\""), "p.json"))
            .hasMessageContaining("plan format 9.0 is not supported");
        assertThatThrownBy(() -> new PlanJson().read("[]", "p.json")).hasMessage("p.json: not an mlctl plan (no formatVersion)");
        assertThatThrownBy(() -> new PlanJson().read("", "p.json")).hasMessageStartingWith("p.json: not");
    }

    @Test
    void textRendererColorsOnlyWhenAsked() {
        Plan plan = mixedPlan();
        String plain = new TextRenderer(false).render(plan);
        String color = new TextRenderer(true).render(plan);
        assertThat(plain).doesNotContain("\u001b[").contains("# network.net must be replaced (cidr cannot be changed in place)")
            .contains("~ cidr = \"10.5.0.0/16\" -> \"10.0.0.0/16\" # forces replacement")
            .contains("# identity.old will be destroyed (no longer declared in the spec)")
            .contains("Plan: 3 to add, 1 to change, 3 to destroy (2 replaced).");
        assertThat(color).contains("\u001b[31m-/+\u001b[0m").contains("\u001b[32m  +\u001b[0m");
        assertThat(color.replaceAll("\u001b\\[[0-9;]*m", "")).isEqualTo(plain);
    }

    @Test
    void everyWrittenPlanConformsToTheDocumentedSchema() throws Exception {
        String schemaText = java.nio.file.Files.readString(Fixtures.repoRoot().resolve("schema/plan.schema.json"));
        var schema = com.networknt.schema.SchemaRegistry.withDefaultDialect(com.networknt.schema.SpecificationVersion.DRAFT_2020_12)
            .getSchema(schemaText, com.networknt.schema.InputFormat.JSON);
        List<String> plans = new java.util.ArrayList<>();
        plans.add(new PlanJson().write(mixedPlan()));
        plans.add(new PlanJson().write(mixedPlan().madeAt(io.mlctl.plan.Origin.sandbox("/work/.mlctl/sandbox", List.of("specs/dev.yaml")))));
        plans.add(new PlanJson().write(mixedPlan().madeAt(io.mlctl.plan.Origin.cloud(List.of("specs")))));
        try (var files = java.nio.file.Files.list(Fixtures.repoRoot().resolve("plans"))) {
            for (var f : files.filter(f -> f.toString().endsWith(".json")).toList()) plans.add(java.nio.file.Files.readString(f));
        }
        assertThat(plans).hasSizeGreaterThan(8);
        for (String p : plans) {
            assertThat(schema.validate(p, com.networknt.schema.InputFormat.JSON)).isEmpty();
        }
        String broken = plans.get(0).replace("\"action\" : \"replace\"", "\"action\" : \"rebuild\"");
        assertThat(schema.validate(broken, com.networknt.schema.InputFormat.JSON)).isNotEmpty();
    }
}
