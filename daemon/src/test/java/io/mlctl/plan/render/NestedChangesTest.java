package io.mlctl.plan.render;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.plan.AttributeChange;
import io.mlctl.spec.Values;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NestedChangesTest {
    /** Plan values are sorted maps (as the planner freezes them), so renderings are stable. */
    private static Map<String, Object> sorted(Object... kv) {
        Map<String, Object> m = new java.util.TreeMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static Map<String, Object> pool(String name, int max) {
        return sorted("name", name, "machineType", "g5.xlarge", "min", 1, "max", max);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
            Arguments.of("one named element's field: by name, that field only",
                new AttributeChange("nodePools", List.of(pool("cpu", 2), pool("gpu", 4)), List.of(pool("cpu", 2), pool("gpu", 8)), false),
                List.of("nodePools[gpu].max: 4 -> 8")),
            Arguments.of("a named element added and one removed",
                new AttributeChange("subnets", List.of(sorted("name", "a", "cidr", "10.0.1.0/24")), List.of(sorted("name", "b", "cidr", "10.0.2.0/24")), false),
                List.of("subnets[a]: {cidr = \"10.0.1.0/24\", name = \"a\"} -> null", "subnets[b]: null -> {cidr = \"10.0.2.0/24\", name = \"b\"}")),
            Arguments.of("the same named elements in another order: the order",
                new AttributeChange("firewall", List.of(sorted("name", "a"), sorted("name", "b")), List.of(sorted("name", "b"), sorted("name", "a")), false),
                List.of("firewall (order): [\"a\", \"b\"] -> [\"b\", \"a\"]")),
            Arguments.of("named elements reordered while one changed and one was added: both, and the order",
                new AttributeChange("nodePools", List.of(pool("cpu", 2), pool("gpu", 4)), List.of(pool("gpu", 8), pool("cpu", 2), pool("tpu", 1)), false),
                List.of("nodePools[gpu].max: 4 -> 8",
                    "nodePools[tpu]: null -> {machineType = \"g5.xlarge\", max = 1, min = 1, name = \"tpu\"}",
                    "nodePools (order): [\"cpu\", \"gpu\"] -> [\"gpu\", \"cpu\", \"tpu\"]")),
            Arguments.of("an element added at the end is not a reordering",
                new AttributeChange("subnets", List.of(sorted("name", "a")), List.of(sorted("name", "a"), sorted("name", "b")), false),
                List.of("subnets[b]: null -> {name = \"b\"}")),
            Arguments.of("unnamed objects: by index, the changed field, and a rule added",
                new AttributeChange("lifecycle", List.of(sorted("afterDays", 30, "storageClass", "cold")),
                    List.of(sorted("afterDays", 30, "storageClass", "archive"), sorted("noncurrentExpireDays", 90)), false),
                List.of("lifecycle[0].storageClass: \"cold\" -> \"archive\"", "lifecycle[1]: null -> {noncurrentExpireDays = 90}")),
            Arguments.of("a list of plain values is a value: whole",
                new AttributeChange("grants[0].actions", List.of("storage.read"), List.of("storage.read", "storage.write"), false),
                List.of("grants[0].actions: [\"storage.read\"] -> [\"storage.read\", \"storage.write\"]")),
            Arguments.of("from no list at all: each element",
                new AttributeChange("lifecycle", List.of(), List.of(sorted("afterDays", 30)), false),
                List.of("lifecycle[0]: null -> {afterDays = 30}")),
            Arguments.of("a forced replacement marks every line it shows",
                new AttributeChange("nodePools", List.of(pool("gpu", 4)), List.of(sorted("name", "gpu", "machineType", "g5.2xlarge", "min", 1, "max", 8)), true),
                List.of("nodePools[gpu].machineType: \"g5.xlarge\" -> \"g5.2xlarge\" (forces)", "nodePools[gpu].max: 4 -> 8 (forces)")),
            Arguments.of("a nested object: its changed key",
                new AttributeChange("tags", sorted("team", "ml", "cost", "a"), sorted("team", "ml", "cost", "b"), false),
                List.of("tags.cost: \"a\" -> \"b\"")),
            Arguments.of("a plain value: as it is",
                new AttributeChange("versioning", true, false, false), List.of("versioning: true -> false")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void showsOnlyWhatDiffers(String reason, AttributeChange change, List<String> expected) {
        assertThat(NestedChanges.of(change).stream().map(l -> l.path() + ": " + Values.render(l.before()) + " -> " + Values.render(l.after())
            + (l.forcesReplacement() ? " (forces)" : "")).toList()).as(reason).containsExactlyElementsOf(expected);
    }
}
