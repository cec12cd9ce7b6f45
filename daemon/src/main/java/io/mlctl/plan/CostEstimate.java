package io.mlctl.plan;

import io.mlctl.spec.Address;
import java.util.List;
import java.util.Optional;

/**
 * What a plan does to the monthly bill, in USD: each resource's cost before (as the cloud holds it) and after the plan, the
 * environment's totals and the assumptions behind them. Costs are ranges ({@code low} with autoscaled pools and endpoints
 * at their minimum, {@code high} at their maximum). Data only: the cost package computes it, renderers show it.
 */
public record CostEstimate(String currency, List<ResourceCost> resources, Amount before, Amount after, List<String> assumptions) {
    public CostEstimate {
        resources = List.copyOf(resources);
        assumptions = List.copyOf(assumptions);
    }

    /**
     * A monthly amount: {@code usageBased} when part of it depends on use the spec does not state (a bucket without a size
     * hint), {@code unknown} naming what had no price (left out of low and high, never counted as 0).
     */
    public record Amount(double low, double high, boolean usageBased, List<String> unknown) {
        public static final Amount ZERO = new Amount(0, 0, false, List.of());

        public Amount {
            unknown = List.copyOf(unknown);
        }

        public boolean known() {
            return unknown.isEmpty();
        }
    }

    /** One resource: absent before for a create (or an import's first month under mlctl), absent after for a delete. */
    public record ResourceCost(Address address, Optional<Amount> before, Optional<Amount> after) {
    }

    /** After minus before, at the low and the high ends. */
    public double deltaLow() {
        return after.low() - before.low();
    }

    public double deltaHigh() {
        return after.high() - before.high();
    }

    public Optional<ResourceCost> of(Address address) {
        return resources.stream().filter(r -> r.address().equals(address)).findFirst();
    }
}
