package io.mlctl.plan.render;

import io.mlctl.plan.AttributeChange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What a person reads of an attribute change: only the parts that differ. A change inside a list of objects shows as the
 * element's changed fields ({@code lifecycle[0].storageClass: "archive" -> "cold"}), not the whole list twice; elements
 * of a list of named objects are matched by name ({@code nodePools[gpu].max}), others by index ({@code grants[0]}).
 * Lists of plain values (ports, sources, actions) are values and show whole. The plan's data, and its JSON, keep the
 * full before and after; this is only how the text and Markdown renderers show it.
 */
final class NestedChanges {
    private NestedChanges() {
    }

    /** One line of a rendered diff. Null means absent. */
    record Line(String path, Object before, Object after, boolean forcesReplacement) {
    }

    static List<Line> of(AttributeChange a) {
        List<Line> out = new ArrayList<>();
        expand(a.path(), a.before(), a.after(), a.forcesReplacement(), out);
        return out;
    }

    private static void expand(String path, Object before, Object after, boolean forces, List<Line> out) {
        if (Objects.equals(before, after)) return;
        if (before instanceof Map<?, ?> b && after instanceof Map<?, ?> a) {
            Set<String> keys = new java.util.TreeSet<>();
            b.keySet().forEach(k -> keys.add(String.valueOf(k)));
            a.keySet().forEach(k -> keys.add(String.valueOf(k)));
            for (String k : keys) expand(path + "." + k, b.get(k), a.get(k), forces, out);
        } else if (before instanceof List<?> b && after instanceof List<?> a && objects(b) && objects(a)) {
            Map<String, Object> bn = named(b);
            Map<String, Object> an = named(a);
            if (bn != null && an != null) {
                Set<String> names = new LinkedHashSet<>(bn.keySet());
                names.addAll(an.keySet());
                for (String n : names) expand(path + "[" + n + "]", bn.get(n), an.get(n), forces, out);
                // Elements on both sides in another order: the order changed too (firewall rules apply in order), also when
                // some of them changed, were added or were removed.
                List<String> kept = bn.keySet().stream().filter(an::containsKey).toList();
                if (!kept.equals(an.keySet().stream().filter(bn::containsKey).toList())) {
                    out.add(new Line(path + " (order)", List.copyOf(bn.keySet()), List.copyOf(an.keySet()), forces));
                }
            } else {
                for (int i = 0; i < Math.max(b.size(), a.size()); i++) {
                    expand(path + "[" + i + "]", i < b.size() ? b.get(i) : null, i < a.size() ? a.get(i) : null, forces, out);
                }
            }
        } else {
            out.add(new Line(path, before, after, forces));
        }
    }

    /** A list whose elements are all objects (an empty list is one too: every element of the other side shows). */
    private static boolean objects(List<?> l) {
        return l.stream().allMatch(e -> e instanceof Map<?, ?>);
    }

    /** The elements by name, in order, if every one has a distinct name; else null. */
    private static Map<String, Object> named(List<?> l) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Object e : l) {
            if (!(((Map<?, ?>) e).get("name") instanceof String n) || m.put(n, e) != null) return null;
        }
        return m;
    }
}
