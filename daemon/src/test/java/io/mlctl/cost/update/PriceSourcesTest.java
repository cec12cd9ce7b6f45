package io.mlctl.cost.update;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.mlctl.catalog.Catalog;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.io.ByteArrayInputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each source's parsing, on saved samples of its documented answers, and its fetch and paging against a server on 127.0.0.1. */
class PriceSourcesTest {
    static final Catalog CATALOG = Catalog.loadDefault();
    static final PriceCatalog SHIPPED = PriceCatalog.shipped();
    static final LocalDate TODAY = LocalDate.parse("2026-12-01");

    static PriceRow row(List<PriceRow> rows, PriceKind kind, String name, String region) {
        return rows.stream().filter(r -> r.key().equals(new PriceRow.Key(kind, name, region))).findFirst()
            .orElseThrow(() -> new AssertionError("no row " + kind.id() + " " + name + " " + region + " in " + rows));
    }

    static boolean has(List<PriceRow> rows, PriceKind kind, String name, String region) {
        return rows.stream().anyMatch(r -> r.key().equals(new PriceRow.Key(kind, name, region)));
    }

    static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    // --- AWS Price List

    @Test
    void awsOfferFileKeepsWantedProductsAndTheFirstTierOfTheirOnDemandPrice() {
        List<AwsOfferParser.Priced> s3 = AwsOfferParser.parse(new ByteArrayInputStream(PriceServer.sample("aws-s3.json").getBytes(StandardCharsets.UTF_8)),
            p -> p.family().equals("Storage"), "AWS Price List", "AmazonS3/us-east-1");
        assertThat(s3).extracting(p -> p.product().attr("volumeType")).containsExactly("Standard", "Standard - Infrequent Access", "Amazon Glacier",
            "Glacier Deep Archive", "Intelligent-Tiering Frequent Access");
        assertThat(s3.get(0).usd()).as("first 50 TB tier").isEqualTo(0.023);
        assertThat(s3.get(0).unit()).isEqualTo("GB-Mo");
        List<AwsOfferParser.Priced> ec2 = AwsOfferParser.parse(new ByteArrayInputStream(PriceServer.sample("aws-ec2.json").getBytes(StandardCharsets.UTF_8)),
            p -> p.attr("instanceType").equals("p3.2xlarge") && p.attr("operatingSystem").equals("Linux"), "AWS Price List", "AmazonEC2/us-east-1");
        assertThat(ec2).extracting(AwsOfferParser.Priced::usd).as("on-demand terms only: not the reserved 1.95").containsExactly(3.06, 0.0);
    }

    @Test
    void awsPriceListFetchesEachOfferOfTheDefaultAndPricedRegions() {
        try (PriceServer server = new PriceServer(PriceServer::aws)) {
            List<PriceRow> rows = new AwsPriceList(server.base()).fetch(Wanted.of(Provider.AWS, CATALOG, SHIPPED), TODAY);
            assertThat(row(rows, PriceKind.MACHINE, "p3.2xlarge", "us-east-1").onDemandPerHour()).isEqualTo(3.06);
            assertThat(row(rows, PriceKind.MACHINE, "p3.2xlarge", "us-east-1").spotPerHour()).as("the Price List has no spot prices").isNull();
            assertThat(row(rows, PriceKind.MACHINE, "p3.2xlarge", "eu-central-1").onDemandPerHour()).isEqualTo(3.823);
            assertThat(row(rows, PriceKind.MACHINE, "m5.large", "us-east-1").onDemandPerHour()).isEqualTo(0.097);
            assertThat(row(rows, PriceKind.STORAGE, "gp3", "us-east-1").perGbMonth()).isEqualTo(0.08);
            assertThat(has(rows, PriceKind.STORAGE, "io2", "us-east-1")).as("not a disk mlctl makes").isFalse();
            assertThat(row(rows, PriceKind.ENDPOINT, "ml.m5.large", "us-east-1").onDemandPerHour()).isEqualTo(0.115);
            assertThat(row(rows, PriceKind.ENDPOINT, "ml.p3.2xlarge", "us-east-1").onDemandPerHour()).isEqualTo(3.825);
            assertThat(row(rows, PriceKind.STORAGE, "STANDARD", "us-east-1").perGbMonth()).isEqualTo(0.023);
            assertThat(row(rows, PriceKind.STORAGE, "STANDARD_IA", "us-east-1").perGbMonth()).isEqualTo(0.0125);
            assertThat(row(rows, PriceKind.STORAGE, "GLACIER", "us-east-1").perGbMonth()).isEqualTo(0.0036);
            assertThat(row(rows, PriceKind.STORAGE, "DEEP_ARCHIVE", "us-east-1").perGbMonth()).isEqualTo(0.00099);
            assertThat(row(rows, PriceKind.CLUSTER, "eks-standard", "us-east-1").onDemandPerHour()).isEqualTo(0.1);
            assertThat(row(rows, PriceKind.CLUSTER, "eks-extended", "us-east-1").onDemandPerHour()).isEqualTo(0.6);
            assertThat(rows).allSatisfy(r -> {
                assertThat(r.source()).isEqualTo("AWS Price List");
                assertThat(r.date()).isEqualTo(TODAY);
            });
            // The default region and the four that have rows of their own, four offers each; no other region's 300 MB file.
            assertThat(server.requests).extracting(PriceServer.Request::path).hasSize(20)
                .contains("/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json", "/offers/v1.0/aws/AmazonEKS/current/ap-southeast-1/index.json")
                .noneMatch(p -> p.contains("us-west-2"));
        }
    }

    @Test
    void awsOfflineIsOneLineNamingTheUrl() throws Exception {
        int port = closedPort();
        assertThatThrownBy(() -> new AwsPriceList(URI.create("http://127.0.0.1:" + port)).fetch(Wanted.of(Provider.AWS, CATALOG, SHIPPED), TODAY))
            .isInstanceOf(PriceSourceException.class)
            .hasMessageStartingWith("AWS Price List: cannot reach http://127.0.0.1:" + port + "/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json (offline?)")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void awsErrorStatusAndMalformedOfferFileAreRefused() {
        try (PriceServer server = new PriceServer(r -> new PriceServer.Answer(403, "<?xml version=\"1.0\"?>\n<Error><Code>AccessDenied</Code></Error>"))) {
            assertThatThrownBy(() -> new AwsPriceList(server.base()).fetch(Wanted.of(Provider.AWS, CATALOG, SHIPPED), TODAY))
                .hasMessage("AWS Price List: " + server.base() + "/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json answered HTTP 403: "
                    + "<?xml version=\"1.0\"?> <Error><Code>AccessDenied</Code></Error>");
        }
        try (PriceServer server = new PriceServer(r -> PriceServer.Answer.ok("{\"formatVersion\": \"v1.0\", \"products\": [1, 2]}"))) {
            assertThatThrownBy(() -> new AwsPriceList(server.base()).fetch(Wanted.of(Provider.AWS, CATALOG, SHIPPED), TODAY))
                .hasMessage("AWS Price List: unreadable offer file AmazonEC2/us-east-1: \"products\" is not an object");
        }
        try (PriceServer server = new PriceServer(r -> PriceServer.Answer.ok("<html><body>Service Unavailable</body></html>"))) {
            assertThatThrownBy(() -> new AwsPriceList(server.base()).fetch(Wanted.of(Provider.AWS, CATALOG, SHIPPED), TODAY))
                .hasMessageStartingWith("AWS Price List: unreadable offer file AmazonEC2/us-east-1: ");
        }
        String noUsd = PriceServer.sample("aws-eks.json").replace("\"USD\": \"0.1000000000\"", "\"EUR\": \"0.09\"");
        assertThatThrownBy(() -> AwsOfferParser.parse(new ByteArrayInputStream(noUsd.getBytes(StandardCharsets.UTF_8)), p -> true, "AWS Price List", "AmazonEKS/us-east-1"))
            .hasMessage("AWS Price List: unreadable offer file AmazonEKS/us-east-1: SKU TRJZT878VHJ5C7RW has no USD price");
    }

    // --- Azure Retail Prices API

    @Test
    void azurePageHasItsMetersAndTheLinkToTheNext() {
        AzureRetailParser.Page page = AzureRetailParser.parse(PriceServer.sample("azure-vm-1.json"), "Azure Retail Prices API");
        assertThat(page.items()).hasSize(5);
        assertThat(page.items().get(0).armSkuName()).isEqualTo("Standard_NC6s_v3");
        assertThat(page.items().get(0).retailPrice()).isEqualTo(3.06);
        assertThat(page.items().get(1).spot()).isTrue();
        assertThat(page.items().get(2).lowPriority()).isTrue();
        assertThat(page.items().get(3).windows()).isTrue();
        assertThat(page.nextPageLink()).endsWith("&$skip=100");
        assertThat(AzureRetailParser.parse(PriceServer.sample("azure-vm-2.json"), "x").nextPageLink()).isNull();
    }

    @Test
    void azureFollowsNextPageLinkAndKeepsLinuxPayAsYouGoPrices() {
        URI[] base = new URI[1];
        try (PriceServer server = new PriceServer(r -> PriceServer.azure(base[0]).apply(r))) {
            base[0] = server.base();
            List<PriceRow> rows = new AzureRetailPrices(URI.create(server.base() + "/api/retail/prices")).fetch(Wanted.of(Provider.AZURE, CATALOG, SHIPPED), TODAY);
            PriceRow nc6 = row(rows, PriceKind.MACHINE, "Standard_NC6s_v3", "eastus");
            assertThat(nc6.onDemandPerHour()).as("not Windows 3.428 nor Dev/Test 2.4").isEqualTo(3.06);
            assertThat(nc6.spotPerHour()).as("the Spot meter, not Low Priority").isEqualTo(0.612);
            assertThat(row(rows, PriceKind.MACHINE, "Standard_NC6s_v3", "westeurope").onDemandPerHour()).isEqualTo(3.366);
            assertThat(row(rows, PriceKind.MACHINE, "Standard_D2s_v3", "eastus").spotPerHour()).as("from the second page").isEqualTo(0.0192);
            assertThat(row(rows, PriceKind.ENDPOINT, "Standard_NC6s_v3", "eastus").onDemandPerHour()).isEqualTo(3.06);
            assertThat(row(rows, PriceKind.ENDPOINT, "Standard_NC6s_v3", "eastus").spotPerHour()).isNull();
            assertThat(row(rows, PriceKind.ENDPOINT, "Standard_DS3_v2", "eastus").onDemandPerHour()).isEqualTo(0.293);
            assertThat(has(rows, PriceKind.MACHINE, "Standard_DS3_v2", "eastus")).as("an endpoint size only").isFalse();
            assertThat(row(rows, PriceKind.STORAGE, "Hot", "eastus").perGbMonth()).as("first tier of General Block Blob v2").isEqualTo(0.018);
            assertThat(row(rows, PriceKind.STORAGE, "Archive", "eastus").perGbMonth()).isEqualTo(0.00099);
            assertThat(row(rows, PriceKind.STORAGE, "StandardSSD_LRS", "eastus").perGbMonth()).as("E10: $9.60 for 128 GiB").isEqualTo(0.075);
            assertThat(row(rows, PriceKind.CLUSTER, "aks-standard", "eastus").onDemandPerHour()).isEqualTo(0.1);
            assertThat(row(rows, PriceKind.CLUSTER, "aks-premium", "eastus").onDemandPerHour()).isEqualTo(0.6);
            assertThat(row(rows, PriceKind.CLUSTER, "aks-free", "eastus").onDemandPerHour()).isZero();
            List<String> vmQueries = server.requests.stream().map(PriceServer.Request::query).filter(q -> q.contains("Virtual Machines")).toList();
            assertThat(vmQueries).hasSize(2);
            assertThat(vmQueries.get(0)).contains("priceType eq 'Consumption'", "armRegionName eq 'westeurope'", "armSkuName eq 'Standard_NC6s_v3'",
                "armSkuName eq 'Standard_DS3_v2'");
            assertThat(vmQueries.get(1)).endsWith("&$skip=100");
        }
    }

    @Test
    void azureRefusesNextPageLinkToAnotherHostAndUnreadableAnswers() {
        try (PriceServer server = new PriceServer(r -> PriceServer.Answer.ok(
            "{\"Items\": [], \"NextPageLink\": \"https://prices.example.net/api/retail/prices?$skip=100\", \"Count\": 0}"))) {
            assertThatThrownBy(() -> new AzureRetailPrices(server.base()).fetch(Wanted.of(Provider.AZURE, CATALOG, SHIPPED), TODAY))
                .hasMessage("Azure Retail Prices API: NextPageLink leads to another host (prices.example.net): not followed");
        }
        try (PriceServer server = new PriceServer(r -> PriceServer.Answer.ok("<html>maintenance</html>"))) {
            assertThatThrownBy(() -> new AzureRetailPrices(server.base()).fetch(Wanted.of(Provider.AZURE, CATALOG, SHIPPED), TODAY))
                .hasMessageStartingWith("Azure Retail Prices API: unreadable answer: ");
        }
        assertThatThrownBy(() -> AzureRetailParser.parse("{\"Items\": [{\"meterName\": \"NC6s v3\", \"retailPrice\": \"3.06\"}]}", "Azure Retail Prices API"))
            .hasMessage("Azure Retail Prices API: unreadable answer: meter 'NC6s v3' has no retailPrice");
        assertThatThrownBy(() -> AzureRetailParser.parse("{\"BillingCurrency\": \"USD\"}", "Azure Retail Prices API"))
            .hasMessage("Azure Retail Prices API: unreadable answer: no \"Items\" list");
    }

    // --- GCP Cloud Billing Catalog

    @Test
    void gcpPageHasSkusWithUnitsAndNanosAndTheNextToken() {
        GcpSkuParser.Page page = GcpSkuParser.parse(PriceServer.sample("gcp-compute-1.json"), "GCP Cloud Billing Catalog");
        assertThat(page.skus()).hasSize(8);
        assertThat(page.nextPageToken()).isEqualTo("CiAKGjBpNDd2Nmp3Z3V2cnB4bzZ0bGNpMmRrZhAF");
        GcpSkuParser.Sku v100 = page.skus().get(6);
        assertThat(v100.description()).isEqualTo("Nvidia Tesla V100 GPU running in Americas");
        assertThat(v100.usd()).as("units 2 + 480000000 nanos").isEqualTo(2.48);
        assertThat(v100.usageType()).isEqualTo("OnDemand");
        assertThat(v100.serviceRegions()).contains("us-central1");
        GcpSkuParser.Page storage = GcpSkuParser.parse(PriceServer.sample("gcp-storage.json"), "x");
        assertThat(storage.nextPageToken()).isNull();
        assertThat(storage.skus().get(5).usd()).as("past a free allowance tier").isEqualTo(0.023);
    }

    @Test
    void gcpComposesMachinePricesFromCoresMemoryAndGpusSendingTheKeyOnlyInAHeader() {
        try (PriceServer server = new PriceServer(PriceServer::gcp)) {
            GcpBillingCatalog source = new GcpBillingCatalog(URI.create(server.base() + "/v1"), GcpAuth.fromEnvironment(Map.of("MLCTL_GCP_API_KEY", "AIzaSyTestKey0123456789")));
            List<PriceRow> rows = source.fetch(Wanted.of(Provider.GCP, CATALOG, SHIPPED), TODAY);
            PriceRow n1 = row(rows, PriceKind.MACHINE, "n1-standard-8", "us-central1");
            assertThat(n1.onDemandPerHour()).as("8 * 0.031611 + 30 * 0.004237").isCloseTo(0.379998, within(1e-9));
            assertThat(n1.spotPerHour()).as("8 * 0.00698 + 30 * 0.000805").isCloseTo(0.07999, within(1e-9));
            assertThat(row(rows, PriceKind.MACHINE, "n1-standard-4", "us-east1").onDemandPerHour()).isCloseTo(0.189999, within(1e-9));
            PriceRow eu = row(rows, PriceKind.MACHINE, "n1-standard-8", "europe-west4");
            assertThat(eu.onDemandPerHour()).as("from the second page").isCloseTo(0.418014, within(1e-9));
            assertThat(eu.spotPerHour()).as("no Spot SKU for that region in the sample").isNull();
            assertThat(has(rows, PriceKind.MACHINE, "e2-standard-4", "us-central1")).as("no E2 SKU: no price, not a partial one").isFalse();
            assertThat(has(rows, PriceKind.MACHINE, "a2-highgpu-1g", "us-central1")).as("the 80GB A100 is another GPU").isFalse();
            assertThat(row(rows, PriceKind.ACCELERATOR, "nvidia-tesla-v100", "us-central1").onDemandPerHour()).isEqualTo(2.48);
            assertThat(row(rows, PriceKind.ACCELERATOR, "nvidia-tesla-v100", "us-central1").spotPerHour()).isEqualTo(0.74);
            assertThat(row(rows, PriceKind.ACCELERATOR, "nvidia-tesla-t4", "us-west1").spotPerHour()).isEqualTo(0.14);
            assertThat(row(rows, PriceKind.ENDPOINT, "n1-standard-4", "us-central1").onDemandPerHour()).as("4 * 0.0379 + 15 * 0.005").isCloseTo(0.2266, within(1e-9));
            assertThat(row(rows, PriceKind.ENDPOINT, "n1-standard-2", "us-central1").onDemandPerHour()).as("shape from the name: 2 vCPUs, 7.5 GB").isCloseTo(0.1133, within(1e-9));
            assertThat(row(rows, PriceKind.ENDPOINT, "nvidia-tesla-t4", "us-central1").onDemandPerHour()).isEqualTo(0.4025);
            assertThat(row(rows, PriceKind.STORAGE, "STANDARD", "us-central1").perGbMonth()).isEqualTo(0.02);
            assertThat(row(rows, PriceKind.STORAGE, "ARCHIVE", "us-central1").perGbMonth()).isEqualTo(0.0012);
            assertThat(row(rows, PriceKind.STORAGE, "STANDARD", "asia-southeast1").perGbMonth()).isEqualTo(0.023);
            assertThat(row(rows, PriceKind.STORAGE, "pd-balanced", "europe-west4").perGbMonth()).isEqualTo(0.11);
            assertThat(row(rows, PriceKind.CLUSTER, "gke-standard", "europe-west1").onDemandPerHour()).isEqualTo(0.1);
            assertThat(server.requests).hasSize(5).allSatisfy(r -> {
                assertThat(r.header("X-Goog-Api-Key")).isEqualTo("AIzaSyTestKey0123456789");
                assertThat(r.query()).doesNotContain("AIzaSyTestKey0123456789").contains("currencyCode=USD");
            });
            assertThat(server.requests.get(1).query()).contains("pageToken=CiAKGjBpNDd2Nmp3Z3V2cnB4bzZ0bGNpMmRrZhAF");
        }
    }

    @Test
    void gcpErrorNeverShowsTheKeyEvenWhenTheAnswerEchoesIt() {
        String key = "AIzaSyTestKey0123456789";
        try (PriceServer server = new PriceServer(r -> new PriceServer.Answer(400,
            "{\"error\": {\"code\": 400, \"message\": \"API key not valid: " + key + "\", \"status\": \"INVALID_ARGUMENT\"}}"))) {
            GcpBillingCatalog source = new GcpBillingCatalog(URI.create(server.base() + "/v1"), () -> Map.of("X-Goog-Api-Key", key));
            assertThatThrownBy(() -> source.fetch(Wanted.of(Provider.GCP, CATALOG, SHIPPED), TODAY))
                .hasMessageStartingWith("GCP Cloud Billing Catalog: " + server.base() + "/v1/services/6F81-5844-456A/skus answered HTTP 400: ")
                .hasMessageContaining("API key not valid: ***")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(key).doesNotContain("\n"));
        }
    }

    @Test
    void gcpMalformedPricesAreRefused() {
        assertThatThrownBy(() -> GcpSkuParser.parse("{\"skus\": {}}", "GCP Cloud Billing Catalog"))
            .hasMessage("GCP Cloud Billing Catalog: unreadable answer: \"skus\" is not a list");
        String badUnits = PriceServer.sample("gcp-gke.json").replaceFirst("\"units\": \"0\"", "\"units\": \"zero\"");
        assertThatThrownBy(() -> GcpSkuParser.parse(badUnits, "GCP Cloud Billing Catalog"))
            .hasMessage("GCP Cloud Billing Catalog: unreadable answer: SKU 'Regional Kubernetes Clusters' has units that are not a number");
        String euro = PriceServer.sample("gcp-gke.json").replace("\"currencyCode\": \"USD\"", "\"currencyCode\": \"EUR\"");
        assertThatThrownBy(() -> GcpSkuParser.parse(euro, "GCP Cloud Billing Catalog")).hasMessage("GCP Cloud Billing Catalog: prices are in EUR, not USD");
    }

    @Test
    void gcpKeyFromTheEnvironmentIsAHeader() {
        assertThat(GcpAuth.fromEnvironment(Map.of("MLCTL_GCP_API_KEY", " k-123 ")).get()).isEqualTo(Map.of("X-Goog-Api-Key", "k-123"));
    }
}
