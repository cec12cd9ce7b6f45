package io.mlctl.cost.update;

import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Azure's Retail Prices API ({@code https://prices.azure.com/api/retail/prices}), public and without
 * credentials: {@code $filter} by service, region and SKU, pages followed through {@code NextPageLink}.
 * Linux pay-as-you-go VM prices and their Spot meters; Azure ML online endpoints bill the VM size alone, so
 * endpoint types take the VM price; Blob tiers of a Standard_LRS StorageV2 account; Standard SSD disks
 * (billed per disk size: E10 is 128 GiB); the AKS Standard and Premium tiers (Free has no meter).
 */
public final class AzureRetailPrices implements PriceSource {
    public static final String NAME = "Azure Retail Prices API";
    public static final String DEFAULT_BASE = "https://prices.azure.com/api/retail/prices";
    public static final String BASE_PROPERTY = "mlctl.prices.azure.url";
    /** A runaway paging (a link that leads back) stops here. */
    static final int MAX_PAGES = 500;
    static final double E10_GIB = 128;

    private final URI base;
    private final PriceHttp http;

    public AzureRetailPrices() {
        this(URI.create(System.getProperty(BASE_PROPERTY, DEFAULT_BASE)));
    }

    public AzureRetailPrices(URI base) {
        this.base = base;
        this.http = new PriceHttp(false, Duration.ofMinutes(1));
    }

    @Override
    public Provider provider() {
        return Provider.AZURE;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<PriceRow> fetch(Wanted w, LocalDate today) {
        String regions = anyOf("armRegionName", w.regions());
        Map<PriceRow.Key, double[]> vm = new LinkedHashMap<>(); // key → {on-demand, spot}, NaN when absent
        List<String> sizes = new ArrayList<>(w.machines().keySet());
        w.endpoints().keySet().stream().filter(s -> !sizes.contains(s)).forEach(sizes::add);
        each("serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and " + regions + " and " + anyOf("armSkuName", sizes), i -> {
            if (i.windows() || i.lowPriority() || !i.unitOfMeasure().equals("1 Hour") || !i.type().equals("Consumption")) return;
            double[] p = vm.computeIfAbsent(new PriceRow.Key(PriceKind.MACHINE, i.armSkuName(), i.armRegionName()), k -> new double[] {Double.NaN, Double.NaN});
            p[i.spot() ? 1 : 0] = i.retailPrice();
        });
        List<PriceRow> rows = new ArrayList<>();
        vm.forEach((k, p) -> {
            if (Double.isNaN(p[0])) return;
            Double spot = Double.isNaN(p[1]) ? null : p[1];
            if (w.machines().containsKey(k.name())) rows.add(PriceRow.hourly(PriceKind.MACHINE, k.name(), k.region(), p[0], spot, NAME, today));
            if (w.endpoints().containsKey(k.name())) rows.add(PriceRow.hourly(PriceKind.ENDPOINT, k.name(), k.region(), p[0], null, NAME, today));
        });
        List<String> meters = new ArrayList<>();
        w.storage().stream().filter(s -> !s.equals("StandardSSD_LRS")).forEach(s -> meters.add(s + " LRS Data Stored"));
        if (w.storage().contains("StandardSSD_LRS")) meters.add("E10 LRS Disk");
        if (!meters.isEmpty()) {
            each("serviceName eq 'Storage' and priceType eq 'Consumption' and " + regions + " and " + anyOf("meterName", meters), i -> {
                if (i.tierMinimumUnits() != 0) return; // the first volume tier
                if (i.productName().equals("General Block Blob v2") && i.unitOfMeasure().equals("1 GB/Month")) {
                    String tier = i.meterName().substring(0, i.meterName().indexOf(' '));
                    rows.add(PriceRow.storage(tier, i.armRegionName(), i.retailPrice(), NAME, today));
                } else if (i.productName().equals("Standard SSD Managed Disks") && i.meterName().equals("E10 LRS Disk")) {
                    rows.add(PriceRow.storage("StandardSSD_LRS", i.armRegionName(), round(i.retailPrice() / E10_GIB), NAME, today));
                }
            });
        }
        each("serviceName eq 'Azure Kubernetes Service' and priceType eq 'Consumption' and " + regions, i -> {
            String tier = "aks-" + i.skuName().toLowerCase(java.util.Locale.ROOT);
            if (i.unitOfMeasure().equals("1 Hour") && w.clusters().contains(tier)) {
                rows.add(PriceRow.hourly(PriceKind.CLUSTER, tier, i.armRegionName(), i.retailPrice(), null, NAME, today));
            }
        });
        if (w.clusters().contains("aks-free")) {
            // The Free tier has no meter: it is free by definition, in every region.
            rows.add(PriceRow.hourly(PriceKind.CLUSTER, "aks-free", w.defaultRegion(), 0, null, "AKS Free tier (no charge)", today));
        }
        Map<PriceRow.Key, PriceRow> unique = new LinkedHashMap<>();
        rows.forEach(r -> unique.putIfAbsent(r.key(), r));
        return List.copyOf(unique.values());
    }

    /** Every item of a filtered query, following NextPageLink on the API's own host only. */
    void each(String filter, Consumer<AzureRetailParser.Item> f) {
        URI next = URI.create(base + "?$filter=" + URLEncoder.encode(filter, StandardCharsets.UTF_8).replace("+", "%20"));
        for (int page = 0; next != null; page++) {
            if (page == MAX_PAGES) throw new PriceSourceException(NAME, "more than " + MAX_PAGES + " pages: stopped following NextPageLink");
            AzureRetailParser.Page p = AzureRetailParser.parse(http.text(NAME, next, Map.of()), NAME);
            p.items().forEach(i -> {
                if (!i.currencyCode().isEmpty() && !i.currencyCode().equals("USD")) throw new PriceSourceException(NAME, "prices are in " + i.currencyCode() + ", not USD");
                f.accept(i);
            });
            next = p.nextPageLink() == null ? null : URI.create(p.nextPageLink());
            if (next != null && !Objects.equals(next.getHost(), base.getHost())) {
                throw new PriceSourceException(NAME, "NextPageLink leads to another host (" + next.getHost() + "): not followed");
            }
        }
    }

    private static String anyOf(String field, Collection<String> values) {
        return "(" + String.join(" or ", values.stream().map(v -> field + " eq '" + v.replace("'", "''") + "'").toList()) + ")";
    }

    /** Per-GB prices from per-disk ones: six decimals are a tenth of a cent per TB. */
    private static double round(double d) {
        return Math.round(d * 1e6) / 1e6;
    }
}
