package io.mlctl.plan;

/** One attribute path whose value differs between cloud and spec. Null means absent. */
public record AttributeChange(String path, Object before, Object after, boolean forcesReplacement) {
}
