package io.mlctl.provider.azure;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Labels;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceKind;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.util.Hashing;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * One resource type on Azure, on the shared managed-resource machinery. Everything of an environment
 * lives in its resource group ({@link #resourceGroup}) under the spec's own names, tagged with
 * {@link TagMarker}'s marker; inventory is one Resource Graph query per kind and page.
 */
interface AzureKind extends ResourceKind<AzureClients> {
    /** The environment's labels as Azure tags; the keys mlctl set are remembered in {@code mlctl-labels}, joined by ':'. */
    Labels LABELS = new Labels(TagMarker.INSTANCE, ":");

    /** The environment's resource group: the spec's {@code resourceGroup}, else the environment's name. */
    static String resourceGroup(Environment env) {
        return env.resourceGroup().orElse(env.name());
    }

    /** {@code /subscriptions/<s>/resourceGroups/<rg>}. */
    static String groupId(AzureClients cloud, Environment env) {
        return "/subscriptions/" + cloud.subscription() + "/resourceGroups/" + resourceGroup(env);
    }

    /** {@code /subscriptions/<s>/resourceGroups/<rg>/providers/<namespace>/<type>/<name>} (type may hold parent segments). */
    static String resourceId(AzureClients cloud, Environment env, String namespaceAndType, String name) {
        return groupId(cloud, env) + "/providers/" + namespaceAndType + "/" + name;
    }

    /** A virtual network of the spec: {@code .../Microsoft.Network/virtualNetworks/<network>}. */
    static String networkId(AzureClients cloud, Environment env, String network) {
        return resourceId(cloud, env, "Microsoft.Network/virtualNetworks", network);
    }

    /** A subnet of a spec network from a {@code network/subnet} reference. */
    static String subnetId(AzureClients cloud, Environment env, String reference) {
        String[] parts = reference.split("/", 2);
        return networkId(cloud, env, parts[0]) + "/subnets/" + parts[1];
    }

    /** The network security group made for a spec network's firewall: {@code <network>-nsg}. */
    static String nsgName(String network) {
        return network + "-nsg";
    }

    /** A user-assigned managed identity of the spec. */
    static String identityId(AzureClients cloud, Environment env, String identity) {
        return resourceId(cloud, env, "Microsoft.ManagedIdentity/userAssignedIdentities", identity);
    }

    /**
     * A storage account name: 3–24 lowercase letters and digits, unique across all of Azure. It is the
     * environment and bucket names without hyphens, cut to 16 characters, then 8 hex characters of a hash
     * of subscription, environment and bucket: stable for the same address, different in another subscription.
     */
    static String storageAccountName(String subscription, Environment env, String bucket) {
        String base = (env.name() + bucket).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        if (base.length() > 16) base = base.substring(0, 16);
        return base + Hashing.sha256Text(subscription.toLowerCase(Locale.ROOT) + "/" + env.name() + "/" + bucket).substring(0, 8);
    }

    /** The last segment of an ARM id. */
    static String lastSegment(String id) {
        if (id == null || id.isEmpty()) return "";
        return id.substring(id.lastIndexOf('/') + 1);
    }

    /** ARM's location as the spec writes regions: "East US" and "eastus" are both {@code eastus}. */
    static String region(String location) {
        return location == null ? "" : location.toLowerCase(Locale.ROOT).replace(" ", "");
    }

    /** Tags of a Graph row or a model's {@code tags()} (null means none). */
    @SuppressWarnings("unchecked")
    static Map<String, String> tags(Object tags) {
        Map<String, String> out = new TreeMap<>();
        if (tags instanceof Map<?, ?> m) ((Map<String, Object>) m).forEach((k, v) -> out.put(k, v == null ? "" : String.valueOf(v)));
        return out;
    }

    /** Attributes as listed: the region, and under "tags" only the labels mlctl manages (never anyone else's). */
    static Map<String, Object> attrs(String location, Map<String, Object> m, Map<String, String> cloudTags) {
        Map<String, Object> out = new TreeMap<>(m);
        out.put("region", region(location));
        return LABELS.withObserved(out, cloudTags);
    }

    /** The labels the spec asks for. */
    static Map<String, String> labels(Map<String, Object> attrs) {
        return Labels.wanted(attrs);
    }

    /** What to write at creation: the marker, the labels, and the record of which keys are labels. */
    static Map<String, String> allTags(Map<String, String> marker, Map<String, Object> attrs) {
        return LABELS.atCreate(marker, labels(attrs));
    }

    /**
     * The full tag map a resource should carry: its current tags with the marker and exactly the
     * wanted labels; tags someone else set stay. A PUT or PATCH of {@code tags} replaces them as a whole.
     */
    static Optional<Map<String, String>> tagsAfterSync(Map<String, String> cloudTags, Map<String, String> marker, Map<String, Object> want) {
        return LABELS.whole(cloudTags, marker, want);
    }

    /** The marker's tags found on a resource (to check ownership of what a GET returned). */
    static Map<String, String> markerOf(Map<String, String> cloudTags) {
        return LABELS.markerOf(cloudTags);
    }

    /**
     * The Resource Graph query for one ARM type of the environment: everything of {@code armType}
     * (e.g. {@code microsoft.network/virtualnetworks}) tagged {@code mlctl-environment=<env>}, in a stable order.
     */
    static String graphQuery(Environment env, String armType) {
        return "resources | where type =~ '" + armType + "' | where resourceGroup =~ '" + resourceGroup(env) + "' | where tags['"
            + io.mlctl.inventory.Ownership.ENVIRONMENT_TAG + "'] == '" + env.name() + "' | order by id asc";
    }

    /**
     * One page of the environment's resources of {@code armType}, each Graph row turned into an observed
     * resource by {@code toResource} (empty for a row that is not this environment's, e.g. a bad marker).
     */
    static Page graphPage(AzureClients cloud, Environment env, String armType, Optional<String> pageToken,
                          Function<Map<String, Object>, Optional<ObservedResource>> toResource) {
        AzureClients.GraphPage page = cloud.query("list " + armType, graphQuery(env, armType), pageToken);
        List<ObservedResource> items = new ArrayList<>();
        for (Map<String, Object> row : page.rows()) {
            Map<String, String> tags = tags(row.get("tags"));
            Optional<Address> owner = TagMarker.INSTANCE.owner(tags, env.name());
            if (owner.isEmpty()) continue;
            toResource.apply(row).ifPresent(items::add);
        }
        return new Page(items, page.skipToken());
    }

    /**
     * As {@link #graphPage}, and robust to Resource Graph's lag behind ARM writes (seconds, sometimes
     * more): when the kind's listing is one page, each resource of the spec that Graph did not return is
     * read directly ({@code idFor}, one GET, answered 404 at steady state only for what is still to
     * create), so a plan right after an apply does not offer to create again what the apply just made.
     * With more pages than one, a direct read could claim an address a later page holds, so it is not
     * done; the create then finds the resource by name and finishes it instead of making it again.
     */
    static Page graphPage(AzureClients cloud, Environment env, String armType, String apiVersion, Optional<String> pageToken,
                          Function<Address, String> idFor, Function<Map<String, Object>, Optional<ObservedResource>> toResource,
                          io.mlctl.spec.ResourceType type) {
        Page page = graphPage(cloud, env, armType, pageToken, toResource);
        if (pageToken.isPresent() || page.nextPageToken().isPresent()) return page;
        java.util.Set<Address> listed = new java.util.HashSet<>();
        page.items().forEach(r -> listed.add(r.address()));
        List<ObservedResource> items = new ArrayList<>(page.items());
        for (io.mlctl.spec.ResourceSpec spec : env.resources()) {
            if (spec.address().type() != type || listed.contains(spec.address())) continue;
            Optional<Map<String, Object>> row = cloud.getRaw("read " + spec.address(), idFor.apply(spec.address()), apiVersion);
            if (row.isEmpty()) continue;
            Map<String, String> tags = tags(row.get().get("tags"));
            if (!TagMarker.INSTANCE.owner(tags, env.name()).filter(spec.address()::equals).isPresent()) continue;
            toResource.apply(row.get()).ifPresent(items::add);
        }
        return new Page(items, Optional.empty());
    }

    // ---- import: the ids mlctl import takes ----

    /** An ARM id taken apart: subscription, resource group, and the names after {@code providers/<namespace>/}, one per type. */
    record ArmRef(String subscription, String group, List<String> names) {
        String name() {
            return names.get(names.size() - 1);
        }
    }

    /**
     * {@code cloudId} as an id of {@code namespace}/{@code types} ({@code Microsoft.Network}, {@code virtualNetworks}), or
     * empty when it is not one. Fixed words compare without case, as ARM's do.
     */
    static Optional<ArmRef> parseId(String cloudId, String namespace, String... types) {
        String id = cloudId == null ? "" : cloudId.strip();
        if (id.endsWith("/")) id = id.substring(0, id.length() - 1);
        String[] s = id.split("/", -1);
        if (s.length != 7 + 2 * types.length || !s[0].isEmpty() || !s[1].equalsIgnoreCase("subscriptions") || !s[3].equalsIgnoreCase("resourceGroups")
            || !s[5].equalsIgnoreCase("providers") || !s[6].equalsIgnoreCase(namespace)) return Optional.empty();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            if (!s[7 + 2 * i].equalsIgnoreCase(types[i]) || s[8 + 2 * i].isBlank()) return Optional.empty();
            names.add(s[8 + 2 * i]);
        }
        if (s[2].isBlank() || s[4].isBlank()) return Optional.empty();
        return Optional.of(new ArmRef(s[2], s[4], names));
    }

    /** The form of an id of {@code namespace}/{@code types}, for messages: {@code /subscriptions/<subscription>/.../virtualNetworks/<name>}. */
    static String idForm(String namespace, String... types) {
        StringBuilder b = new StringBuilder("/subscriptions/<subscription>/resourceGroups/<group>/providers/").append(namespace);
        for (int i = 0; i < types.length; i++) b.append('/').append(types[i]).append(i == types.length - 1 ? "/<name>" : "/<" + types[i].replaceAll("s$", "") + ">");
        return b.toString();
    }

    /** The id the spec's import list gives {@code address}, if it names it. */
    static Optional<String> importedId(Environment env, Address address) {
        return env.imports().stream().filter(i -> i.to().equals(address)).map(Environment.Import::id).findFirst();
    }

    /** An import id of the wrong form: one line saying which form this type takes. */
    static DriverException notAnId(Address address, String cloudId, String what, String... forms) {
        return new DriverException(address + ": '" + cloudId + "' is not the Azure resource id of " + what + "; it takes the form "
            + String.join(" or ", forms), false);
    }

    /**
     * Refuses an import id outside this environment's subscription or resource group: mlctl lists an environment's
     * resources in its resource group only, and computes the ids of references (subnets, identities, grant scopes) there.
     */
    static void requireHere(AzureClients cloud, Environment env, Address address, ArmRef ref, String what) {
        if (!ref.subscription().equalsIgnoreCase(cloud.subscription())) {
            throw new DriverException(address + ": " + what + " is in subscription " + ref.subscription() + ", not in subscription "
                + cloud.subscription() + " of environment " + env.name() + "; it cannot be imported", false);
        }
        if (!ref.group().equalsIgnoreCase(resourceGroup(env))) {
            throw new DriverException(address + ": " + what + " is in resource group " + ref.group() + "; to be imported it must be in resource group "
                + resourceGroup(env) + ", where environment " + env.name() + " keeps everything (move it there with 'az resource move')", false);
        }
    }

    /** Refuses an import whose Azure name is not the address's name: Azure cannot rename it, and mlctl finds and refers to it by that name. */
    static void requireName(Address address, String what, String name) {
        if (!name.equals(address.name())) {
            throw new DriverException(address + ": " + what + " cannot be imported as " + address + ": Azure cannot rename it and mlctl names it "
                + "after the address; import it as " + address.type().id() + "." + name, false);
        }
    }

    /** What {@code outputs} says of a resource that went since inventory read it. */
    static DriverException gone(ObservedResource r) {
        return new DriverException(r.address() + ": " + r.cloudId() + " no longer exists; run plan again", false);
    }

    /** {@code row.properties}, or an empty map. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> properties(Map<String, Object> row) {
        return row.get("properties") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }
}
