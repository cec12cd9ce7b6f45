package io.mlctl.cost;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * The monthly cost of a resource (or a sum of them) in USD, as a range: {@code low} with every autoscaled
 * pool and endpoint at its minimum, {@code high} at its maximum (equal when nothing scales). The line items
 * say what makes it up; {@code unpriced} lists what had no price (left out of low and high, never counted
 * as 0); {@code usageBased} is true when part of the cost depends on usage the spec does not state (a bucket
 * without {@code expectedSizeGb}); {@code assumptions} are the short sentences a reader needs to trust it.
 */
public record Cost(double low, double high, String currency, boolean usageBased, List<LineItem> items, List<Unpriced> unpriced,
                   List<String> assumptions) {
    public static final String USD = "USD";

    /**
     * One priced part: {@code count} units ({@code countLow..countHigh} instances, accelerators or GB) of
     * {@code name} at {@code unitPrice} per {@code unit} ("hour", 730 of them a month, or "GB-month"), from the
     * price row of {@code region} ({@code *} when the default price applied), with that row's source and date.
     */
    public record LineItem(String description, PriceKind kind, String name, String region, boolean spot, double unitPrice, String unit,
                           double countLow, double countHigh, double low, double high, String source, LocalDate date) {
    }

    /** Something that needed a price the catalog does not have. */
    public record Unpriced(PriceKind kind, String name, String region, boolean spot, String message) {
    }

    /** A change of cost: after minus before, at the low and the high ends. */
    public record Delta(double low, double high) {
    }

    public Cost {
        if (!USD.equals(currency)) throw new IllegalArgumentException("costs are in USD, not " + currency);
        if (low > high + 1e-9) throw new IllegalArgumentException("cost low " + low + " above high " + high);
        items = List.copyOf(items);
        unpriced = List.copyOf(unpriced);
        assumptions = List.copyOf(assumptions);
    }

    /** Costs nothing: a network, an identity, an empty environment. */
    public static Cost free() {
        return new Cost(0, 0, USD, false, List.of(), List.of(), List.of());
    }

    /** True when every part had a price. */
    public boolean complete() {
        return unpriced.isEmpty();
    }

    /** True when autoscaling makes the cost a range. */
    public boolean isRange() {
        return Math.abs(high - low) >= 0.005;
    }

    public Cost plus(Cost o) {
        List<LineItem> i = new ArrayList<>(items);
        i.addAll(o.items);
        List<Unpriced> u = new ArrayList<>(unpriced);
        u.addAll(o.unpriced);
        LinkedHashSet<String> a = new LinkedHashSet<>(assumptions);
        a.addAll(o.assumptions);
        return new Cost(low + o.low, high + o.high, USD, usageBased || o.usageBased, i, u, List.copyOf(a));
    }

    /** As adding them one after another with {@link #plus} (the same order, so the same sums), in one pass. */
    public static Cost sum(Collection<Cost> costs) {
        double low = 0;
        double high = 0;
        boolean usageBased = false;
        List<LineItem> i = new ArrayList<>();
        List<Unpriced> u = new ArrayList<>();
        LinkedHashSet<String> a = new LinkedHashSet<>();
        for (Cost c : costs) {
            low += c.low;
            high += c.high;
            usageBased |= c.usageBased;
            i.addAll(c.items);
            u.addAll(c.unpriced);
            a.addAll(c.assumptions);
        }
        return new Cost(low, high, USD, usageBased, i, u, List.copyOf(a));
    }

    /** This cost minus {@code before} (a resource's cost after a change minus its cost before). */
    public Delta minus(Cost before) {
        return new Delta(low - before.low, high - before.high);
    }

    /**
     * One line for people: {@code $2,233.80/month}, {@code $83.95..$755.55/month}, with {@code + usage-based}
     * and {@code + unknown: <what>} when they apply ({@code usage-based} alone for an unsized bucket).
     */
    public String format() {
        StringBuilder b = new StringBuilder();
        boolean nothingPriced = items.isEmpty() && low == 0 && high == 0;
        if (!(nothingPriced && (usageBased || !unpriced.isEmpty()))) {
            b.append(money(low));
            if (isRange()) b.append("..").append(money(high));
            b.append("/month");
        }
        if (usageBased) b.append(b.length() > 0 ? " + " : "").append("usage-based");
        if (!unpriced.isEmpty()) {
            b.append(b.length() > 0 ? " + " : "").append("unknown (");
            b.append(String.join("; ", unpriced.stream().map(Unpriced::message).distinct().toList())).append(')');
        }
        return b.toString();
    }

    public static String money(double usd) {
        return (usd < 0 ? "-$" : "$") + String.format(Locale.ROOT, "%,.2f", Math.abs(usd));
    }
}
