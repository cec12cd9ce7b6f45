package io.mlctl.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.mlctl.catalog.Catalog;
import io.mlctl.schema.SchemaValidator;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.YamlLoader;
import io.mlctl.testing.Fixtures;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CostModelTest {
    static final CostModel MODEL = new CostModel(PriceCatalog.shipped());

    /** A resource, and its monthly cost worked out by hand from the shipped prices (730 hours a month). */
    record Case(String name, Provider provider, String region, ResourceType type, Map<String, Object> attributes, double low, double high,
                boolean usageBased) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
            new Case("on-demand p3.2xlarge for a month: 3.06 * 730 + 100 GB gp3 * 0.08", Provider.AWS, "us-east-1", ResourceType.INSTANCE,
                Map.of("machineType", "p3.2xlarge", "spot", false, "diskGb", 100L), 2241.80, 2241.80, false),
            new Case("spot p3.2xlarge: 0.90 * 730 + 200 GB * 0.08", Provider.AWS, "us-east-1", ResourceType.INSTANCE,
                Map.of("machineType", "p3.2xlarge", "spot", true, "diskGb", 200L), 673.00, 673.00, false),
            new Case("the eu-central-1 row, not the default: 3.823 * 730 + 100 * 0.0952", Provider.AWS, "eu-central-1", ResourceType.INSTANCE,
                Map.of("machineType", "p3.2xlarge", "diskGb", 100L), 2800.31, 2800.31, false),
            new Case("a region without rows of its own falls back to '*'", Provider.AWS, "us-west-2", ResourceType.INSTANCE,
                Map.of("machineType", "p3.2xlarge", "diskGb", 100L), 2241.80, 2241.80, false),
            new Case("EKS with a spot GPU pool min 0 max 4: 73 + 0..4 * 0.3623 * 730", Provider.AWS, "us-east-1", ResourceType.KUBERNETES_CLUSTER,
                Map.of("nodePools", List.of(Map.of("name", "gpu", "machineType", "g5.xlarge", "min", 0L, "max", 4L, "spot", true))), 73.00, 1130.916, false),
            new Case("SageMaker endpoint 1..10 ml.m5.large: 0.115 * 730 each", Provider.AWS, "us-east-1", ResourceType.INFERENCE_ENDPOINT,
                Map.of("machineType", "ml.m5.large", "minReplicas", 1L, "maxReplicas", 10L), 83.95, 839.50, false),
            new Case("S3 bucket with a 1000 GB hint: 1000 * 0.023", Provider.AWS, "us-east-1", ResourceType.BUCKET,
                Map.of("expectedSizeGb", 1000L), 23.00, 23.00, false),
            new Case("a bucket without a size hint is usage-based, not free", Provider.AWS, "us-east-1", ResourceType.BUCKET,
                Map.of("versioning", true), 0, 0, true),
            new Case("GCE n1-standard-8 + 1 V100 on demand: (0.38 + 2.48) * 730 + 100 GB pd-balanced * 0.10", Provider.GCP, "us-central1",
                ResourceType.INSTANCE, Map.of("machineType", "n1-standard-8", "accelerator", Map.of("type", "nvidia-tesla-v100", "count", 1L), "diskGb", 100L),
                2097.80, 2097.80, false),
            new Case("GCE spot n1-standard-8 + 2 V100: (0.08 + 2 * 0.74) * 730 + 10", Provider.GCP, "us-central1", ResourceType.INSTANCE,
                Map.of("machineType", "n1-standard-8", "spot", true, "accelerator", Map.of("type", "nvidia-tesla-v100", "count", 2L), "diskGb", 100L),
                1148.80, 1148.80, false),
            new Case("accelerator count defaults to 1", Provider.GCP, "us-central1", ResourceType.INSTANCE,
                Map.of("machineType", "n1-standard-8", "accelerator", Map.of("type", "nvidia-tesla-v100")), 2097.80, 2097.80, false),
            new Case("GKE spot pool 1..3 n1-standard-4 with a T4 each: 73 + (0.04 + 0.14) * 730 * 1..3", Provider.GCP, "us-central1",
                ResourceType.KUBERNETES_CLUSTER, Map.of("nodePools", List.of(Map.of("name", "t4", "machineType", "n1-standard-4", "min", 1L, "max", 3L,
                    "spot", true, "accelerator", Map.of("type", "nvidia-tesla-t4")))), 204.40, 467.20, false),
            new Case("Vertex endpoint 1..2 n1-standard-4 + T4 at prediction prices: (0.219 + 0.4025) * 730 * 1..2", Provider.GCP, "us-central1",
                ResourceType.INFERENCE_ENDPOINT, Map.of("machineType", "n1-standard-4", "minReplicas", 1L, "maxReplicas", 2L,
                    "accelerator", Map.of("type", "nvidia-tesla-t4")), 453.695, 907.39, false),
            new Case("AKS: free control plane, System pool 1..3 D2s_v3, spot NC6s_v3 pool 0..2", Provider.AZURE, "eastus",
                ResourceType.KUBERNETES_CLUSTER, Map.of("nodePools", List.of(Map.of("name", "gpu", "machineType", "Standard_NC6s_v3", "min", 0L, "max", 2L,
                    "spot", true))), 70.08, 1103.76, false),
            new Case("Azure archive tier bucket of 2048 GB: 2048 * 0.00099", Provider.AZURE, "eastus", ResourceType.BUCKET,
                Map.of("expectedSizeGb", 2048L, "storageClass", "archive"), 2.02752, 2.02752, false),
            new Case("a network is free", Provider.AZURE, "eastus", ResourceType.NETWORK, Map.of("cidr", "10.0.0.0/16"), 0, 0, false),
            new Case("an identity is free", Provider.GCP, "us-central1", ResourceType.IDENTITY, Map.of(), 0, 0, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void monthlyCost(Case c) {
        Cost cost = MODEL.cost(c.provider(), c.region(), c.type(), c.attributes());
        assertThat(cost.low()).as("low").isCloseTo(c.low(), within(0.0001));
        assertThat(cost.high()).as("high").isCloseTo(c.high(), within(0.0001));
        assertThat(cost.usageBased()).as("usage-based").isEqualTo(c.usageBased());
        assertThat(cost.complete()).as("every part priced: " + cost.unpriced()).isTrue();
        assertThat(cost.currency()).isEqualTo("USD");
        // The line items add up to the total.
        assertThat(cost.items().stream().mapToDouble(Cost.LineItem::low).sum()).isCloseTo(c.low(), within(0.0001));
        assertThat(cost.items().stream().mapToDouble(Cost.LineItem::high).sum()).isCloseTo(c.high(), within(0.0001));
    }

    @Test
    void lineItemsCarryTheirPriceRowAndAssumptionsAreStated() {
        Cost cost = MODEL.cost(Provider.AWS, "us-east-1", ResourceType.KUBERNETES_CLUSTER,
            Map.of("nodePools", List.of(Map.of("name", "gpu", "machineType", "g5.xlarge", "min", 0L, "max", 4L, "spot", true))));
        assertThat(cost.items()).extracting(Cost.LineItem::description)
            .containsExactly("control plane: eks-standard × 1", "node pool gpu: g5.xlarge spot × 0..4");
        Cost.LineItem pool = cost.items().get(1);
        assertThat(pool.unitPrice()).isEqualTo(0.3623);
        assertThat(pool.source()).as("a spot price says where it comes from: the shipped ones are estimates").isEqualTo("estimate, entered by hand (not fetched)");
        assertThat(pool.date()).isEqualTo(LocalDate.parse("2026-11-27"));
        assertThat(pool.region()).isEqualTo("*");
        assertThat(cost.assumptions()).contains(CostModel.HOURS, CostModel.AUTOSCALED, CostModel.SPOT);
        assertThat(cost.format()).isEqualTo("$73.00..$1,130.92/month");
    }

    @Test
    void unknownMachineTypeIsMarkedNotCountedAsZero() {
        Cost cost = MODEL.cost(Provider.AWS, "us-east-1", ResourceType.INSTANCE, Map.of("machineType", "p9.mega", "diskGb", 100L));
        assertThat(cost.complete()).isFalse();
        assertThat(cost.unpriced()).singleElement().satisfies(u -> {
            assertThat(u.kind()).isEqualTo(PriceKind.MACHINE);
            assertThat(u.message()).isEqualTo("no price for machine type p9.mega in aws us-east-1");
        });
        assertThat(cost.low()).isCloseTo(8.0, within(1e-9)); // the disk alone
        assertThat(cost.format()).isEqualTo("$8.00/month + unknown (no price for machine type p9.mega in aws us-east-1)");
    }

    @Test
    void missingSpotPriceIsMarkedRatherThanPricedOnDemand() {
        LocalDate d = LocalDate.parse("2026-01-01");
        PriceCatalog prices = PriceCatalog.of(Map.of(Provider.AWS, List.of(
            PriceRow.hourly(PriceKind.MACHINE, "x1.large", "*", 1.0, null, "test", d), PriceRow.storage("gp3", "*", 0.1, "test", d))));
        Cost cost = new CostModel(prices).cost(Provider.AWS, "us-east-1", ResourceType.INSTANCE, Map.of("machineType", "x1.large", "spot", true, "diskGb", 10L));
        assertThat(cost.unpriced()).extracting(Cost.Unpriced::message).containsExactly("no spot price for machine type x1.large in aws us-east-1");
        assertThat(cost.high()).isCloseTo(1.0, within(1e-9));
    }

    @Test
    void unknownStorageClassAndMissingMachineTypeAreMarked() {
        Cost bucket = MODEL.cost(Provider.GCP, "us-central1", ResourceType.BUCKET, Map.of("expectedSizeGb", 10L, "storageClass", "glacial"));
        assertThat(bucket.unpriced()).extracting(Cost.Unpriced::message).containsExactly("unknown storage class 'glacial' for gcp");
        Cost endpoint = MODEL.cost(Provider.GCP, "us-central1", ResourceType.INFERENCE_ENDPOINT, Map.of("minReplicas", 1L));
        assertThat(endpoint.unpriced()).extracting(Cost.Unpriced::message).containsExactly("endpoint instances has no endpoint type");
    }

    @Test
    void unsizedBucketFormatsAsUsageBased() {
        assertThat(MODEL.cost(Provider.GCP, "us-central1", ResourceType.BUCKET, Map.of()).format()).isEqualTo("usage-based");
        assertThat(Cost.free().format()).isEqualTo("$0.00/month");
    }

    @Test
    void deltaIsAfterMinusBeforeAtBothEnds() {
        Cost before = MODEL.cost(Provider.AWS, "us-east-1", ResourceType.INFERENCE_ENDPOINT, Map.of("machineType", "ml.m5.large", "minReplicas", 1L, "maxReplicas", 1L));
        Cost after = MODEL.cost(Provider.AWS, "us-east-1", ResourceType.INFERENCE_ENDPOINT, Map.of("machineType", "ml.m5.large", "minReplicas", 1L, "maxReplicas", 10L));
        Cost.Delta d = after.minus(before);
        assertThat(d.low()).isCloseTo(0, within(1e-9));
        assertThat(d.high()).isCloseTo(755.55, within(1e-9));
    }

    @Test
    void seedV100ComparisonComesOutOfThePrices() {
        // The course table: p3.2xlarge and NC6s_v3 ~$2,200 a month, GCP's V100 ~$1,800 (the GPU; its n1-standard-8 host is extra).
        double aws = MODEL.cost(Provider.AWS, "us-east-1", ResourceType.INSTANCE, Map.of("machineType", "p3.2xlarge", "diskGb", 10L)).items().get(0).high();
        double azure = MODEL.cost(Provider.AZURE, "eastus", ResourceType.INSTANCE, Map.of("machineType", "Standard_NC6s_v3", "diskGb", 10L)).items().get(0).high();
        Cost gcp = MODEL.cost(Provider.GCP, "us-central1", ResourceType.INSTANCE,
            Map.of("machineType", "n1-standard-8", "accelerator", Map.of("type", "nvidia-tesla-v100"), "diskGb", 10L));
        assertThat(aws).isCloseTo(2233.80, within(1e-6));
        assertThat(azure).isCloseTo(2233.80, within(1e-6));
        assertThat(gcp.items().get(1).high()).isCloseTo(1810.40, within(1e-6));
    }

    static Stream<Object[]> examples() {
        return Stream.of(
            // instance 0.90*730 + 200*0.08; EKS 73 + g5.xlarge spot 0.3623*730 * 1..4; endpoint 0.115*730 * 1..10; bucket unsized.
            new Object[] {"training-dev", 673 + 73 + 264.479 + 83.95, 673 + 73 + 1057.916 + 839.50},
            // GKE 73 + v100 pool spot (0.08 + 0.74)*730 * 0..4 + t4 pool (0.19 + 0.35)*730 * 1..8; endpoint 0.219*730 * 1..10.
            new Object[] {"vision-gcp", 73 + 394.2 + 159.87, 73 + 2394.4 + 3153.6 + 1598.70},
            // AKS 0 + System pool 0.096*730 * 1..3 + NC6s_v3 3.06*730 * 1..10; endpoint DS3_v2 0.293*730 * 1..5.
            new Object[] {"nlp-azure", 70.08 + 2233.80 + 213.89, 210.24 + 22338.00 + 1069.45});
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void exampleEnvironmentsCostWhatTheirResourcesAddUpTo(String name, double low, double high) {
        ConfigRepo repo = new ConfigLoader(new YamlLoader(), new SchemaValidator(), Catalog.loadDefault(), Fixtures.repoRoot())
            .load(List.of(Fixtures.examples()));
        Environment env = repo.environment(name);
        Cost total = MODEL.total(env);
        assertThat(total.complete()).as(total.unpriced().toString()).isTrue();
        assertThat(total.low()).isCloseTo(low, within(0.0001));
        assertThat(total.high()).isCloseTo(high, within(0.0001));
        assertThat(total.usageBased()).as("every example has an unsized bucket").isTrue();
    }
}
