package io.mlctl.provider.gcp;

import io.mlctl.provider.DriverException;
import io.mlctl.provider.Labels;
import io.mlctl.provider.ResourceKind;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.util.Hashing;
import java.util.List;
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

    // ------------------------------------------------------------------ import

    /** A Compute Engine URL or relative name without its {@code https://.../compute/v1/} head, as ids may be given either way. */
    static String relativeName(String id) {
        int i = id.indexOf("projects/");
        return id.startsWith("https://") && i > 0 ? id.substring(i) : id;
    }

    /** An import id of a form this kind never uses: one line saying the form it takes. */
    static DriverException badId(Address address, String id, String expected) {
        return new DriverException(address + ": '" + id + "' is not a " + address.type().id() + " id on GCP; expected " + expected, false);
    }

    /** An import id naming a resource of another project than the environment's. */
    static DriverException otherProject(Address address, String what, String project, String ours) {
        return new DriverException(address + ": " + what + " is in project " + project + ", not in " + ours
            + " where this environment is; import it from an environment of that project", false);
    }

    /**
     * An unmarked resource whose name is not the one mlctl gives {@code address}: other resources of the environment find
     * it by that name (grants, node service accounts, subnets), so it would be half managed. Refused at plan time, naming
     * the address under which it could be imported when its name is one mlctl gives ({@code physical}: name to physical name).
     */
    static DriverException wrongName(Environment env, Address address, String what, String name, String expected,
                                     java.util.function.Function<String, String> physical) {
        String prefix = env.name() + "-";
        Optional<String> as = Optional.of(name).filter(n -> n.startsWith(prefix)).map(n -> n.substring(prefix.length()))
            .filter(n -> n.matches("[a-z][a-z0-9-]*") && physical.apply(n).equals(name));
        return new DriverException(address + ": " + what + " cannot be imported as " + address + ": mlctl names it " + expected
            + " (the environment's other resources find it by that name)" + as.map(n -> "; import it as " + address.type().id() + "." + n)
                .orElse("; only a resource of that name can be"), false);
    }

    /** Whether a resource carries no mlctl marker at all: the only kind import takes over. */
    static boolean unmarked(Map<String, String> tags) {
        return !GcpMarker.INSTANCE.marked(tags);
    }

    /** {@code net/subnet} of the spec network whose subnetwork (by the name NetworkKind gives it) this is, if any. */
    @SuppressWarnings("unchecked")
    static Optional<String> specSubnet(Environment env, String network, String subnetwork) {
        for (ResourceSpec r : env.resources()) {
            if (r.address().type() != ResourceType.NETWORK || !physicalName(env, r.address()).equals(network)) continue;
            for (Object s : (List<Object>) r.attributes().getOrDefault("subnets", List.of())) {
                String subnet = (String) ((Map<String, Object>) s).get("name");
                if (subnetworkName(env, r.address().name(), subnet).equals(subnetwork)) return Optional.of(r.address().name() + "/" + subnet);
            }
        }
        return Optional.empty();
    }

    /** The spec name of the identity whose service account this is; the email itself when it is none of the spec's. */
    static String identityName(String project, Environment env, String email) {
        for (ResourceSpec r : env.resources()) {
            if (r.address().type() != ResourceType.IDENTITY) continue;
            if (serviceAccountEmail(project, serviceAccountId(env, r.address().name())).equals(email)) return r.address().name();
        }
        return email;
    }
}
