package io.mlctl.plan.render;

import io.mlctl.plan.Change;
import io.mlctl.plan.CostEstimate;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Values;
import java.util.List;

/** A plan as a pull-request comment: summary, a table of changes, and a collapsible diff. */
public final class MarkdownRenderer {
    public String render(Plan plan) {
        StringBuilder b = new StringBuilder();
        b.append("### mlctl plan: `").append(plan.environment()).append("` (").append(plan.provider()).append(", ")
            .append(plan.where()).append(")\n\n");
        if (!plan.hasChanges()) {
            b.append("**No changes.** The environment matches the spec (").append(plan.unchanged().size()).append(" resources).\n");
            plan.cost().ifPresent(e -> b.append("\n**Cost:** ").append(escape(CostText.current(e.after()))).append('\n'));
            if (!plan.placements().isEmpty()) b.append('\n');
            placements(b, plan);
            if (plan.warnsOfTargeting() || !plan.policies().isEmpty()) b.append('\n');
            policies(b, plan);
            targeting(b, plan);
            return b.toString();
        }
        b.append("**").append(plan.summary().sentence()).append("**\n\n");
        plan.cost().ifPresent(e -> costs(b, e));
        placements(b, plan);
        policies(b, plan);
        targeting(b, plan);
        for (String w : plan.warnings()) b.append("> **Warning:** ").append(w).append("\n\n");
        // The cost column only when the plan was priced (a plan saved before costs were is not).
        boolean priced = plan.cost().isPresent();
        b.append(priced ? "| Action | Resource | Cloud id | Monthly cost | Why |\n|---|---|---|---|---|\n" : "| Action | Resource | Cloud id | Why |\n|---|---|---|---|\n");
        for (Change c : plan.changes()) {
            b.append("| ").append(c.action().id()).append(" | `").append(c.address()).append("` | ")
                .append(c.cloudId() == null ? "(new)" : "`" + c.cloudId() + "`").append(" | ");
            if (priced) b.append(CostText.of(plan, c).map(r -> escape(CostText.change(r.before(), r.after()))).orElse("")).append(" | ");
            b.append(escape(c.reason())).append(" |\n");
        }
        b.append("\n<details><summary>Attribute changes</summary>\n\n```diff\n");
        for (Change c : plan.changes()) {
            switch (c.action()) {
                case CREATE -> {
                    Change.Create cr = (Change.Create) c;
                    b.append("+ ").append(cr.address()).append('\n');
                    cr.after().forEach((k, v) -> b.append("+     ").append(k).append(" = ").append(Values.render(v)).append('\n'));
                }
                case UPDATE -> {
                    Change.Update up = (Change.Update) c;
                    b.append("! ").append(up.address()).append('\n');
                    diff(b, up);
                }
                case REPLACE -> {
                    Change.Replace rp = (Change.Replace) c;
                    b.append("- ").append(rp.address()).append(" (replace: ").append(rp.reason()).append(")\n");
                    diff(b, rp);
                }
                case IMPORT -> {
                    // "!" as an update: nothing is created or deleted; the lines below are what adoption changes.
                    b.append("! ").append(c.address()).append(" (import ").append(c.cloudId()).append(")\n");
                    diff(b, c);
                }
                case DELETE -> b.append("- ").append(c.address()).append(" (").append(c.reason()).append(")\n");
            }
        }
        b.append("```\n\n</details>\n");
        return b.toString();
    }

    /** Only what differs: a change inside a list shows as the element's changed fields (see {@link NestedChanges}). */
    private static void diff(StringBuilder b, Change c) {
        for (NestedChanges.Line a : c.attributes().stream().flatMap(x -> NestedChanges.of(x).stream()).toList()) {
            if (a.before() != null) b.append("-     ").append(a.path()).append(" = ").append(Values.render(a.before())).append('\n');
            if (a.after() != null) {
                b.append("+     ").append(a.path()).append(" = ").append(Values.render(a.after()))
                    .append(a.forcesReplacement() ? "   # forces replacement" : "").append('\n');
            }
        }
    }

    /** Under the summary: the totals and the delta, then what had no price and the assumptions, folded. */
    private static void costs(StringBuilder b, CostEstimate e) {
        b.append("**Cost:** ").append(escape(CostText.total(e))).append("\n\n");
        List<String> unknown = CostText.unknown(e);
        if (!unknown.isEmpty()) b.append("Not priced (left out of the totals): ").append(escape(String.join("; ", unknown))).append("\n\n");
        b.append("<details><summary>Cost assumptions</summary>\n\n");
        for (String a : e.assumptions()) b.append("- ").append(escape(a)).append('\n');
        b.append("\n</details>\n\n");
    }

    /** How each machineType: auto was resolved, with the alternatives a reviewer may weigh, cheapest first. */
    private static void placements(StringBuilder b, Plan plan) {
        if (plan.placements().isEmpty()) return;
        b.append("**Placement** (`machineType: auto`)\n\n| Resource | Chosen | Why | Alternatives |\n|---|---|---|---|\n");
        for (io.mlctl.plan.Placement p : plan.placements()) {
            String others = String.join("<br>", p.alternatives().stream().map(o -> o.describe() + ": " + PlacementText.price(p, o.monthly())).toList());
            b.append("| `").append(PlacementText.where(p)).append("` | ").append(escape(PlacementText.chosen(p))).append(" | ")
                .append(escape(p.reason())).append(" | ").append(others.isEmpty() ? "(none)" : escape(others)).append(" |\n");
        }
        b.append('\n');
    }

    /** On top, where a reviewer looks first: what the plan breaks, and whether that stops it. */
    private static void policies(StringBuilder b, Plan plan) {
        if (plan.policies().isEmpty()) return;
        if (plan.denied()) b.append("> **").append(Policies.deniedLine(plan)).append("**\n>\n");
        for (io.mlctl.plan.PolicyResult r : Policies.ordered(plan)) {
            b.append("> ").append(r.denies() ? "**Denied:** " : "**Warning:** ").append(text(Policies.describe(r, plan))).append("  \n");
        }
        b.append('\n');
    }

    /** A reviewer must see that this plan is not the whole environment's. */
    private static void targeting(StringBuilder b, Plan plan) {
        if (!plan.warnsOfTargeting()) return;
        b.append("> **Warning: ").append(Targeting.TITLE).append("**\n");
        for (String p : Targeting.paragraphs(plan)) b.append(">\n> ").append(p.replace("--target", "`--target`")).append('\n');
        b.append('\n');
    }

    /** A policy author's words as plain text in the comment: Markdown and HTML in them do not change its layout. */
    private static String text(String s) {
        return s.replaceAll("([\\\\`*_\\[\\]<>|#])", "\\\\$1");
    }

    private static String escape(String s) {
        return s.replace("|", "\\|");
    }
}
