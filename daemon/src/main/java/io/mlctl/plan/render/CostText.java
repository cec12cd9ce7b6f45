package io.mlctl.plan.render;

import io.mlctl.plan.Change;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.CostEstimate.Amount;
import io.mlctl.plan.Plan;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * How plans and {@code mlctl cost} write monthly costs for people: {@code $2,233.80/month}, a range {@code $83.95..$755.55/month}
 * (autoscaled at its minimum and maximum), {@code usage-based} for what the spec gives no size for, {@code unknown (...)} for what
 * had no price (never counted as $0.00).
 */
public final class CostText {
    private CostText() {
    }

    public static String money(double usd) {
        // Rounded first: a sum of cents can be -0.000001, which must not print as "-$0.00".
        double cents = Math.round(usd * 100) / 100.0;
        return (cents < 0 ? "-$" : "$") + String.format(Locale.ROOT, "%,.2f", Math.abs(cents));
    }

    /** {@code $low}, or {@code $low..$high} when autoscaling makes it a range. */
    public static String range(double low, double high) {
        return Math.abs(high - low) < 0.005 ? money(low) : money(low) + ".." + money(high);
    }

    /** A change of cost with its sign: {@code +$10.00}, {@code -$5.00}, {@code +$1.00..+$9.00}. */
    public static String delta(double low, double high) {
        return Math.abs(high - low) < 0.005 ? signed(low) : signed(low) + ".." + signed(high);
    }

    private static String signed(double usd) {
        String m = money(usd);
        return m.startsWith("-") ? m : "+" + m;
    }

    /** Nothing but what the spec cannot say (an unsized bucket) or what had no price: no amount to show. */
    private static boolean unpriced(Amount a) {
        return a.low() == 0 && a.high() == 0 && (a.usageBased() || !a.known());
    }

    /** The qualifiers of an amount: "usage-based", "unknown (why)" (or "unknown" alone when {@code why} is false). */
    private static List<String> qualifiers(Amount a, boolean why) {
        List<String> q = new ArrayList<>();
        if (a.usageBased()) q.add("usage-based");
        if (!a.known()) q.add(why ? "unknown (" + String.join("; ", a.unknown()) + ")" : "unknown");
        return q;
    }

    /** One amount: {@code $83.95..$755.55/month + usage-based}, {@code usage-based}, {@code $0.00/month}. */
    public static String amount(Amount a) {
        return amount(a, true);
    }

    private static String amount(Amount a, boolean why) {
        List<String> parts = new ArrayList<>();
        if (!unpriced(a)) parts.add(range(a.low(), a.high()) + "/month");
        parts.addAll(qualifiers(a, why));
        return String.join(" + ", parts);
    }

    /**
     * One resource's cost before and after a change: {@code $0.00 -> $2,233.80/month} for a create, {@code $41.40/month (unchanged)}
     * for an update that does not change it, {@code $0.00/month} for something free. An absent side (before a create, after a
     * delete) is $0.00; qualifiers are the after side's (the before side's for a delete).
     */
    public static String change(Optional<Amount> before, Optional<Amount> after) {
        if (before.isPresent() && after.isPresent() && before.get().equals(after.get())) return amount(after.get()) + " (unchanged)";
        // A before with an unpriced part says so, rather than passing for the whole cost.
        String was = before.map(b -> unpriced(b) || !b.known() ? amount(b) : range(b.low(), b.high())).orElse("$0.00");
        String will = after.map(CostText::amount).orElse("$0.00/month");
        return (was + "/month").equals(will) ? will : was + " -> " + will;
    }

    /**
     * A plan's totals: {@code $0.00 -> $1,094.43..$2,643.42/month (+$1,094.43..+$2,643.42) + usage-based}, or
     * {@code $1,094.43/month (no change) + usage-based} when the plan changes nothing of the bill.
     */
    public static String total(CostEstimate e) {
        if (range(e.before().low(), e.before().high()).equals(range(e.after().low(), e.after().high()))) {
            return range(e.after().low(), e.after().high()) + "/month (no change)" + tail(e.after());
        }
        return range(e.before().low(), e.before().high()) + " -> " + range(e.after().low(), e.after().high()) + "/month ("
            + delta(e.deltaLow(), e.deltaHigh()) + (e.before().known() && e.after().known() ? "" : ", not counting what has no price") + ")"
            + tail(e.after());
    }

    /** An environment's total as it stands (a plan without changes, {@code mlctl cost}): {@code $1,094.43/month + usage-based}. */
    public static String current(Amount a) {
        return range(a.low(), a.high()) + "/month" + tail(a);
    }

    private static String tail(Amount a) {
        return qualifiers(a, false).stream().map(q -> " + " + q).reduce("", String::concat);
    }

    /** What had no price, before or after: left out of the totals, so a reader must see it. */
    public static List<String> unknown(CostEstimate e) {
        LinkedHashSet<String> out = new LinkedHashSet<>(e.before().unknown());
        out.addAll(e.after().unknown());
        return List.copyOf(out);
    }

    /**
     * The cost a change shows: none for a subnet or node pool changed on its own (its resource's change carries the cost) and
     * for the delete of a duplicate (the estimate prices the resource kept under that address, not the duplicate).
     */
    public static Optional<CostEstimate.ResourceCost> of(Plan plan, Change change) {
        if (plan.cost().isEmpty() || change.address().isComponent()) return Optional.empty();
        boolean duplicate = change instanceof Change.Delete
            && (plan.changes().stream().filter(c -> c.address().equals(change.address())).count() > 1
                || plan.unchanged().stream().anyMatch(u -> u.address().equals(change.address())));
        return duplicate ? Optional.empty() : plan.cost().get().of(change.address());
    }
}
