package io.mlctl.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.MlctlException;
import io.mlctl.catalog.Catalog;
import io.mlctl.spec.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class PriceCatalogTest {
    static final Catalog CATALOG = Catalog.loadDefault();
    static final PriceCatalog SHIPPED = PriceCatalog.shipped();

    @TempDir
    Path dir;

    /** Adding a machine type, accelerator, endpoint type or storage class without a price fails the build here. */
    @ParameterizedTest
    @EnumSource(Provider.class)
    void everythingTheCatalogsKnowHasAPrice(Provider p) {
        Catalog.ProviderCatalog cat = CATALOG.of(p);
        List<String> missing = new ArrayList<>();
        cat.machineTypes().keySet().forEach(m -> need(p, PriceKind.MACHINE, m, true, missing));
        cat.endpointMachineTypes().keySet().forEach(m -> need(p, PriceKind.ENDPOINT, m, false, missing));
        cat.accelerators().keySet().forEach(a -> {
            need(p, PriceKind.ACCELERATOR, a, true, missing);
            need(p, PriceKind.ENDPOINT, a, false, missing); // an endpoint may carry the accelerator too
        });
        for (String cls : storageClassesOfTheSchema()) {
            String name = Billing.storageClass(p, cls);
            if (name == null) missing.add("storage class " + cls + " has no " + p.id() + " name in Billing");
            else need(p, PriceKind.STORAGE, name, false, missing);
        }
        need(p, PriceKind.STORAGE, Billing.disk(p), false, missing);
        need(p, PriceKind.CLUSTER, Billing.controlPlane(p), false, missing);
        if (Billing.systemPool(p) != null) need(p, PriceKind.MACHINE, Billing.systemPool(p).machineType(), true, missing);
        assertThat(missing).as("prices missing from prices/" + p.id() + ".json").isEmpty();
    }

    private static void need(Provider p, PriceKind kind, String name, boolean spot, List<String> missing) {
        var row = SHIPPED.find(p, kind, name, PriceRow.ANY_REGION);
        if (row.isEmpty()) missing.add(kind.id() + " " + name);
        else if (spot && row.get().spotPerHour() == null) missing.add("spot price of " + kind.id() + " " + name);
    }

    /** The storage classes the schema lets a lifecycle rule name, and a bucket's own. */
    static Set<String> storageClassesOfTheSchema() {
        try (InputStream in = PriceCatalogTest.class.getResourceAsStream("/schema/environment.schema.json")) {
            JsonNode schema = JsonMapper.builder().build().readTree(in);
            Set<String> out = new LinkedHashSet<>(List.of("standard"));
            schema.findValues("storageClass").forEach(n -> n.path("enum").forEach(v -> out.add(v.asString())));
            assertThat(out).as("the schema's lifecycle storage classes were found").hasSizeGreaterThan(1);
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void defaultPricesAgreeWithTheCatalogsOnDemandPrices(Provider p) {
        Catalog.ProviderCatalog cat = CATALOG.of(p);
        cat.machineTypes().values().forEach(m ->
            assertThat(SHIPPED.find(p, PriceKind.MACHINE, m.name(), "*").orElseThrow().onDemandPerHour()).as(m.name()).isEqualTo(m.pricePerHour()));
        cat.endpointMachineTypes().values().forEach(m ->
            assertThat(SHIPPED.find(p, PriceKind.ENDPOINT, m.name(), "*").orElseThrow().onDemandPerHour()).as(m.name()).isEqualTo(m.pricePerHour()));
        cat.accelerators().values().forEach(a ->
            assertThat(SHIPPED.find(p, PriceKind.ACCELERATOR, a.name(), "*").orElseThrow().onDemandPerHour()).as(a.name()).isEqualTo(a.pricePerHour()));
    }

    @ParameterizedTest
    @EnumSource(Provider.class)
    void everyRowIsForAKnownRegionPricesSpotBelowOnDemandAndSaysWhereItCameFrom(Provider p) {
        for (PriceRow r : SHIPPED.rows(p)) {
            if (!r.region().equals("*")) assertThat(CATALOG.of(p).regions()).as(r.key().toString()).containsKey(r.region());
            if (r.spotPerHour() != null) assertThat(r.spotPerHour()).as(r.key().toString()).isLessThan(r.onDemandPerHour());
            assertThat(r.source()).isNotBlank();
            assertThat(r.date()).isAfter(LocalDate.parse("2026-01-01"));
        }
    }

    @Test
    void shippedFilesAreInTheCanonicalLayoutTheUpdaterWrites() throws IOException {
        for (Provider p : Provider.values()) {
            try (InputStream in = PriceCatalog.class.getResourceAsStream("/prices/" + p.id() + ".json")) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                assertThat(PriceFile.write(p, PriceFile.read(p, text, "x"))).as(p.id()).isEqualTo(text);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} {2} in {3}")
    @CsvSource({
        "aws, machine, p3.2xlarge, eu-central-1, eu-central-1, 3.823",
        "aws, machine, p3.2xlarge, us-west-2, *, 3.06",
        "gcp, accelerator, nvidia-tesla-v100, europe-west4, europe-west4, 2.55",
        "gcp, accelerator, nvidia-tesla-v100, us-east1, *, 2.48",
        "azure, machine, Standard_NC6s_v3, westeurope, westeurope, 3.366",
        "azure, cluster, aks-standard, japaneast, *, 0.1"})
    void regionalRowElseTheDefault(String provider, String kind, String name, String region, String rowRegion, double price) {
        PriceRow r = SHIPPED.find(Provider.of(provider), PriceKind.of(kind), name, region).orElseThrow();
        assertThat(r.region()).isEqualTo(rowRegion);
        assertThat(r.onDemandPerHour()).isEqualTo(price);
    }

    @Test
    void unknownNameHasNoPrice() {
        assertThat(SHIPPED.find(Provider.AWS, PriceKind.MACHINE, "p9.mega", "us-east-1")).isEmpty();
        assertThat(SHIPPED.find(Provider.AWS, PriceKind.ENDPOINT, "p3.2xlarge", "us-east-1")).as("kinds do not mix").isEmpty();
    }

    @Test
    void overrideRowsReplaceOlderShippedRowsButNotNewerOnes() throws IOException {
        LocalDate later = LocalDate.parse("2099-01-01");
        LocalDate earlier = LocalDate.parse("2020-01-01");
        Files.writeString(dir.resolve("aws.json"), PriceFile.write(Provider.AWS, List.of(
            PriceRow.hourly(PriceKind.MACHINE, "p3.2xlarge", "*", 2.9, 0.8, "AWS Price List", later),
            PriceRow.hourly(PriceKind.MACHINE, "m5.large", "*", 9.99, null, "AWS Price List", earlier),
            PriceRow.hourly(PriceKind.MACHINE, "m7.new", "*", 0.2, null, "AWS Price List", later))));
        PriceCatalog prices = PriceCatalog.load(dir);
        assertThat(prices.find(Provider.AWS, PriceKind.MACHINE, "p3.2xlarge", "*").orElseThrow().onDemandPerHour()).isEqualTo(2.9);
        assertThat(prices.find(Provider.AWS, PriceKind.MACHINE, "m5.large", "*").orElseThrow().onDemandPerHour()).as("the jar's newer row").isEqualTo(0.096);
        assertThat(prices.find(Provider.AWS, PriceKind.MACHINE, "m7.new", "*")).isPresent();
        assertThat(prices.find(Provider.AWS, PriceKind.MACHINE, "g5.xlarge", "*")).as("rows the file lacks stay").isPresent();
        assertThat(prices.infos().get(0).origin()).isEqualTo("built-in:prices/aws.json + " + dir.resolve("aws.json"));
        assertThat(prices.infos().get(0).newest()).isEqualTo(later);
        assertThat(prices.infos().get(1).origin()).as("no gcp file").isEqualTo("built-in:prices/gcp.json");
        assertThat(PriceCatalog.load(dir.resolve("absent")).rows(Provider.AWS)).isEqualTo(SHIPPED.rows(Provider.AWS));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not JSON             | {\"provider\": \"aws\",                                  | is not valid JSON",
        "other provider       | {\"provider\": \"gcp\", \"currency\": \"USD\", \"rows\": []} | is for provider 'gcp', expected aws",
        "other currency       | {\"provider\": \"aws\", \"currency\": \"EUR\", \"rows\": []} | currency must be USD",
        "no rows              | {\"provider\": \"aws\", \"currency\": \"USD\"}              | has no \"rows\" list",
        "missing date         | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"machine\", \"name\": \"a\", \"region\": \"*\", \"onDemandPerHour\": 1, \"source\": \"s\"}]} | row 1: missing 'date'",
        "bad date             | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"machine\", \"name\": \"a\", \"region\": \"*\", \"onDemandPerHour\": 1, \"source\": \"s\", \"date\": \"27.11.2026\"}]} | is not a date",
        "negative price       | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"machine\", \"name\": \"a\", \"region\": \"*\", \"onDemandPerHour\": -1, \"source\": \"s\", \"date\": \"2026-01-01\"}]} | must be a non-negative number",
        "price as text        | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"machine\", \"name\": \"a\", \"region\": \"*\", \"onDemandPerHour\": \"1\", \"source\": \"s\", \"date\": \"2026-01-01\"}]} | 'onDemandPerHour' must be a number",
        "hourly without price | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"machine\", \"name\": \"a\", \"region\": \"*\", \"source\": \"s\", \"date\": \"2026-01-01\"}]} | machine a needs onDemandPerHour",
        "unknown kind         | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"gpu\", \"name\": \"a\", \"region\": \"*\", \"source\": \"s\", \"date\": \"2026-01-01\"}]} | unknown price kind 'gpu'",
        "unknown field        | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"storage\", \"name\": \"a\", \"region\": \"*\", \"perGB\": 1, \"source\": \"s\", \"date\": \"2026-01-01\"}]} | unknown field 'perGB'",
        "duplicate            | {\"provider\": \"aws\", \"currency\": \"USD\", \"rows\": [{\"kind\": \"storage\", \"name\": \"a\", \"region\": \"*\", \"perGbMonth\": 1, \"source\": \"s\", \"date\": \"2026-01-01\"}, {\"kind\": \"storage\", \"name\": \"a\", \"region\": \"*\", \"perGbMonth\": 2, \"source\": \"s\", \"date\": \"2026-01-01\"}]} | row 2 prices storage a again (row 1)"})
    void malformedOverrideFileIsOneClearError(String name, String text, String message) throws IOException {
        Files.writeString(dir.resolve("aws.json"), text);
        assertThatThrownBy(() -> PriceCatalog.load(dir)).isInstanceOf(MlctlException.class)
            .hasMessageStartingWith("prices file " + dir.resolve("aws.json"))
            .hasMessageContaining(message)
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void defaultDirectoryFollowsXdgConfigHomeElseHome() {
        assertThat(PriceCatalog.defaultDir(Map.of("HOME", "/home/ann"))).isEqualTo(Path.of("/home/ann/.config/mlctl/prices"));
        assertThat(PriceCatalog.defaultDir(Map.of("HOME", "/home/ann", "XDG_CONFIG_HOME", "/cfg"))).isEqualTo(Path.of("/cfg/mlctl/prices"));
        assertThat(PriceCatalog.defaultDir(Map.of("HOME", "/home/ann", "XDG_CONFIG_HOME", "relative"))).isEqualTo(Path.of("/home/ann/.config/mlctl/prices"));
    }
}
