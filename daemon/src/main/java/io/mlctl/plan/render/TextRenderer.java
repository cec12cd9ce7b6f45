package io.mlctl.plan.render;

import io.mlctl.plan.AttributeChange;
import io.mlctl.plan.Change;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Plan;
import io.mlctl.plan.PolicyResult;
import io.mlctl.spec.Values;
import java.util.Map;

/** terraform-style plan text; ANSI colors only when asked (a terminal), plain in a pipe. */
public final class TextRenderer {
    private final boolean color;

    public TextRenderer(boolean color) {
        this.color = color;
    }

    private String c(String code, String s) {
        return color ? "\u001b[" + code + "m" + s + "\u001b[0m" : s;
    }

    String green(String s) { return c("32", s); }
    String yellow(String s) { return c("33", s); }
    String red(String s) { return c("31", s); }
    String bold(String s) { return c("1", s); }

    public String render(Plan plan) {
        StringBuilder b = new StringBuilder();
        String where = plan.environment() + " (" + plan.provider() + ", " + plan.where() + ")";
        if (!plan.hasChanges()) {
            b.append(bold("No changes.")).append(" Environment ").append(where).append(" matches the spec")
                .append(plan.unchanged().isEmpty() ? "" : " (" + plan.unchanged().size() + " resources)").append(".\n");
            plan.cost().ifPresent(e -> b.append(bold("Cost:")).append(' ').append(CostText.current(e.after())).append('\n'));
            placements(b, plan);
            policies(b, plan);
            targeting(b, plan);
            return b.toString();
        }
        b.append("mlctl will perform the following actions in environment ").append(bold(where)).append(":\n\n");
        for (Change ch : plan.changes()) {
            // A component shows as what it is (subnet "ml-vpc/training"), inside its resource's cloud id.
            String type = ch.address().isComponent() ? ch.address().component().substring(0, ch.address().component().indexOf('.')) : ch.address().type().id();
            String name = ch.address().isComponent()
                ? ch.address().name() + "/" + ch.address().component().substring(ch.address().component().indexOf('.') + 1) : ch.address().name();
            switch (ch.action()) {
                case CREATE -> {
                    Change.Create cr = (Change.Create) ch;
                    b.append(bold("  # " + cr.address() + " will be created")).append('\n');
                    cost(b, plan, ch);
                    b.append(green("  +")).append(" ").append(type).append(" \"").append(name).append("\" {\n");
                    attributes(b, cr.after(), green("+"));
                }
                case UPDATE -> {
                    Change.Update up = (Change.Update) ch;
                    b.append(bold("  # " + up.address() + " will be updated in place")).append('\n');
                    cost(b, plan, ch);
                    b.append(yellow("  ~")).append(" ").append(type).append(" \"").append(name).append("\" {\n");
                    b.append("        id = ").append(up.cloudId()).append('\n');
                    for (AttributeChange a : up.attributes()) change(b, a);
                }
                case REPLACE -> {
                    Change.Replace rp = (Change.Replace) ch;
                    b.append(bold("  # " + rp.address() + " must be replaced")).append(" (").append(rp.reason()).append(")\n");
                    cost(b, plan, ch);
                    b.append(red("-/+")).append(" ").append(type).append(" \"").append(name).append("\" {\n");
                    if (rp.address().isComponent()) b.append("        in = ").append(rp.cloudId()).append('\n');
                    else b.append("        id = ").append(rp.cloudId()).append(" -> (known after apply)\n");
                    for (AttributeChange a : rp.attributes()) change(b, a);
                }
                case IMPORT -> {
                    // As terraform shows an import: no sign when adoption changes nothing, an update's "~" when it does.
                    Change.Import im = (Change.Import) ch;
                    boolean changes = !im.attributes().isEmpty();
                    b.append(bold("  # " + im.address() + " will be imported" + (changes ? " and updated in place" : ""))).append('\n');
                    cost(b, plan, ch);
                    b.append(changes ? yellow("  ~") : "   ").append(" ").append(type).append(" \"").append(name).append("\" {\n");
                    b.append("        id = ").append(im.cloudId()).append('\n');
                    for (AttributeChange a : im.attributes()) change(b, a);
                }
                case DELETE -> {
                    Change.Delete dl = (Change.Delete) ch;
                    b.append(bold("  # " + dl.address() + " will be destroyed")).append(" (").append(dl.reason()).append(")\n");
                    cost(b, plan, ch);
                    b.append(red("  -")).append(" ").append(type).append(" \"").append(name).append("\" {\n");
                    b.append(dl.address().isComponent() ? "        in = " : "        id = ").append(dl.cloudId()).append('\n');
                }
            }
            b.append("    }\n\n");
        }
        b.append(bold(plan.summary().sentence())).append('\n');
        plan.cost().ifPresent(e -> costs(b, e));
        placements(b, plan);
        for (String w : plan.warnings()) b.append('\n').append(yellow("Warning: ")).append(w).append('\n');
        policies(b, plan);
        targeting(b, plan);
        return b.toString();
    }

    /** Under a resource's heading, as a comment: what it costs a month before and after this change. */
    private static void cost(StringBuilder b, Plan plan, Change change) {
        CostText.of(plan, change).ifPresent(r -> b.append("  # cost: ").append(CostText.change(r.before(), r.after())).append('\n'));
    }

    /** After the summary: the environment's totals and the delta, what had no price, and what the numbers assume. */
    private void costs(StringBuilder b, CostEstimate e) {
        b.append('\n').append(bold("Cost:")).append(' ').append(CostText.total(e)).append('\n');
        for (String u : CostText.unknown(e)) b.append("  ").append(yellow("not priced:")).append(' ').append(u).append(" (left out of the totals)\n");
        for (String a : e.assumptions()) b.append("  - ").append(a).append('\n');
    }

    /** Only what the plan breaks (for plan --quiet, which shows a denied plan's reasons and nothing else of it). */
    public String policies(Plan plan) {
        StringBuilder b = new StringBuilder();
        policies(b, plan);
        return b.length() > 0 ? b.substring(1) : "";
    }

    /** How each machineType: auto was resolved: the machine type chosen, its price and why, then the alternatives, cheapest first. */
    private void placements(StringBuilder b, Plan plan) {
        if (plan.placements().isEmpty()) return;
        b.append('\n').append(bold("Placement (machineType: auto):")).append('\n');
        for (io.mlctl.plan.Placement p : plan.placements()) {
            b.append("  ").append(PlacementText.where(p)).append(": ").append(PlacementText.chosen(p)).append("\n    ").append(p.reason()).append('\n');
            for (io.mlctl.plan.Placement.Option o : p.alternatives()) {
                b.append("    - ").append(o.describe()).append(": ").append(PlacementText.price(p, o.monthly())).append('\n');
            }
        }
    }

    /** The policies the plan breaks, denials first; a denied plan says that apply will refuse it. */
    private void policies(StringBuilder b, Plan plan) {
        if (plan.policies().isEmpty()) return;
        b.append('\n');
        for (PolicyResult r : Policies.ordered(plan)) {
            b.append(r.denies() ? red("Error: ") : yellow("Warning: ")).append(Policies.describe(r, plan)).append('\n');
        }
        if (plan.denied()) b.append('\n').append(bold(red(Policies.deniedLine(plan)))).append('\n');
    }

    /** As terraform does, after the plan: a targeted plan may not show every change the spec asks for. */
    private void targeting(StringBuilder b, Plan plan) {
        if (!plan.warnsOfTargeting()) return;
        b.append('\n').append(yellow("Warning: ")).append(bold(Targeting.TITLE)).append('\n');
        for (String p : Targeting.paragraphs(plan)) b.append('\n').append(p).append('\n');
    }

    private void attributes(StringBuilder b, Map<String, Object> attrs, String sign) {
        int width = attrs.keySet().stream().mapToInt(String::length).max().orElse(0);
        attrs.forEach((k, v) -> b.append("      ").append(sign).append(' ').append(pad(k, width)).append(" = ").append(Values.render(v)).append('\n'));
    }

    /** Only what differs: a change inside a list shows as the element's changed fields (see {@link NestedChanges}). */
    private void change(StringBuilder b, AttributeChange change) {
        for (NestedChanges.Line a : NestedChanges.of(change)) {
            String line;
            if (a.before() == null) line = green("+") + " " + a.path() + " = " + Values.render(a.after());
            else if (a.after() == null) line = red("-") + " " + a.path() + " = " + Values.render(a.before()) + " -> null";
            else line = yellow("~") + " " + a.path() + " = " + Values.render(a.before()) + " -> " + Values.render(a.after());
            b.append("      ").append(line);
            if (a.forcesReplacement()) b.append(red(" # forces replacement"));
            b.append('\n');
        }
    }

    private static String pad(String s, int w) {
        return s + " ".repeat(Math.max(0, w - s.length()));
    }
}
