package io.mlctl.cost.update;

import java.util.ArrayList;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a page of the Azure Retail Prices API ({@code GET https://prices.azure.com/api/retail/prices?$filter=...}):
 * {@code {"BillingCurrency", "CustomerEntityId", "CustomerEntityType", "Items": [...], "NextPageLink", "Count"}},
 * each item a meter with {@code retailPrice} per {@code unitOfMeasure} in {@code armRegionName}.
 */
final class AzureRetailParser {
    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    record Item(String serviceName, String productName, String skuName, String armSkuName, String meterName, String armRegionName,
                String type, String unitOfMeasure, double tierMinimumUnits, double retailPrice, String currencyCode) {
        boolean spot() {
            return skuName.endsWith(" Spot");
        }

        boolean lowPriority() {
            return skuName.endsWith(" Low Priority");
        }

        boolean windows() {
            return productName.contains("Windows");
        }
    }

    /** One page: its items and the link to the next page (null on the last). */
    record Page(List<Item> items, String nextPageLink) {
        Page {
            items = List.copyOf(items);
        }
    }

    private AzureRetailParser() {
    }

    static Page parse(String json, String source) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JacksonException e) {
            throw new PriceSourceException(source, "unreadable answer: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject() || !root.path("Items").isArray()) {
            throw new PriceSourceException(source, "unreadable answer: no \"Items\" list");
        }
        List<Item> items = new ArrayList<>();
        for (JsonNode n : root.path("Items")) {
            JsonNode price = n.path("retailPrice");
            if (!price.isNumber()) throw new PriceSourceException(source, "unreadable answer: meter '" + n.path("meterName").asString("") + "' has no retailPrice");
            items.add(new Item(s(n, "serviceName"), s(n, "productName"), s(n, "skuName"), s(n, "armSkuName"), s(n, "meterName"),
                s(n, "armRegionName"), s(n, "type"), s(n, "unitOfMeasure"), n.path("tierMinimumUnits").asDouble(0), price.doubleValue(),
                s(n, "currencyCode")));
        }
        String next = root.path("NextPageLink").asString("");
        return new Page(items, next.isBlank() ? null : next);
    }

    private static String s(JsonNode n, String field) {
        return n.path(field).asString("");
    }
}
