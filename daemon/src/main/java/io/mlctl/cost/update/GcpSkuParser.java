package io.mlctl.cost.update;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a page of the GCP Cloud Billing Catalog ({@code GET https://cloudbilling.googleapis.com/v1/services/{id}/skus}):
 * {@code {"skus": [...], "nextPageToken"}}, each SKU with a {@code description}, a {@code category}
 * ({@code resourceFamily}, {@code resourceGroup}, {@code usageType}: OnDemand, Preemptible, Commit1Yr...),
 * {@code serviceRegions} and {@code pricingInfo[].pricingExpression} ({@code usageUnit},
 * {@code tieredRates[].unitPrice} as {@code units} + {@code nanos}).
 */
final class GcpSkuParser {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    record Sku(String description, String resourceFamily, String resourceGroup, String usageType, List<String> serviceRegions,
               String usageUnit, double usd) {
        Sku {
            serviceRegions = List.copyOf(serviceRegions);
        }
    }

    record Page(List<Sku> skus, String nextPageToken) {
        Page {
            skus = List.copyOf(skus);
        }
    }

    private GcpSkuParser() {
    }

    static Page parse(String json, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new PriceSourceException(source, "unreadable answer: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new PriceSourceException(source, "unreadable answer: not a JSON object");
        JsonNode skus = root.path("skus");
        // The last page of an empty service has no "skus" at all; anything else there is not a SKU list.
        if (!skus.isMissingNode() && !skus.isArray()) throw new PriceSourceException(source, "unreadable answer: \"skus\" is not a list");
        List<Sku> out = new ArrayList<>();
        for (JsonNode n : skus) {
            JsonNode info = n.path("pricingInfo");
            if (!info.isArray() || info.isEmpty()) continue; // a SKU without a public price
            JsonNode expr = info.get(0).path("pricingExpression");
            List<String> regions = new ArrayList<>();
            n.path("serviceRegions").forEach(r -> regions.add(r.asString()));
            JsonNode cat = n.path("category");
            out.add(new Sku(n.path("description").asString(""), cat.path("resourceFamily").asString(""), cat.path("resourceGroup").asString(""),
                cat.path("usageType").asString(""), regions, expr.path("usageUnit").asString(""), price(expr, n, source)));
        }
        String next = root.path("nextPageToken").asString("");
        return new Page(out, next.isBlank() ? null : next);
    }

    /** The first tier that costs something: a leading free tier is an allowance, not the price. */
    private static double price(JsonNode expr, JsonNode sku, String source) {
        JsonNode rates = expr.path("tieredRates");
        if (!rates.isArray() || rates.isEmpty()) {
            throw new PriceSourceException(source, "unreadable answer: SKU '" + sku.path("description").asString("") + "' has no tieredRates");
        }
        double first = -1;
        for (JsonNode r : rates) {
            JsonNode unit = r.path("unitPrice");
            String currency = unit.path("currencyCode").asString("USD");
            if (!currency.equals("USD")) throw new PriceSourceException(source, "prices are in " + currency + ", not USD");
            double v;
            try {
                // units is an int64, which the API writes as a JSON string.
                v = Long.parseLong(unit.path("units").asString("0")) + unit.path("nanos").asLong(0) / 1e9;
            } catch (NumberFormatException e) {
                throw new PriceSourceException(source, "unreadable answer: SKU '" + sku.path("description").asString("") + "' has units that are not a number");
            }
            if (first < 0) first = v;
            if (v > 0) return v;
        }
        return first;
    }
}
