package io.mlctl.plan;

import io.mlctl.spec.Address;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One planned action on one resource. Sealed so that every consumer (apply, renderers, codecs)
 * handles every action. {@code reason} is for humans only; apply never decides on it.
 */
public sealed interface Change permits Change.Create, Change.Update, Change.Replace, Change.Delete, Change.Import {
    Address address();

    Action action();

    /** The cloud's id of the existing resource; null for a create. */
    String cloudId();

    /** Attributes as observed; empty for a create. */
    Map<String, Object> before();

    /** Attributes as they will be; empty for a delete. */
    Map<String, Object> after();

    List<AttributeChange> attributes();

    String reason();

    /** terraform's JSON actions for this change: a replace is ["delete","create"]; an import ["update"] or ["no-op"]. */
    default List<String> primitives() {
        return action().primitives();
    }

    /** Addresses that must be applied first (for deletes: resources whose deletion must come first). */
    Set<Address> dependsOn();

    record Create(Address address, Map<String, Object> after, Set<Address> dependsOn) implements Change {
        public Create {
            after = io.mlctl.spec.Values.freezeMap(after);
            dependsOn = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(dependsOn));
        }

        public Action action() { return Action.CREATE; }
        public String cloudId() { return null; }
        public Map<String, Object> before() { return Map.of(); }
        public List<AttributeChange> attributes() { return List.of(); }
        public String reason() { return "declared in the spec, not found in the cloud"; }
    }

    record Update(Address address, String cloudId, Map<String, Object> before, Map<String, Object> after,
                  List<AttributeChange> attributes, Set<Address> dependsOn) implements Change {
        public Update {
            before = io.mlctl.spec.Values.freezeMap(before);
            after = io.mlctl.spec.Values.freezeMap(after);
            attributes = List.copyOf(attributes);
            dependsOn = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(dependsOn));
        }

        public Action action() { return Action.UPDATE; }
        public String reason() { return "attributes differ: " + String.join(", ", attributes.stream().map(AttributeChange::path).toList()); }
    }

    record Replace(Address address, String cloudId, Map<String, Object> before, Map<String, Object> after,
                   List<AttributeChange> attributes, Set<Address> dependsOn, String reason) implements Change {
        public Replace {
            before = io.mlctl.spec.Values.freezeMap(before);
            after = io.mlctl.spec.Values.freezeMap(after);
            attributes = List.copyOf(attributes);
            dependsOn = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(dependsOn));
        }

        public Action action() { return Action.REPLACE; }
    }

    /**
     * Taking over {@code cloudId}, which exists and carries no mlctl marker, as {@code address}: apply writes the marker and
     * makes {@code attributes} (the differences adoption implies; none of them forces a replacement). {@code before} is the
     * resource as read by its id.
     */
    record Import(Address address, String cloudId, Map<String, Object> before, Map<String, Object> after,
                  List<AttributeChange> attributes, Set<Address> dependsOn) implements Change {
        public Import {
            java.util.Objects.requireNonNull(cloudId, "cloudId");
            before = io.mlctl.spec.Values.freezeMap(before);
            after = io.mlctl.spec.Values.freezeMap(after);
            attributes = List.copyOf(attributes);
            dependsOn = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(dependsOn));
        }

        public Action action() { return Action.IMPORT; }
        /** As terraform writes an import: what it does to the resource besides taking it over (the "importing" object says that). */
        public List<String> primitives() { return attributes.isEmpty() ? List.of("no-op") : List.of("update"); }
        public String reason() {
            return "import of existing " + cloudId + (attributes.isEmpty() ? "" : "; attributes differ: "
                + String.join(", ", attributes.stream().map(AttributeChange::path).toList()));
        }
    }

    record Delete(Address address, String cloudId, Map<String, Object> before, Set<Address> dependsOn, String reason) implements Change {
        public Delete {
            before = io.mlctl.spec.Values.freezeMap(before);
            dependsOn = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(dependsOn));
        }

        public Action action() { return Action.DELETE; }
        public Map<String, Object> after() { return Map.of(); }
        public List<AttributeChange> attributes() { return List.of(); }
    }
}
