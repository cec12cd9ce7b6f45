package io.mlctl.cost.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.mlctl.catalog.Catalog;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceFile;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PricesUpdateTest {
    static final Catalog CATALOG = Catalog.loadDefault();
    static final PriceCatalog SHIPPED = PriceCatalog.shipped();
    static final LocalDate TODAY = LocalDate.parse("2026-12-01");
    static final LocalDate SHIPPED_ON = LocalDate.parse("2026-11-27");

    @TempDir
    Path dir;

    private static PriceRow find(PriceCatalog c, Provider p, PriceKind k, String name, String region) {
        return c.find(p, k, name, region).orElseThrow();
    }

    @Test
    void refreshWritesEachProviderInTheShippedFormatWithTodaysDate() throws IOException {
        URI[] azureBase = new URI[1];
        try (PriceServer aws = new PriceServer(PriceServer::aws);
             PriceServer azure = new PriceServer(r -> PriceServer.azure(azureBase[0]).apply(r));
             PriceServer gcp = new PriceServer(PriceServer::gcp)) {
            azureBase[0] = azure.base();
            Map<Provider, PriceSource> sources = Map.of(Provider.AWS, new AwsPriceList(aws.base()),
                Provider.AZURE, new AzureRetailPrices(URI.create(azure.base() + "/api/retail/prices")),
                Provider.GCP, new GcpBillingCatalog(URI.create(gcp.base() + "/v1"), () -> Map.of("X-Goog-Api-Key", "test-key-123456")));
            List<PricesUpdater.Result> results = new PricesUpdater(CATALOG, SHIPPED, sources).update(List.of(Provider.values()), dir, TODAY);

            assertThat(results).extracting(PricesUpdater.Result::source).containsExactly("AWS Price List", "GCP Cloud Billing Catalog", "Azure Retail Prices API");
            assertThat(results).allSatisfy(r -> assertThat(r.updated()).isPositive());
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.map(f -> f.getFileName().toString()).sorted()).as("no temporary file left").containsExactly("aws.json", "azure.json", "gcp.json");
            }
            for (Provider p : Provider.values()) {
                String text = Files.readString(dir.resolve(p.id() + ".json"));
                assertThat(PriceFile.write(p, PriceFile.read(p, text, "x"))).as("canonical layout").isEqualTo(text);
            }
            PriceCatalog refreshed = PriceCatalog.load(dir);

            PriceRow p3 = find(refreshed, Provider.AWS, PriceKind.MACHINE, "p3.2xlarge", "us-east-1");
            assertThat(p3.region()).as("the default region's price is the row for every region").isEqualTo("*");
            assertThat(p3.date()).isEqualTo(TODAY);
            assertThat(p3.source()).isEqualTo("AWS Price List");
            assertThat(p3.spotPerHour()).as("no spot in the Price List: kept").isEqualTo(0.90);
            assertThat(p3.spotSource()).as("the kept spot price keeps its own source").isEqualTo("estimate, entered by hand (not fetched)");
            assertThat(p3.spotDate()).isEqualTo(SHIPPED_ON);
            assertThat(find(refreshed, Provider.AWS, PriceKind.MACHINE, "m5.large", "*").onDemandPerHour()).isEqualTo(0.097);
            PriceRow frankfurt = find(refreshed, Provider.AWS, PriceKind.MACHINE, "p3.2xlarge", "eu-central-1");
            assertThat(frankfurt.region()).isEqualTo("eu-central-1");
            assertThat(frankfurt.onDemandPerHour()).isEqualTo(3.823);
            assertThat(frankfurt.spotPerHour()).as("its own old spot price").isEqualTo(1.1469);
            PriceRow m5 = find(refreshed, Provider.AWS, PriceKind.MACHINE, "m5.large", "eu-central-1");
            assertThat(m5.onDemandPerHour()).isEqualTo(0.097);
            assertThat(m5.spotPerHour()).as("same on-demand price as the default, but its own spot price: still a row").isEqualTo(0.0414);
            assertThat(find(refreshed, Provider.AWS, PriceKind.STORAGE, "STANDARD", "eu-central-1").region())
                .as("a regional price equal to the default is not repeated, and the jar's old one does not come back").isEqualTo("*");
            assertThat(find(refreshed, Provider.AWS, PriceKind.ENDPOINT, "ml.m5.large", "eu-west-1").region()).isEqualTo("*");
            assertThat(results.get(0).kept()).as("what the samples lack keeps its old price and date")
                .contains(new PriceRow.Key(PriceKind.MACHINE, "t3.medium", "*"), new PriceRow.Key(PriceKind.STORAGE, "GLACIER_IR", "*"))
                .doesNotContain(new PriceRow.Key(PriceKind.MACHINE, "p3.2xlarge", "*"));
            PriceRow t3 = find(refreshed, Provider.AWS, PriceKind.MACHINE, "t3.medium", "*");
            assertThat(t3.date()).isEqualTo(SHIPPED_ON);

            PriceRow nc6 = find(refreshed, Provider.AZURE, PriceKind.MACHINE, "Standard_NC6s_v3", "eastus");
            assertThat(nc6.onDemandPerHour()).isEqualTo(3.06);
            assertThat(nc6.spotPerHour()).isEqualTo(0.612);
            assertThat(nc6.spotSource()).as("Azure sells spot in the same list").isNull();
            assertThat(find(refreshed, Provider.AZURE, PriceKind.MACHINE, "Standard_NC6s_v3", "westeurope").onDemandPerHour()).isEqualTo(3.366);
            assertThat(find(refreshed, Provider.AZURE, PriceKind.STORAGE, "Hot", "*").date()).isEqualTo(TODAY);

            PriceRow n1 = find(refreshed, Provider.GCP, PriceKind.MACHINE, "n1-standard-8", "us-east1");
            assertThat(n1.region()).isEqualTo("*");
            assertThat(n1.onDemandPerHour()).isCloseTo(0.379998, within(1e-9));
            PriceRow n1eu = find(refreshed, Provider.GCP, PriceKind.MACHINE, "n1-standard-8", "europe-west4");
            assertThat(n1eu.onDemandPerHour()).isCloseTo(0.418014, within(1e-9));
            assertThat(n1eu.spotPerHour()).as("no Spot SKU there today: its old spot price, dated").isEqualTo(0.088);
            assertThat(n1eu.spotDate()).isEqualTo(SHIPPED_ON);

            // Plans price from the refreshed files: m5.large at 0.097 now, with its 100 GB gp3 disk.
            assertThat(new CostModel(refreshed).cost(Provider.AWS, "us-east-1", ResourceType.INSTANCE, Map.of("machineType", "m5.large")).high())
                .isCloseTo(0.097 * 730 + 8, within(1e-9));
        }
    }

    @Test
    void aFailingSourceLeavesTheDirectoryAsItWas() throws IOException {
        String before = PriceFile.write(Provider.AWS, List.of(PriceRow.hourly(PriceKind.MACHINE, "m5.large", "*", 0.5, null, "AWS Price List", SHIPPED_ON)));
        Files.writeString(dir.resolve("aws.json"), before);
        try (PriceServer aws = new PriceServer(PriceServer::aws);
             PriceServer azure = new PriceServer(r -> new PriceServer.Answer(503, "Service Unavailable"))) {
            Map<Provider, PriceSource> sources = Map.of(Provider.AWS, new AwsPriceList(aws.base()), Provider.AZURE, new AzureRetailPrices(azure.base()));
            assertThatThrownBy(() -> new PricesUpdater(CATALOG, SHIPPED, sources).update(List.of(Provider.AWS, Provider.AZURE), dir, TODAY))
                .isInstanceOf(PriceSourceException.class).hasMessageContaining("answered HTTP 503");
            assertThat(aws.requests).as("AWS was read, yet nothing of it was written").isNotEmpty();
        }
        assertThat(Files.readString(dir.resolve("aws.json"))).isEqualTo(before);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("aws.json");
        }
    }

    @Test
    void missingGcpCredentialsFailBeforeAnythingIsDownloaded() {
        try (PriceServer aws = new PriceServer(PriceServer::aws); PriceServer gcp = new PriceServer(PriceServer::gcp)) {
            Map<Provider, PriceSource> sources = Map.of(Provider.AWS, new AwsPriceList(aws.base()), Provider.GCP, new GcpBillingCatalog(URI.create(gcp.base() + "/v1"), () -> {
                throw new PriceSourceException("GCP Cloud Billing Catalog", "needs an API key in MLCTL_GCP_API_KEY or Application Default Credentials");
            }));
            assertThatThrownBy(() -> new PricesUpdater(CATALOG, SHIPPED, sources).update(List.of(Provider.AWS, Provider.GCP), dir, TODAY))
                .hasMessageContaining("MLCTL_GCP_API_KEY");
            assertThat(aws.requests).as("AWS's large files are not fetched for nothing").isEmpty();
            assertThat(gcp.requests).isEmpty();
        }
    }

    @Test
    void aSourceThatFindsNothingIsAnErrorNotAnEmptyFile() {
        PriceSource empty = new PriceSource() {
            @Override
            public Provider provider() {
                return Provider.GCP;
            }

            @Override
            public String name() {
                return "GCP Cloud Billing Catalog";
            }

            @Override
            public List<PriceRow> fetch(Wanted wanted, LocalDate today) {
                return List.of();
            }
        };
        assertThatThrownBy(() -> new PricesUpdater(CATALOG, SHIPPED, Map.of(Provider.GCP, empty)).update(List.of(Provider.GCP), dir, TODAY))
            .hasMessage("GCP Cloud Billing Catalog: no prices found in the answer (has its format changed?); nothing was written");
        assertThat(dir.resolve("gcp.json")).doesNotExist();
    }

    @Test
    void mergeWritesRegionalRowsOnlyWhereThePriceDiffers() {
        Wanted w = Wanted.of(Provider.GCP, CATALOG, SHIPPED);
        LocalDate old = SHIPPED_ON;
        List<PriceRow> current = List.of(
            PriceRow.hourly(PriceKind.MACHINE, "n1-standard-4", "*", 0.19, 0.04, "GCP Cloud Billing Catalog", old),
            PriceRow.hourly(PriceKind.MACHINE, "n1-standard-4", "europe-west1", 0.21, 0.044, "GCP Cloud Billing Catalog", old),
            PriceRow.storage("ARCHIVE", "*", 0.0012, "GCP Cloud Billing Catalog", old));
        List<PriceRow> fetched = List.of(
            PriceRow.hourly(PriceKind.MACHINE, "n1-standard-4", "europe-west4", 0.25, null, "GCP Cloud Billing Catalog", TODAY),
            PriceRow.hourly(PriceKind.MACHINE, "n1-standard-4", "us-central1", 0.2, 0.05, "GCP Cloud Billing Catalog", TODAY),
            PriceRow.hourly(PriceKind.MACHINE, "n1-standard-4", "europe-west1", 0.2, 0.05, "GCP Cloud Billing Catalog", TODAY),
            PriceRow.hourly(PriceKind.MACHINE, "n1-standard-4", "asia-southeast1", 0.23, 0.06, "GCP Cloud Billing Catalog", TODAY));
        List<PriceRow.Key> kept = new ArrayList<>();
        List<PriceRow> merged = PricesUpdater.merge(w, fetched, current, kept);
        assertThat(merged).extracting(r -> r.key().toString()).containsExactly(
            "machine n1-standard-4", "machine n1-standard-4 in asia-southeast1", "storage ARCHIVE");
        // europe-west1 now equals the default: dropped; europe-west4 has no spot price while the default has one: left to the default.
        assertThat(merged.get(0).onDemandPerHour()).isEqualTo(0.2);
        assertThat(kept).containsExactly(new PriceRow.Key(PriceKind.STORAGE, "ARCHIVE", "*"));
    }
}
