package io.mlctl.cost;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The monthly cost of one resource from its attributes (a spec's, defaults applied, or inventory's), priced
 * from a {@link PriceCatalog}: 730 hours a month, autoscaled pools and endpoints at their minimum and their
 * maximum, spot at the catalog's spot price, buckets per GB-month of their {@code expectedSizeGb} usage hint.
 * A pure function of the prices and the attributes: no cloud calls.
 */
public final class CostModel {
    public static final double HOURS_PER_MONTH = 730;

    static final String HOURS = "730 hours a month";
    static final String AUTOSCALED = "autoscaled pools and endpoints priced at their minimum and at their maximum";
    static final String SPOT = "spot at the catalog's spot price";
    static final String UNSIZED_BUCKET = "bucket storage is usage-based: set expectedSizeGb to price it";
    static final String SIZED_BUCKET = "bucket priced for expectedSizeGb in one storage class; requests, transfer and lifecycle moves not priced";
    static final String NOT_PRICED = "disks of nodes and endpoints, load balancers and data transfer not priced";

    private final PriceCatalog prices;

    public CostModel(PriceCatalog prices) {
        this.prices = prices;
    }

    /** A declared resource in its environment. */
    public Cost cost(Environment env, ResourceSpec resource) {
        return cost(env.provider(), region(env, resource.attributes()), resource.address().type(), resource.attributes());
    }

    /** A resource as the cloud reports it, priced where it lives. */
    public Cost cost(Environment env, ObservedResource resource) {
        return cost(env.provider(), region(env, resource.attributes()), resource.address().type(), resource.attributes());
    }

    /** Attributes carry the resource's region (a resource left behind in another region is priced there). */
    private static String region(Environment env, Map<String, Object> attributes) {
        return attributes.get("region") instanceof String r && !r.isBlank() ? r : env.region();
    }

    /** Every declared resource of an environment, summed. */
    public Cost total(Environment env) {
        return Cost.sum(env.resources().stream().map(r -> cost(env, r)).toList());
    }

    public Cost cost(Provider provider, String region, ResourceType type, Map<String, Object> a) {
        Builder b = new Builder(provider, region);
        switch (type) {
            case NETWORK, IDENTITY -> {
                return Cost.free();
            }
            case INSTANCE -> {
                boolean spot = bool(a.get("spot"));
                b.hourly(PriceKind.MACHINE, text(a.get("machineType")), "machine type", spot, 1, 1);
                accelerator(b, PriceKind.ACCELERATOR, a.get("accelerator"), spot, 1, 1);
                long disk = count(a.get("diskGb"), 100);
                b.storage(Billing.disk(provider), "boot disk", disk);
            }
            case KUBERNETES_CLUSTER -> {
                b.hourly(PriceKind.CLUSTER, Billing.controlPlane(provider), "control plane", false, 1, 1);
                b.assume(Billing.controlPlaneAssumption(provider));
                Billing.SystemPool system = Billing.systemPool(provider);
                if (system != null) b.hourly(PriceKind.MACHINE, system.machineType(), "system pool", false, system.min(), system.max());
                if (a.get("nodePools") instanceof List<?> pools) {
                    for (Object o : pools) {
                        if (!(o instanceof Map<?, ?> p)) continue;
                        boolean spot = bool(p.get("spot"));
                        long min = count(p.get("min"), 0);
                        long max = Math.max(min, count(p.get("max"), min));
                        String what = "node pool " + text(p.get("name"));
                        b.hourly(PriceKind.MACHINE, text(p.get("machineType")), what, spot, min, max);
                        accelerator(b, PriceKind.ACCELERATOR, p.get("accelerator"), spot, min, max);
                    }
                }
                b.assume(NOT_PRICED);
            }
            case INFERENCE_ENDPOINT -> {
                long min = count(a.get("minReplicas"), 1);
                long max = Math.max(min, count(a.get("maxReplicas"), 1));
                b.hourly(PriceKind.ENDPOINT, text(a.get("machineType")), "endpoint instances", false, min, max);
                // Vertex AI bills an endpoint's accelerators as endpoint prices of their own.
                accelerator(b, PriceKind.ENDPOINT, a.get("accelerator"), false, min, max);
                b.assume(NOT_PRICED);
            }
            case BUCKET -> {
                if (a.get("expectedSizeGb") instanceof Number gb) {
                    String cls = a.get("storageClass") instanceof String s ? s : "standard";
                    String name = Billing.storageClass(provider, cls);
                    if (name == null) b.unknown(PriceKind.STORAGE, cls, false, "unknown storage class '" + cls + "' for " + provider.id());
                    else b.storage(name, cls + " storage", gb.doubleValue());
                    b.assume(SIZED_BUCKET);
                } else {
                    b.usageBased = true;
                    b.assume(UNSIZED_BUCKET);
                }
            }
            default -> throw new IllegalStateException("no cost rule for " + type);
        }
        return b.build();
    }

    private static void accelerator(Builder b, PriceKind kind, Object acc, boolean spot, long min, long max) {
        if (!(acc instanceof Map<?, ?> m)) return;
        long n = count(m.get("count"), 1);
        b.hourly(kind, text(m.get("type")), "accelerator", spot, n * min, n * max);
    }

    private static boolean bool(Object o) {
        return Boolean.TRUE.equals(o);
    }

    private static String text(Object o) {
        return o == null ? "" : String.valueOf(o);
    }

    private static long count(Object o, long dflt) {
        return o instanceof Number n ? n.longValue() : dflt;
    }

    /** Collects line items, unpriced parts and assumptions of one resource. */
    private final class Builder {
        final Provider provider;
        final String region;
        final List<Cost.LineItem> items = new ArrayList<>();
        final List<Cost.Unpriced> unpriced = new ArrayList<>();
        final Set<String> assumptions = new LinkedHashSet<>();
        boolean usageBased;
        double low;
        double high;

        Builder(Provider provider, String region) {
            this.provider = provider;
            this.region = region;
        }

        void assume(String a) {
            if (a != null) assumptions.add(a);
        }

        void hourly(PriceKind kind, String name, String what, boolean spot, long countLow, long countHigh) {
            assume(HOURS);
            if (countLow != countHigh) assume(AUTOSCALED);
            if (spot) assume(SPOT);
            String label = kindLabel(kind);
            if (name.isEmpty()) {
                unknown(kind, name, spot, what + " has no " + label);
                return;
            }
            PriceRow row = prices.find(provider, kind, name, region).orElse(null);
            if (row == null) {
                unknown(kind, name, spot, "no price for " + label + " " + name + " in " + provider.id() + " " + region);
                return;
            }
            if (spot && row.spotPerHour() == null) {
                unknown(kind, name, true, "no spot price for " + label + " " + name + " in " + provider.id() + " " + region);
                return;
            }
            double unit = spot ? row.spotPerHour() : row.onDemandPerHour();
            double lo = unit * HOURS_PER_MONTH * countLow;
            double hi = unit * HOURS_PER_MONTH * countHigh;
            String count = countLow == countHigh ? Long.toString(countLow) : countLow + ".." + countHigh;
            String description = what + ": " + name + (spot ? " spot" : "") + " × " + count;
            items.add(new Cost.LineItem(description, kind, name, row.region(), spot, unit, "hour", countLow, countHigh, lo, hi,
                spot ? row.spotSourceOrSource() : row.source(), spot ? row.spotDateOrDate() : row.date()));
            low += lo;
            high += hi;
        }

        void storage(String name, String what, double gb) {
            PriceRow row = prices.find(provider, PriceKind.STORAGE, name, region).orElse(null);
            if (row == null) {
                unknown(PriceKind.STORAGE, name, false, "no price for storage " + name + " in " + provider.id() + " " + region);
                return;
            }
            double cost = row.perGbMonth() * gb;
            String description = what + ": " + plain(gb) + " GB " + name;
            items.add(new Cost.LineItem(description, PriceKind.STORAGE, name, row.region(), false, row.perGbMonth(), "GB-month", gb, gb, cost, cost,
                row.source(), row.date()));
            low += cost;
            high += cost;
        }

        void unknown(PriceKind kind, String name, boolean spot, String message) {
            unpriced.add(new Cost.Unpriced(kind, name, region, spot, message));
        }

        Cost build() {
            return new Cost(low, high, Cost.USD, usageBased, items, unpriced, List.copyOf(assumptions));
        }
    }

    private static String kindLabel(PriceKind kind) {
        return switch (kind) {
            case MACHINE -> "machine type";
            case ACCELERATOR -> "accelerator";
            case ENDPOINT -> "endpoint type";
            case CLUSTER -> "Kubernetes control plane";
            case STORAGE -> "storage";
        };
    }

    private static String plain(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
