package io.mlctl.spec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Puts attributes in one canonical form so that order a cloud does not keep (subnets, rules, grants,
 * ports) never shows as a difference. Applied to the spec and to every observed resource alike.
 */
public final class Normalizer {
    private static final List<String> NAMED_LISTS = List.of("subnets", "firewall", "nodePools");
    private static final List<String> SETS = List.of("ports", "sources", "actions");

    private Normalizer() {
    }

    public static Map<String, Object> normalize(Map<String, Object> attrs) {
        return Values.freezeMap(normalizeMap(attrs));
    }

    /** Two grants on one resource are one grant of both action sets (clouds keep one policy per resource). */
    @SuppressWarnings("unchecked")
    private static List<Object> mergeGrants(List<Object> grants) {
        Map<Object, TreeSet<Object>> byResource = new TreeMap<>(Comparator.comparing(String::valueOf));
        for (Object g : grants) {
            if (!(g instanceof Map<?, ?> m)) return grants;
            TreeSet<Object> actions = byResource.computeIfAbsent(m.get("resource"), r -> new TreeSet<>(Comparator.comparing(String::valueOf)));
            if (m.get("actions") instanceof List<?> l) actions.addAll(l);
        }
        List<Object> out = new ArrayList<>();
        byResource.forEach((r, a) -> {
            Map<String, Object> g = new TreeMap<>();
            g.put("resource", r);
            g.put("actions", new ArrayList<>(a));
            out.add(g);
        });
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> normalizeMap(Map<String, ?> m) {
        Map<String, Object> out = new TreeMap<>();
        m.forEach((k, v) -> {
            if (v == null) return;
            Object n = v instanceof Map<?, ?> mm ? normalizeMap((Map<String, ?>) mm) : v;
            if (n instanceof List<?> l) {
                List<Object> items = new ArrayList<>();
                for (Object x : l) items.add(x instanceof Map<?, ?> xm ? normalizeMap((Map<String, ?>) xm) : x);
                if (NAMED_LISTS.contains(k)) items.sort(Comparator.comparing(x -> String.valueOf(((Map<?, ?>) x).get("name"))));
                else if (SETS.contains(k)) items = new ArrayList<>(new TreeSet<>(items.stream().map(x -> (Comparable<Object>) x).toList()));
                else if (k.equals("grants")) items = mergeGrants(items);
                else if (k.equals("lifecycle")) items.sort(Comparator.comparing(Values::render));
                n = items;
            }
            // An empty list or map says nothing more than an absent one; clouds report either.
            if (n instanceof List<?> l && l.isEmpty() || n instanceof Map<?, ?> mm && mm.isEmpty()) return;
            out.put(k, n);
        });
        return out;
    }
}
