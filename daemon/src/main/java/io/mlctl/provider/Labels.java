package io.mlctl.provider;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The environment's labels as tags, without touching anyone else's. mlctl owns its marker and the
 * labels it set; it remembers which ones in one more tag ({@code mlctl-labels}), so a label removed
 * from the spec is removed from the cloud while a cost-allocation or backup tag someone else added
 * is never reported as drift nor stripped.
 */
public final class Labels {
    public static final String MANAGED_KEYS_TAG = "mlctl-labels";
    private final OwnershipMarker marker;
    private final String separator;

    public Labels(OwnershipMarker marker, String separator) {
        this.marker = marker;
        this.separator = separator;
    }

    /** The labels mlctl manages on a resource, as its cloud tags show them. */
    public Map<String, String> observed(Map<String, String> cloudTags) {
        Map<String, String> out = new TreeMap<>();
        for (String k : managedKeys(cloudTags)) {
            if (cloudTags.containsKey(k)) out.put(k, cloudTags.get(k));
        }
        return out;
    }

    public Set<String> managedKeys(Map<String, String> cloudTags) {
        String v = cloudTags.getOrDefault(MANAGED_KEYS_TAG, "");
        Set<String> keys = new TreeSet<>();
        if (!v.isBlank()) keys.addAll(Arrays.asList(v.split(java.util.regex.Pattern.quote(separator))));
        return keys;
    }

    /** Everything to write at creation: marker, labels, and the record of which keys are labels. */
    public Map<String, String> atCreate(Map<String, String> mark, Map<String, String> labels) {
        Map<String, String> out = new TreeMap<>(labels);
        out.putAll(mark);
        if (!labels.isEmpty()) out.put(MANAGED_KEYS_TAG, String.join(separator, new TreeSet<>(labels.keySet())));
        return out;
    }

    /** Tags to set and keys to remove so the resource carries {@code want}; other keys are left alone. */
    public record Sync(Map<String, String> set, Set<String> remove) {
    }

    public Optional<Sync> sync(Map<String, String> cloudTags, Map<String, String> mark, Map<String, String> want) {
        Map<String, String> set = new TreeMap<>();
        Set<String> remove = new TreeSet<>();
        want.forEach((k, v) -> {
            if (!v.equals(cloudTags.get(k))) set.put(k, v);
        });
        // The marker last: no label can stand in for it.
        mark.forEach((k, v) -> {
            if (!v.equals(cloudTags.get(k))) set.put(k, v);
            else set.remove(k);
        });
        for (String k : managedKeys(cloudTags)) {
            if (!want.containsKey(k) && cloudTags.containsKey(k) && !marker.isMarkerKey(k)) remove.add(k);
        }
        String keys = String.join(separator, new TreeSet<>(want.keySet()));
        if (!keys.equals(cloudTags.getOrDefault(MANAGED_KEYS_TAG, ""))) {
            if (keys.isEmpty()) remove.add(MANAGED_KEYS_TAG);
            else set.put(MANAGED_KEYS_TAG, keys);
        }
        return set.isEmpty() && remove.isEmpty() ? Optional.empty() : Optional.of(new Sync(set, remove));
    }

    /** The labels the spec asks for: its {@code tags} attribute. */
    @SuppressWarnings("unchecked")
    public static Map<String, String> wanted(Map<String, Object> attrs) {
        Map<String, String> out = new TreeMap<>();
        if (attrs.get("tags") instanceof Map<?, ?> m) ((Map<String, Object>) m).forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    /** Observed attributes with, under "tags", only the labels mlctl manages (never anyone else's). */
    public Map<String, Object> withObserved(Map<String, Object> attrs, Map<String, String> cloudTags) {
        Map<String, Object> out = new TreeMap<>(attrs);
        Map<String, String> labels = observed(cloudTags);
        if (!labels.isEmpty()) out.put("tags", labels);
        return out;
    }

    /**
     * The whole tag map a resource should carry after a sync: its current tags with the marker and exactly
     * the wanted labels; tags someone else set stay. For clouds whose APIs replace tags as a whole.
     */
    public Optional<Map<String, String>> whole(Map<String, String> cloudTags, Map<String, String> mark, Map<String, Object> wantAttrs) {
        return sync(cloudTags, mark, wanted(wantAttrs)).map(s -> {
            Map<String, String> out = new TreeMap<>(cloudTags);
            s.remove().forEach(out::remove);
            out.putAll(s.set());
            return out;
        });
    }

    /** The marker's own keys among {@code cloudTags} (to check ownership of what a read returned). */
    public Map<String, String> markerOf(Map<String, String> cloudTags) {
        Map<String, String> out = new TreeMap<>();
        cloudTags.forEach((k, v) -> {
            if (marker.isMarkerKey(k)) out.put(k, v);
        });
        return out;
    }
}
