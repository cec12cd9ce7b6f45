package io.mlctl.cost.update;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads an AWS Price List offer file ({@code offers/v1.0/aws/<offer>/current/<region>/index.json}):
 * {@code products} by SKU ({@code productFamily}, {@code attributes}), then {@code terms.OnDemand} by SKU,
 * each term's {@code priceDimensions} with {@code unit}, {@code beginRange} and {@code pricePerUnit.USD}.
 * The files are hundreds of MB, so they are streamed: only the products a caller wants, and their
 * on-demand prices, are kept.
 */
final class AwsOfferParser {
    // Subtrees are read from the middle of the stream: what follows them is not trailing garbage.
    private static final JsonMapper MAPPER = JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    record Product(String sku, String family, Map<String, String> attributes) {
        Product {
            attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
        }

        String attr(String name) {
            return attributes.getOrDefault(name, "");
        }
    }

    /** A wanted product and its on-demand price in USD per {@code unit} (the first tier's, for tiered storage). */
    record Priced(Product product, double usd, String unit) {
    }

    private AwsOfferParser() {
    }

    /** The wanted products that have an on-demand price, in the file's order. {@code what} names the file in errors. */
    static List<Priced> parse(InputStream in, Predicate<Product> wanted, String source, String what) {
        Map<String, Product> products = new LinkedHashMap<>();
        Map<String, Priced> priced = new LinkedHashMap<>();
        boolean sawProducts = false;
        try (JsonParser p = MAPPER.createParser(in)) {
            if (p.nextToken() != JsonToken.START_OBJECT) throw malformed(source, what, "not a JSON object");
            while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                if (field.equals("products")) {
                    if (t != JsonToken.START_OBJECT) throw malformed(source, what, "\"products\" is not an object");
                    sawProducts = true;
                    while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                        String sku = p.currentName();
                        p.nextToken();
                        JsonNode n = MAPPER.readTree(p);
                        Map<String, String> attrs = new LinkedHashMap<>();
                        n.path("attributes").properties().forEach(e -> attrs.put(e.getKey(), e.getValue().asString("")));
                        Product product = new Product(sku, n.path("productFamily").asString(""), attrs);
                        if (wanted.test(product)) products.put(sku, product);
                    }
                } else if (field.equals("terms")) {
                    if (t != JsonToken.START_OBJECT) throw malformed(source, what, "\"terms\" is not an object");
                    while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                        String type = p.currentName();
                        p.nextToken();
                        if (!type.equals("OnDemand")) {
                            p.skipChildren(); // Reserved terms: not what a plan prices
                            continue;
                        }
                        while (p.nextToken() == JsonToken.PROPERTY_NAME) {
                            String sku = p.currentName();
                            p.nextToken();
                            Product product = products.get(sku);
                            if (product == null) {
                                p.skipChildren();
                                continue;
                            }
                            Priced pr = price(product, MAPPER.readTree(p), source, what);
                            if (pr != null) priced.putIfAbsent(sku, pr);
                        }
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (JacksonException e) {
            throw malformed(source, what, e.getOriginalMessage());
        }
        if (!sawProducts) throw malformed(source, what, "no \"products\"");
        return new ArrayList<>(priced.values());
    }

    /** The price dimension that starts at 0 (the first tier) of the SKU's on-demand term. */
    private static Priced price(Product product, JsonNode terms, String source, String what) {
        for (JsonNode term : terms) {
            for (JsonNode dim : term.path("priceDimensions")) {
                String begin = dim.path("beginRange").asString("0");
                if (!begin.equals("0")) continue;
                JsonNode usd = dim.path("pricePerUnit").path("USD");
                if (usd.isMissingNode()) throw malformed(source, what, "SKU " + product.sku() + " has no USD price");
                try {
                    return new Priced(product, Double.parseDouble(usd.asString()), dim.path("unit").asString(""));
                } catch (NumberFormatException e) {
                    throw malformed(source, what, "SKU " + product.sku() + " has a price that is not a number: '" + usd.asString() + "'");
                }
            }
        }
        return null;
    }

    private static PriceSourceException malformed(String source, String what, String why) {
        return new PriceSourceException(source, "unreadable offer file " + what + ": " + why);
    }
}
