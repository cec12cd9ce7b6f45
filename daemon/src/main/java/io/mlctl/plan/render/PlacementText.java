package io.mlctl.plan.render;

import io.mlctl.plan.Placement;
import java.util.Optional;

/** What the text and Markdown renderers say alike about how {@code machineType: auto} was resolved. */
final class PlacementText {
    private PlacementText() {
    }

    /** "instance.trainer", or "kubernetes_cluster.ml nodePools[gpu]" for a node pool. */
    static String where(Placement p) {
        return p.address() + (p.path().equals("machineType") ? "" : " " + p.path().substring(0, p.path().lastIndexOf('.')));
    }

    /** "$2,233.80/month", "$1,949.10/month per node", "no price" (a kept machine type the prices no longer know). */
    static String price(Placement p, Optional<Double> monthly) {
        return monthly.map(m -> CostText.money(m) + "/month" + (p.unit().equals("instance") ? "" : " per " + p.unit())).orElse("no price");
    }

    /** "p3.2xlarge (spot) at $662.70/month". */
    static String chosen(Placement p) {
        return p.chosen().describe() + (p.spot() ? " (spot)" : "") + " at " + price(p, p.chosen().monthly());
    }
}
