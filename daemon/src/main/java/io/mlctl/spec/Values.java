package io.mlctl.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Attribute values are plain immutable Java data: String, Long, Double, Boolean, List, Map (keys
 * sorted). Deep equality is then ordinary {@code equals}, which is what the planner compares with.
 */
public final class Values {
    private Values() {
    }

    public static Object fromJson(JsonNode node) {
        if (node == null || node.isNull() || node.isMissingNode()) return null;
        if (node.isObject()) {
            Map<String, Object> m = new TreeMap<>();
            for (Map.Entry<String, JsonNode> e : node.properties()) {
                Object v = fromJson(e.getValue());
                if (v != null) m.put(e.getKey(), v);
            }
            return Collections.unmodifiableMap(m);
        }
        if (node.isArray()) {
            List<Object> l = new ArrayList<>(node.size());
            for (JsonNode n : node) l.add(fromJson(n));
            return Collections.unmodifiableList(l);
        }
        if (node.isBoolean()) return node.booleanValue();
        if (node.isIntegralNumber()) return node.longValue();
        if (node.isNumber()) return node.doubleValue();
        return node.asString();
    }

    public static JsonNode toJson(Object value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value == null) return f.nullNode();
        if (value instanceof Map<?, ?> m) {
            ObjectNode o = f.objectNode();
            m.forEach((k, v) -> o.set(String.valueOf(k), toJson(v)));
            return o;
        }
        if (value instanceof List<?> l) {
            ArrayNode a = f.arrayNode();
            l.forEach(v -> a.add(toJson(v)));
            return a;
        }
        if (value instanceof Boolean b) return f.booleanNode(b);
        if (value instanceof Integer i) return f.numberNode(i.longValue());
        if (value instanceof Long l) return f.numberNode(l);
        if (value instanceof Double d) return f.numberNode(d);
        return f.stringNode(String.valueOf(value));
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> freezeMap(Map<String, ?> map) {
        return (Map<String, Object>) freeze(map);
    }

    /** A map {@link #freeze} made: sorted, immutable all the way down, so freezing it again is free. */
    private static final class FrozenMap extends java.util.AbstractMap<String, Object> {
        private final TreeMap<String, Object> sorted;
        private final Map<String, Object> delegate;
        private final boolean plain;

        FrozenMap(TreeMap<String, Object> m) {
            this.sorted = m;
            this.delegate = Collections.unmodifiableSortedMap(m);
            this.plain = m.values().stream().allMatch(Values::isPlain);
        }

        /** As {@link java.util.AbstractMap#equals}; two frozen maps (both sorted by key) are compared entry by entry in order. */
        @Override
        public boolean equals(Object o) {
            if (o == this) return true;
            if (!(o instanceof FrozenMap f)) return super.equals(o);
            if (f.sorted.size() != sorted.size()) return false;
            java.util.Iterator<Map.Entry<String, Object>> other = f.sorted.entrySet().iterator();
            for (Map.Entry<String, Object> e : sorted.entrySet()) {
                Map.Entry<String, Object> x = other.next();
                if (!e.getKey().equals(x.getKey()) || !e.getValue().equals(x.getValue())) return false;
            }
            return true;
        }

        @Override
        public int hashCode() {
            return super.hashCode();
        }

        @Override
        public java.util.Set<Map.Entry<String, Object>> entrySet() {
            return delegate.entrySet();
        }

        @Override
        public Object get(Object key) {
            return delegate.get(key);
        }

        @Override
        public boolean containsKey(Object key) {
            return delegate.containsKey(key);
        }

        @Override
        public int size() {
            return delegate.size();
        }
    }

    private static final class FrozenList extends java.util.AbstractList<Object> implements java.util.RandomAccess {
        private final Object[] items;
        private final boolean plain;

        FrozenList(Object[] items) {
            this.items = items;
            this.plain = java.util.Arrays.stream(items).allMatch(Values::isPlain);
        }

        /** As {@link java.util.AbstractList#equals}; two frozen lists compare their arrays. */
        @Override
        public boolean equals(Object o) {
            if (o == this) return true;
            return o instanceof FrozenList f ? java.util.Arrays.equals(items, f.items) : super.equals(o);
        }

        @Override
        public int hashCode() {
            return super.hashCode();
        }

        @Override
        public Object get(int i) {
            return items[i];
        }

        @Override
        public int size() {
            return items.length;
        }
    }

    /**
     * Whether {@code value} is a string, long, double or boolean, or a map or list {@link #freeze} made that holds only those
     * (and such maps and lists): nothing in it is another kind of number or object. Constant time for a frozen map or list.
     */
    public static boolean isPlain(Object value) {
        if (value instanceof FrozenMap m) return m.plain;
        if (value instanceof FrozenList l) return l.plain;
        return value instanceof String || value instanceof Long || value instanceof Double || value instanceof Boolean;
    }

    /** Deep copy into unmodifiable sorted maps and lists; integers widen to Long. Already-frozen values are returned as they are. */
    public static Object freeze(Object value) {
        if (value instanceof FrozenMap || value instanceof FrozenList) return value;
        if (value instanceof Map<?, ?> m) {
            TreeMap<String, Object> out = new TreeMap<>();
            m.forEach((k, v) -> {
                if (v != null) out.put(String.valueOf(k), freeze(v));
            });
            return new FrozenMap(out);
        }
        if (value instanceof List<?> l) {
            Object[] out = new Object[l.size()];
            int i = 0;
            for (Object v : l) out[i++] = freeze(v);
            return new FrozenList(out);
        }
        if (value instanceof Integer i) return i.longValue();
        return value;
    }

    /** Compact one-line rendering for plans: strings quoted, maps as {k = v}. */
    public static String render(Object value) {
        if (value == null) return "null";
        if (value instanceof String s) return "\"" + s + "\"";
        if (value instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) b.append(", ");
                b.append(e.getKey()).append(" = ").append(render(e.getValue()));
                first = false;
            }
            return b.append('}').toString();
        }
        if (value instanceof List<?> l) {
            StringBuilder b = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) b.append(", ");
                b.append(render(l.get(i)));
            }
            return b.append(']').toString();
        }
        return String.valueOf(value);
    }
}
