package io.mlctl.plan.render;

import io.mlctl.plan.Plan;
import io.mlctl.spec.Address;
import java.util.stream.Collectors;

/** terraform's "Resource targeting is in effect" warning, worded for mlctl; the text and Markdown renderers share it. */
final class Targeting {
    static final String TITLE = "Resource targeting is in effect";

    private Targeting() {
    }

    /** The warning's paragraphs, for a plan limited by --target. */
    static java.util.List<String> paragraphs(Plan plan) {
        String targets = plan.targets().stream().map(Address::toString).collect(Collectors.joining(", "));
        return java.util.List.of(
            "You are creating a plan with the --target option (" + targets + "), which means that the result of this plan may not "
                + "represent all of the changes requested by the current spec.",
            "The --target option is not for routine use, and is provided only for exceptional situations such as recovering from "
                + "errors or mistakes.");
    }
}
