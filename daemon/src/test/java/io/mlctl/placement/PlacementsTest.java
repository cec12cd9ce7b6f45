package io.mlctl.placement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Placement;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Specs;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** machineType: auto resolved from the shipped catalog and prices: the cheapest carrier, kept while it runs, moved when asked. */
class PlacementsTest {
    static final Placements SHIPPED = new Placements(Specs.CATALOG, PriceCatalog.shipped());

    static final Map<Provider, String[]> WHERE = Map.of(
        Provider.AWS, new String[] {"us-east-1", "us-east-1a", "us-east-1b"},
        Provider.GCP, new String[] {"us-central1", "us-central1-a", "us-central1-b"},
        Provider.AZURE, new String[] {"eastus", "\"1\"", "\"2\""});

    /** An environment of {@code provider} with one resource, {@code resource} (YAML lines under "- type: ..."). */
    static Environment env(Provider provider, String resource) {
        String[] w = WHERE.get(provider);
        return Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: gpu
            spec:
              provider: %s
              region: %s
              resources:
                - type: network
                  name: net
                  cidr: 10.0.0.0/16
                  subnets:
                    - {name: train, cidr: 10.0.1.0/24, zone: %s}
                    - {name: other, cidr: 10.0.2.0/24, zone: %s}
                - type: identity
                  name: role
                  grants: []
            %s""".formatted(provider.id(), w[0], w[1], w[2], resource.indent(4)));
    }

    static String instance(String accelerator, boolean spot) {
        return "- type: instance\n  name: trainer\n  machineType: auto\n  accelerator: " + accelerator + "\n  spot: " + spot + "\n  subnet: net/train\n";
    }

    static Placements.Resolution resolve(Environment env) {
        return SHIPPED.resolve(env, Inventory.empty(env.name()), false);
    }

    static Map<String, Object> attributes(Placements.Resolution r, ResourceType type, String name) {
        return r.environment().resource(new Address(type, name)).orElseThrow().attributes();
    }

    static Stream<Arguments> cheapest() {
        return Stream.of(
            // name, provider, accelerator, spot, chosen, accelerator the cloud gets (null: comes with the machine type), monthly
            Arguments.of("V100 on AWS", Provider.AWS, "{type: nvidia-v100, count: 1}", false, "p3.2xlarge", null, 2233.80),
            Arguments.of("V100 on AWS, spot", Provider.AWS, "{type: nvidia-v100}", true, "p3.2xlarge", null, 657.00),
            Arguments.of("V100 on GCP: an N1 with one attached", Provider.GCP, "{type: nvidia-v100, count: 1}", false, "n1-standard-4",
                Map.of("type", "nvidia-tesla-v100", "count", 1L), 1949.10),
            Arguments.of("V100 on GCP, preemptible", Provider.GCP, "{type: nvidia-v100}", true, "n1-standard-4",
                Map.of("type", "nvidia-tesla-v100", "count", 1L), 569.40),
            Arguments.of("GCP's own accelerator name works too", Provider.GCP, "{type: nvidia-tesla-v100}", false, "n1-standard-4",
                Map.of("type", "nvidia-tesla-v100", "count", 1L), 1949.10),
            Arguments.of("V100 on Azure", Provider.AZURE, "{type: nvidia-v100}", false, "Standard_NC6s_v3", null, 2233.80),
            Arguments.of("V100 on Azure, spot", Provider.AZURE, "{type: nvidia-v100}", true, "Standard_NC6s_v3", null, 446.76),
            Arguments.of("2 V100 on AWS: p3.8xlarge has 4", Provider.AWS, "{type: nvidia-v100, count: 2}", false, "p3.8xlarge", null, 8935.20),
            Arguments.of("4 V100 on AWS", Provider.AWS, "{type: nvidia-v100, count: 4}", false, "p3.8xlarge", null, 8935.20),
            Arguments.of("5 V100 on AWS: only p3.16xlarge has enough", Provider.AWS, "{type: nvidia-v100, count: 5}", false, "p3.16xlarge", null, 17870.40),
            Arguments.of("2 V100 on Azure", Provider.AZURE, "{type: nvidia-v100, count: 2}", false, "Standard_NC12s_v3", null, 4467.60),
            Arguments.of("4 V100 on Azure", Provider.AZURE, "{type: nvidia-v100, count: 4}", false, "Standard_NC24s_v3", null, 8935.20),
            Arguments.of("3 V100 on GCP: attached in fours", Provider.GCP, "{type: nvidia-v100, count: 3}", false, "n1-standard-4",
                Map.of("type", "nvidia-tesla-v100", "count", 4L), 7380.30),
            Arguments.of("T4 on AWS: the cheaper g4dn", Provider.AWS, "{type: nvidia-t4}", false, "g4dn.xlarge", null, 383.98),
            Arguments.of("A100 on GCP: built into a2", Provider.GCP, "{type: nvidia-a100}", false, "a2-highgpu-1g", null, 2679.10));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void cheapest(String name, Provider provider, String accelerator, boolean spot, String chosen, Map<String, Object> cloudAccelerator, double monthly) {
        Placements.Resolution r = resolve(env(provider, instance(accelerator, spot)));
        Map<String, Object> a = attributes(r, ResourceType.INSTANCE, "trainer");
        assertThat(a.get("machineType")).isEqualTo(chosen);
        assertThat(a.get("accelerator")).isEqualTo(cloudAccelerator);
        assertThat(a.get("spot")).isEqualTo(spot);
        Placement p = r.placements().get(0);
        assertThat(p.choice()).isEqualTo(Placement.Choice.CHEAPEST);
        assertThat(p.chosen().machineType()).isEqualTo(chosen);
        assertThat(p.chosen().monthly()).contains(monthly);
        assertThat(p.spot()).isEqualTo(spot);
        assertThat(p.reason()).startsWith("the cheapest " + (spot ? "spot" : "on-demand") + " of ");
        // Every alternative costs at least as much, cheapest first.
        List<Double> prices = new ArrayList<>(List.of(monthly));
        p.alternatives().forEach(o -> prices.add(o.monthly().orElseThrow()));
        assertThat(prices).isSorted();
        assertThat(p.alternatives()).noneMatch(o -> o.equals(p.chosen()));
    }

    @Test
    void nodePoolsAndEndpointsArePlacedToo() {
        Placements.Resolution aws = resolve(env(Provider.AWS, """
            - type: kubernetes_cluster
              name: ml
              version: "1.30"
              subnet: net/train
              nodePools:
                - {name: cpu, machineType: m5.large, min: 1, max: 2}
                - {name: gpu, machineType: auto, accelerator: {type: nvidia-v100, count: 1}, min: 0, max: 4, spot: true}
            - type: inference_endpoint
              name: serve
              modelUri: s3://models/m/
              machineType: auto
              accelerator: {type: nvidia-v100}
              identity: role
            """));
        @SuppressWarnings("unchecked") List<Map<String, Object>> pools = (List<Map<String, Object>>) attributes(aws, ResourceType.KUBERNETES_CLUSTER, "ml").get("nodePools");
        assertThat(pools).extracting(p -> p.get("machineType")).containsExactly("m5.large", "p3.2xlarge");
        assertThat(attributes(aws, ResourceType.INFERENCE_ENDPOINT, "serve").get("machineType")).isEqualTo("ml.p3.2xlarge");
        assertThat(aws.placements()).extracting(Placement::path, Placement::unit, Placement::spot)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("nodePools[gpu].machineType", "node", true),
                org.assertj.core.groups.Tuple.tuple("machineType", "replica", false));
        // Endpoints are priced at endpoint prices: ml.p3.2xlarge at 3.825 an hour.
        assertThat(aws.placements().get(1).chosen().monthly()).contains(2792.25);

        Placements.Resolution gcp = resolve(env(Provider.GCP, """
            - type: inference_endpoint
              name: serve
              modelUri: gs://models/m/
              machineType: auto
              accelerator: {type: nvidia-v100}
            """));
        Map<String, Object> endpoint = attributes(gcp, ResourceType.INFERENCE_ENDPOINT, "serve");
        assertThat(endpoint.get("machineType")).isEqualTo("n1-standard-2");
        assertThat(endpoint.get("accelerator")).isEqualTo(Map.of("type", "nvidia-tesla-v100", "count", 1L));
        // Vertex AI bills the attached V100 at its endpoint price: (0.109 + 2.852) × 730.
        assertThat(gcp.placements().get(0).chosen().monthly()).contains(2161.53);
    }

    @Test
    void anEnvironmentWithoutAutoIsReturnedAsItIs() {
        Environment env = env(Provider.AWS, "- {type: instance, name: t, machineType: p3.2xlarge, subnet: net/train}\n");
        Placements.Resolution r = resolve(env);
        assertThat(r.environment()).isSameAs(env);
        assertThat(r.placements()).isEmpty();
        assertThat(Placements.asks(env)).isFalse();
    }

    // Stability: prices in which p3.8xlarge (four V100s) is cheaper than p3.2xlarge.
    static final Placements CHEAPER_P38 = new Placements(Specs.CATALOG, prices(Provider.AWS,
        PriceRow.hourly(PriceKind.MACHINE, "p3.2xlarge", "*", 3.06, 0.9, "test", LocalDate.of(2026, 12, 1)),
        PriceRow.hourly(PriceKind.MACHINE, "p3.8xlarge", "*", 1.00, 0.5, "test", LocalDate.of(2026, 12, 1)),
        PriceRow.hourly(PriceKind.MACHINE, "p3.16xlarge", "*", 24.48, 7.344, "test", LocalDate.of(2026, 12, 1))));

    static PriceCatalog prices(Provider p, PriceRow... rows) {
        Map<Provider, List<PriceRow>> m = new EnumMap<>(Provider.class);
        m.put(p, List.of(rows));
        return PriceCatalog.of(m);
    }

    static Inventory running(Environment env, String machineType) {
        Address a = new Address(ResourceType.INSTANCE, "trainer");
        return new Inventory(env.name(), Map.of(a, new ObservedResource(a, "i-1", Map.of("machineType", machineType, "region", "us-east-1"), Map.of())), List.of());
    }

    static Stream<Arguments> stability() {
        return Stream.of(
            // name, count asked, running on, replace, chosen, choice
            Arguments.of("a new resource gets the cheapest", 1, null, false, "p3.8xlarge", Placement.Choice.CHEAPEST),
            Arguments.of("a cheaper price never moves a running resource", 1, "p3.2xlarge", false, "p3.2xlarge", Placement.Choice.KEPT),
            Arguments.of("--replace-placement moves it", 1, "p3.2xlarge", true, "p3.8xlarge", Placement.Choice.REPLACED),
            Arguments.of("kept although it has more GPUs than asked", 1, "p3.16xlarge", false, "p3.16xlarge", Placement.Choice.KEPT),
            Arguments.of("a machine type without the count asked is re-placed", 5, "p3.8xlarge", false, "p3.16xlarge", Placement.Choice.CHEAPEST),
            Arguments.of("a machine type without the GPU is re-placed", 1, "m5.large", false, "p3.8xlarge", Placement.Choice.CHEAPEST));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void stability(String name, int count, String runningOn, boolean replace, String chosen, Placement.Choice choice) {
        Environment env = env(Provider.AWS, instance("{type: nvidia-v100, count: " + count + "}", false));
        Inventory inventory = runningOn == null ? Inventory.empty(env.name()) : running(env, runningOn);
        Placements.Resolution r = CHEAPER_P38.resolve(env, inventory, replace);
        assertThat(attributes(r, ResourceType.INSTANCE, "trainer").get("machineType")).isEqualTo(chosen);
        assertThat(r.placements().get(0).choice()).isEqualTo(choice);
        if (choice == Placement.Choice.KEPT) assertThat(r.placements().get(0).reason()).startsWith("kept: it runs on " + runningOn);
        if (runningOn != null && choice == Placement.Choice.CHEAPEST) {
            assertThat(r.placements().get(0).reason()).startsWith(runningOn + ", which it runs on, does not give " + count + "× nvidia-v100: the cheapest");
        }
    }

    @Test
    void withoutAnyPriceThereIsNothingToChooseBy() {
        Placements none = new Placements(Specs.CATALOG, prices(Provider.AWS,
            PriceRow.hourly(PriceKind.MACHINE, "p3.2xlarge", "*", 3.06, null, "test", LocalDate.of(2026, 12, 1))));
        Environment env = env(Provider.AWS, instance("{type: nvidia-v100}", true));
        assertThatThrownBy(() -> none.resolve(env, Inventory.empty(env.name()), false)).isInstanceOf(Placements.PlacementException.class)
            .hasMessageEndingWith("instance.trainer: machineType: auto found no spot price for any aws us-east-1 machine type with 1× nvidia-v100 "
                + "(p3.2xlarge, p3.8xlarge, p3.16xlarge have none)");
    }

    @Test
    void withoutAnyPriceTheErrorIsAtTheResourcesPosition() {
        Placements none = new Placements(Specs.CATALOG, prices(Provider.AWS,
            PriceRow.hourly(PriceKind.MACHINE, "p3.2xlarge", "*", 3.06, null, "test", LocalDate.of(2026, 12, 1))));
        Environment env = env(Provider.AWS, instance("{type: nvidia-v100}", true));
        String at = env.resource(new Address(ResourceType.INSTANCE, "trainer")).orElseThrow().position().toString();
        assertThatThrownBy(() -> none.resolve(env, Inventory.empty(env.name()), false)).hasMessageStartingWith(at + ": instance.trainer: ");
    }

    /** On GCP the GPU is attached: a machine of the right type with another accelerator (or count) is not kept as if it had it. */
    @ParameterizedTest(name = "running on n1-standard-8 with {0}: {2}")
    @org.junit.jupiter.params.provider.CsvSource({
        "nvidia-tesla-v100, 1, KEPT",
        "nvidia-tesla-t4, 1, CHEAPEST",
        "nvidia-tesla-v100, 2, CHEAPEST"})
    void onGcpTheAttachedAcceleratorDecidesWhetherTheRunningMachineIsKept(String attached, int count, Placement.Choice choice) {
        Environment env = env(Provider.GCP, instance("{type: nvidia-v100, count: 1}", false));
        Address a = new Address(ResourceType.INSTANCE, "trainer");
        Inventory inventory = new Inventory(env.name(), Map.of(a, new ObservedResource(a, "zone/gpu-trainer", Map.of("machineType", "n1-standard-8",
            "accelerator", Map.of("type", attached, "count", count), "region", env.region()), Map.of())), List.of());
        Placements.Resolution r = SHIPPED.resolve(env, inventory, false);
        assertThat(r.placements().get(0).choice()).isEqualTo(choice);
        if (choice == Placement.Choice.KEPT) assertThat(attributes(r, ResourceType.INSTANCE, "trainer").get("machineType")).isEqualTo("n1-standard-8");
    }

    @Test
    void theResolvedSpecKeepsItsPositionAndDependencies() {
        Environment env = env(Provider.AWS, instance("{type: nvidia-v100}", false));
        ResourceSpec before = env.resource(new Address(ResourceType.INSTANCE, "trainer")).orElseThrow();
        ResourceSpec after = resolve(env).environment().resource(before.address()).orElseThrow();
        assertThat(after.position()).isEqualTo(before.position());
        assertThat(after.dependencies()).isEqualTo(before.dependencies()).isNotEmpty();
    }
}
