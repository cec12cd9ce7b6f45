package io.mlctl.provider.gcp;

import io.mlctl.provider.Labels;
import io.mlctl.provider.ResourceKind;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.util.Hashing;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** One resource type on GCP, on the shared managed-resource machinery. */
interface GcpKind extends ResourceKind<GcpClients> {
    /**
     * The environment's labels as GCP labels; the keys mlctl set are remembered in {@code mlctl-labels},
     * joined by {@code __} (label values allow no ':' or ','; the spec refuses label names holding {@code __} on GCP).
     */
    Labels LABELS = new Labels(GcpMarker.INSTANCE, "__");

    /**
     * A project-unique name, {@code <env>-<name>}; when that is longer than the API allows ({@code max}:
     * 63 for Compute and GKE, 30 for a service account id), it is cut and ends in a hash of the whole,
     * so it stays unique and stable.
     */
    static String physicalName(Environment env, String name, int max) {
        String full = env.name() + "-" + name;
        if (full.length() <= max) return full;
        String hash = Hashing.sha256Text(full).substring(0, 8);
        String head = full.substring(0, max - 9);
        while (head.endsWith("-")) head = head.substring(0, head.length() - 1);
        return head + "-" + hash;
    }

    /** Compute Engine and GKE names: {@code [a-z]([-a-z0-9]{0,61}[a-z0-9])?}. */
    static String physicalName(Environment env, String name) {
        return physicalName(env, name, 63);
    }

    /** The physical name of another resource of the environment, as for {@code address}. */
    static String physicalName(Environment env, Address address) {
        return physicalName(env, address.name());
    }

    /** A subnetwork of a spec network: {@code <env>-<network>-<subnet>}, regional. */
    static String subnetworkName(Environment env, String network, String subnet) {
        return physicalName(env, network + "-" + subnet);
    }

    /** A firewall rule of a spec network: {@code <env>-<network>-<rule>}. */
    static String firewallName(Environment env, String network, String rule) {
        return physicalName(env, network + "-" + rule);
    }

    /** A service account id: 6–30 characters. */
    static String serviceAccountId(Environment env, String identity) {
        String id = physicalName(env, identity, 30);
        // IAM wants at least 6 characters: a short one is lengthened with its hash, stable as any other.
        return id.length() >= 6 ? id : id + "-" + Hashing.sha256Text(id).substring(0, 5);
    }

    static String serviceAccountEmail(String project, String accountId) {
        return accountId + "@" + project + ".iam.gserviceaccount.com";
    }

    /** A GKE cluster name: at most 40 characters. */
    static String clusterName(Environment env, String name) {
        return physicalName(env, name, 40);
    }

    /** The labels GCP resources carry: marker plus managed labels (see {@link GcpMarker}). */
    static Map<String, String> markerOf(Map<String, String> cloudLabels) {
        return LABELS.markerOf(cloudLabels);
    }

    /** Attributes as listed: the region, and under "tags" only the labels mlctl manages (never anyone else's). */
    static Map<String, Object> attrs(Environment env, Map<String, Object> m, Map<String, String> cloudLabels) {
        Map<String, Object> out = new TreeMap<>(m);
        out.put("region", env.region());
        return LABELS.withObserved(out, cloudLabels);
    }

    /** The labels the spec asks for. */
    static Map<String, String> labels(Map<String, Object> attrs) {
        return Labels.wanted(attrs);
    }

    /** What to write at creation: the marker, the labels, and the record of which keys are labels. */
    static Map<String, String> allLabels(Map<String, String> marker, Map<String, Object> attrs) {
        return LABELS.atCreate(marker, labels(attrs));
    }

    /**
     * The full label map a resource should carry: its current labels with the marker and exactly the
     * wanted labels; labels someone else set stay. GCP replaces labels as a whole (with a fingerprint),
     * so kinds write this map.
     */
    static Optional<Map<String, String>> labelsAfterSync(Map<String, String> cloudLabels, Map<String, String> marker, Map<String, Object> want) {
        return LABELS.whole(cloudLabels, marker, want);
    }

    /** {@code projects/p/regions/r/subnetworks/n} and similar: the last path segment. */
    static String lastSegment(String url) {
        if (url == null || url.isEmpty()) return "";
        return url.substring(url.lastIndexOf('/') + 1);
    }
}
