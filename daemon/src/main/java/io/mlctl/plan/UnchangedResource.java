package io.mlctl.plan;

import io.mlctl.spec.Address;

/** A resource the plan leaves alone, with its cloud id. */
public record UnchangedResource(Address address, String cloudId) {
}
