package io.mlctl.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.mlctl.cost.CostModel;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The catalogs' cross-cloud table of GPU machine types, which machineType: auto chooses from. */
class GpuCatalogTest {
    static final Catalog CATALOG = Catalog.loadDefault();
    static final PriceCatalog PRICES = PriceCatalog.shipped();

    static Catalog.GpuMachine machine(Provider p, String type) {
        return CATALOG.of(p).gpuMachines("nvidia-v100", 1, false).stream().filter(m -> m.machineType().equals(type)).findFirst().orElseThrow();
    }

    static double hourly(Provider p, PriceKind kind, String name, String region, boolean spot) {
        PriceRow r = PRICES.find(p, kind, name, region).orElseThrow();
        return spot ? r.spotPerHour() : r.onDemandPerHour();
    }

    /**
     * The seed's GPU instance comparison (shared/seed, "ML Compute Cost Comparison"): AWS p3.2xlarge $3.06/hr ~$2,200/month,
     * GCP n1-standard-8 + V100 $2.48/hr ~$1,800/month, Azure NC6s_v3 $3.06/hr ~$2,200/month; spot $0.90, $0.74, $0.61 an hour.
     * The seed's GCP figures are the V100's alone; the n1-standard-8 it is attached to adds $0.38 an hour ($0.08 preemptible).
     */
    @Test
    void theSeedsV100ComparisonComesOutOfTheCatalog() {
        Catalog.GpuMachine aws = machine(Provider.AWS, "p3.2xlarge");
        Catalog.GpuMachine gcp = machine(Provider.GCP, "n1-standard-8");
        Catalog.GpuMachine azure = machine(Provider.AZURE, "Standard_NC6s_v3");
        assertThat(List.of(aws, gcp, azure)).allSatisfy(m -> {
            assertThat(m.acceleratorType()).isEqualTo("nvidia-v100");
            assertThat(m.count()).isEqualTo(1);
        });
        assertThat(aws.attached()).isEmpty();
        assertThat(gcp.attached()).contains("nvidia-tesla-v100");
        assertThat(azure.attached()).isEmpty();
        assertThat(List.of(aws.describe(), gcp.describe(), azure.describe())).containsExactly(
            "p3.2xlarge (1× nvidia-v100, 8 vCPU, 61 GB)", "n1-standard-8 + 1× nvidia-tesla-v100 (8 vCPU, 30 GB)",
            "Standard_NC6s_v3 (1× nvidia-v100, 6 vCPU, 112 GB)");

        double awsHour = hourly(Provider.AWS, PriceKind.MACHINE, "p3.2xlarge", "us-east-1", false);
        double gcpV100Hour = hourly(Provider.GCP, PriceKind.ACCELERATOR, "nvidia-tesla-v100", "us-central1", false);
        double gcpMachineHour = hourly(Provider.GCP, PriceKind.MACHINE, "n1-standard-8", "us-central1", false);
        double azureHour = hourly(Provider.AZURE, PriceKind.MACHINE, "Standard_NC6s_v3", "eastus", false);
        assertThat(new double[] {awsHour, gcpV100Hour, azureHour}).containsExactly(3.06, 2.48, 3.06);
        assertThat(gcpMachineHour).isEqualTo(0.38);
        // "~$2,200/month" and "~$1,800/month" at 730 hours.
        assertThat(awsHour * CostModel.HOURS_PER_MONTH).isCloseTo(2200, within(50.0));
        assertThat(gcpV100Hour * CostModel.HOURS_PER_MONTH).isCloseTo(1800, within(50.0));
        assertThat(azureHour * CostModel.HOURS_PER_MONTH).isCloseTo(2200, within(50.0));
        // The seed's order holds with the machine counted: GCP is the cheapest on demand.
        assertThat((gcpV100Hour + gcpMachineHour) * CostModel.HOURS_PER_MONTH).isLessThan(awsHour * CostModel.HOURS_PER_MONTH);

        double awsSpot = hourly(Provider.AWS, PriceKind.MACHINE, "p3.2xlarge", "us-east-1", true);
        double gcpSpot = hourly(Provider.GCP, PriceKind.ACCELERATOR, "nvidia-tesla-v100", "us-central1", true);
        double azureSpot = hourly(Provider.AZURE, PriceKind.MACHINE, "Standard_NC6s_v3", "eastus", true);
        assertThat(awsSpot).isEqualTo(0.90);
        assertThat(gcpSpot).isEqualTo(0.74);
        assertThat(azureSpot).isCloseTo(0.61, within(0.005));
        // Spot: Azure cheapest, then GCP (with its preemptible machine), then AWS, as in the seed.
        double gcpSpotWithMachine = gcpSpot + hourly(Provider.GCP, PriceKind.MACHINE, "n1-standard-8", "us-central1", true);
        assertThat(azureSpot).isLessThan(gcpSpotWithMachine);
        assertThat(gcpSpotWithMachine).isLessThan(awsSpot);
    }

    @Test
    void gcpAttachesAcceleratorsInTheCountsItsMachinesAllow() {
        Catalog.ProviderCatalog gcp = CATALOG.of(Provider.GCP);
        // One V100 allows at most 12 vCPUs: an n1-standard-16 needs two.
        assertThat(gcp.gpuMachines("nvidia-v100", 1, false)).extracting(Catalog.GpuMachine::machineType, Catalog.GpuMachine::count)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("n1-standard-4", 1), org.assertj.core.groups.Tuple.tuple("n1-standard-8", 1),
                org.assertj.core.groups.Tuple.tuple("n1-standard-16", 2), org.assertj.core.groups.Tuple.tuple("n1-highmem-8", 1));
        // Three are attached as four (V100s come in 1, 2, 4 or 8); T4s come in at most four.
        assertThat(gcp.gpuMachines("nvidia-v100", 3, false)).allMatch(m -> m.count() == 4);
        assertThat(gcp.gpuMachines("nvidia-t4", 8, false)).isEmpty();
        assertThat(gcp.maxGpus("nvidia-t4", false)).isEqualTo(4);
        assertThat(gcp.maxGpus("nvidia-v100", false)).isEqualTo(8);
        // Built into the machine type: a2 carries A100s, and nothing is attached to it.
        assertThat(gcp.gpuMachines("nvidia-a100", 2, false)).extracting(Catalog.GpuMachine::machineType, Catalog.GpuMachine::attached)
            .containsExactly(org.assertj.core.groups.Tuple.tuple("a2-highgpu-8g", Optional.empty()));
        assertThat(gcp.gpuModel("nvidia-tesla-v100", false)).contains("V100");
        assertThat(gcp.gpuModel("nvidia-v100", false)).contains("V100");
        assertThat(gcp.gpuModel("nvidia-h100", false)).isEmpty();
    }

    @Test
    void awsAndAzureCarryTheirGpusInTheMachineType() {
        assertThat(CATALOG.of(Provider.AWS).gpuMachines("nvidia-v100", 2, false)).extracting(Catalog.GpuMachine::machineType)
            .containsExactly("p3.8xlarge", "p3.16xlarge");
        assertThat(CATALOG.of(Provider.AZURE).gpuMachines("nvidia-v100", 2, false)).extracting(Catalog.GpuMachine::machineType)
            .containsExactly("Standard_NC12s_v3", "Standard_NC24s_v3");
        assertThat(CATALOG.of(Provider.AWS).gpuMachines("nvidia-v100", 1, true)).extracting(Catalog.GpuMachine::machineType)
            .containsExactly("ml.p3.2xlarge");
        assertThat(CATALOG.of(Provider.AWS).acceleratorTypes(false)).containsExactly("nvidia-a100", "nvidia-a10g", "nvidia-t4", "nvidia-v100");
        assertThat(CATALOG.of(Provider.AWS).gpuModel("nvidia-tesla-v100", false)).as("GCP's name is GCP's").isEmpty();
    }

    /** Every GPU machine type machineType: auto can choose has a price, on demand and spot, wherever the catalog has a region. */
    @ParameterizedTest
    @EnumSource(Provider.class)
    void everyGpuMachineIsPricedOnDemandAndSpot(Provider p) {
        Catalog.ProviderCatalog cat = CATALOG.of(p);
        for (String type : cat.acceleratorTypes(false)) {
            for (Catalog.GpuMachine m : cat.gpuMachines(type, 1, false)) {
                PriceRow row = PRICES.find(p, PriceKind.MACHINE, m.machineType(), "*").orElseThrow(() -> new AssertionError("no price for " + m));
                assertThat(row.spotPerHour()).as("spot price of " + m.machineType()).isNotNull();
                m.attached().ifPresent(a -> assertThat(PRICES.find(p, PriceKind.ACCELERATOR, a, "*")).as(a).isPresent());
            }
        }
    }
}
