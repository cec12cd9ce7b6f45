package io.mlctl.spec;

import io.mlctl.catalog.Catalog;
import io.mlctl.graph.ResourceGraph;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import tools.jackson.databind.JsonNode;

/**
 * The rules a schema cannot express: references resolve, no cycles, unique names, CIDRs nest and
 * don't overlap, machine types and regions exist for the provider. Runs on a schema-valid document.
 */
final class SpecChecker {
    /** Label names joined by ':' must fit one tag value: mlctl keeps there which tags are its labels. */
    static final int MAX_LABEL_KEYS = 255;
    /** The machine type that asks mlctl to choose the cheapest one carrying the accelerator. */
    static final String AUTO = Catalog.AUTO;

    private final YamlDocument doc;
    private final Catalog.ProviderCatalog cat;
    private final SchemaDefaults defaults;
    private final List<SpecError> errors = new ArrayList<>();
    private final Provider provider;
    private final String region;
    /** Resource name → index, by type. */
    private final Map<ResourceType, Map<String, Integer>> byType = new HashMap<>();

    SpecChecker(YamlDocument doc, Catalog catalog, SchemaDefaults defaults) {
        this.doc = doc;
        this.provider = Provider.of(doc.root().at("/spec/provider").asString());
        this.cat = catalog.of(provider);
        this.region = doc.root().at("/spec/region").asString();
        this.defaults = defaults;
    }

    List<SpecError> errors() {
        return errors;
    }

    Environment check() {
        JsonNode root = doc.root();
        String envName = root.at("/metadata/name").asString();
        List<String> zones = cat.regions().get(region);
        if (zones == null) {
            error("/spec/region", "unknown region '" + region + "' for " + provider.id() + suggest(region, cat.regions().keySet()));
        }
        Optional<String> account = root.at("/spec/account").isString() ? Optional.of(root.at("/spec/account").asString()) : Optional.empty();
        account.flatMap(a -> Environment.accountProblem(provider, a)).ifPresent(m -> error("/spec/account", m));
        Optional<String> resourceGroup = root.at("/spec/resourceGroup").isString() ? Optional.of(root.at("/spec/resourceGroup").asString()) : Optional.empty();
        if (resourceGroup.isPresent() && provider != Provider.AZURE) {
            error("/spec/resourceGroup", "resourceGroup is for azure environments only; " + provider.id() + " has no resource groups");
        }
        JsonNode resources = root.at("/spec/resources");
        for (int i = 0; i < resources.size(); i++) {
            JsonNode r = resources.get(i);
            ResourceType type = ResourceType.of(r.get("type").asString()).orElseThrow();
            Integer prev = byType.computeIfAbsent(type, t -> new HashMap<>()).putIfAbsent(r.get("name").asString(), i);
            if (prev != null) {
                error(res(i) + "/name", "duplicate resource " + type.id() + "." + r.get("name").asString()
                    + " (first defined at " + doc.positionOf(res(prev)) + ")");
            }
        }
        Map<String, String> labels = new LinkedHashMap<>();
        root.at("/metadata/labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asString()));
        // mlctl records which tags are its labels in one tag value (AWS and Azure take 256 characters).
        if (String.join(":", labels.keySet()).length() > MAX_LABEL_KEYS) {
            error("/metadata/labels", "the label names together are " + String.join(":", labels.keySet()).length()
                + " characters; at most " + MAX_LABEL_KEYS + " fit in the tag that records them (use fewer or shorter names)");
        }
        for (String key : labels.keySet()) {
            // mlctl's own tags and labels mark ownership: a label of that name would let one environment relabel its resources as another's.
            if (key.startsWith("mlctl-") || key.equals("managed-by")) {
                error("/metadata/labels/" + key, "label name '" + key + "' is reserved for mlctl's ownership marker; choose another name");
            }
        }
        if (provider == Provider.GCP) checkGcpLabels(labels);
        List<ResourceSpec> specs = new ArrayList<>();
        for (int i = 0; i < resources.size(); i++) {
            JsonNode raw = resources.get(i);
            ResourceType type = ResourceType.of(raw.get("type").asString()).orElseThrow();
            JsonNode r = defaults.apply(type.id(), raw);
            Set<Address> deps = new TreeSet<>();
            String p = res(i);
            switch (type) {
                case NETWORK -> checkNetwork(p, r, zones);
                case BUCKET -> {
                    if (provider == Provider.AZURE) checkAzureBucketName(p + "/name", raw.get("name").asString());
                }
                case IDENTITY -> checkIdentity(p, r, deps);
                case INSTANCE -> {
                    if (!checkPlacement(p, r, false)) {
                        checkMachine(p + "/machineType", r.get("machineType").asString(), cat.machineTypes(), "machine type");
                        checkAccelerator(p, r);
                    }
                    subnetRef(p + "/subnet", r.get("subnet").asString(), deps);
                    optionalIdentity(p, r, deps);
                }
                case KUBERNETES_CLUSTER -> checkCluster(p, r, deps);
                case INFERENCE_ENDPOINT -> checkEndpoint(p, r, raw, deps);
            }
            Map<String, Object> attrs = new TreeMap<>(Values.freezeMap(asMap(r)));
            attrs.remove("type");
            attrs.remove("name");
            // An explicit image says what runs; the framework's default only applies without one.
            if (type == ResourceType.INFERENCE_ENDPOINT && raw.has("image")) attrs.remove("framework");
            attrs.put("region", region);
            // The environment's labels become tags (labels on GCP) of every resource, and drift like any attribute.
            if (!labels.isEmpty()) attrs.put("tags", new TreeMap<>(labels));
            specs.add(new ResourceSpec(new Address(type, raw.get("name").asString()), Normalizer.normalize(attrs), deps, doc.positionOf(p)));
        }
        checkCycles(specs);
        List<Environment.Import> imports = imports(root, specs);
        Environment.ApplyMode mode = "auto".equals(root.at("/spec/apply").asString("manual"))
            ? Environment.ApplyMode.AUTO : Environment.ApplyMode.MANUAL;
        // true releases the guard for any count, a number for at most that many deletions (the schema allows nothing else).
        var allow = root.at("/spec/allowMassDelete");
        int massDeleteAllowance = allow.isBoolean() ? (allow.asBoolean() ? Integer.MAX_VALUE : 0) : allow.isIntegralNumber() ? allow.asInt() : 0;
        return new Environment(envName, labels, provider, region, account, resourceGroup, mode, root.at("/spec/selfHeal").asBoolean(false),
            massDeleteAllowance, specs, imports, doc.positionOf(""));
    }

    /** spec.import: each entry names a declared resource, once. */
    private List<Environment.Import> imports(JsonNode root, List<ResourceSpec> specs) {
        JsonNode list = root.at("/spec/import");
        List<Environment.Import> out = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        Set<String> declared = new TreeSet<>();
        specs.forEach(s -> declared.add(s.address().toString()));
        for (int i = 0; i < list.size(); i++) {
            String p = "/spec/import/" + i;
            String to = list.get(i).get("to").asString();
            String id = list.get(i).get("id").asString();
            if (!declared.contains(to)) {
                error(p + "/to", "import target " + to + " is not a resource of this environment; declare it in spec.resources"
                    + suggest(to, declared));
                continue;
            }
            Integer prev = seen.putIfAbsent(to, i);
            if (prev != null) {
                error(p + "/to", to + " is imported twice (first at " + doc.positionOf("/spec/import/" + prev) + ")");
                continue;
            }
            out.add(new Environment.Import(Address.parse(to), id, doc.positionOf(p + "/id")));
        }
        return out;
    }

    /**
     * On Azure a bucket is a blob container of that name (in a storage account of its own): container
     * names are 3–63 characters and hold no two hyphens in a row (the schema's name rule covers the rest).
     */
    private void checkAzureBucketName(String path, String name) {
        if (name.length() < 3) {
            error(path, "bucket name '" + name + "' is too short for an Azure blob container (3 to 63 characters)");
        } else if (name.contains("--")) {
            error(path, "bucket name '" + name + "' holds '--', which Azure blob container names do not allow");
        }
    }

    /**
     * GCP labels allow lowercase letters, digits, '-' and '_' only (no dots, no capitals), 63 characters,
     * and mlctl records its label names in one label value joined by "__" (GCP values allow no ':').
     */
    private void checkGcpLabels(Map<String, String> labels) {
        for (Map.Entry<String, String> e : labels.entrySet()) {
            if (!e.getKey().matches("[a-z][a-z0-9_-]{0,62}") || e.getKey().contains("__")) {
                error("/metadata/labels/" + e.getKey(), "GCP label names allow only lowercase letters, digits, '-' and '_' (not '__' nor '.'): '"
                    + e.getKey() + "'");
            }
            if (!e.getValue().matches("[a-z0-9_-]{0,63}")) {
                error("/metadata/labels/" + e.getKey(), "GCP label values allow only lowercase letters, digits, '-' and '_': '" + e.getValue() + "'");
            }
        }
        String joined = String.join("__", new java.util.TreeSet<>(labels.keySet()));
        if (joined.length() > 63) {
            error("/metadata/labels", "the label names together are " + joined.length()
                + " characters; on GCP at most 63 fit in the label that records them (use fewer or shorter names)");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(JsonNode n) {
        return (Map<String, Object>) Values.fromJson(n);
    }

    private void checkNetwork(String p, JsonNode r, List<String> zones) {
        Optional<Cidr> net = cidr(p + "/cidr", r.get("cidr").asString());
        net.filter(c -> c.prefix() < 16 || c.prefix() > 28).ifPresent(c -> error(p + "/cidr",
            "network CIDR " + c + " must have a prefix length between /16 and /28 (what AWS, GCP and Azure all accept)"));
        Map<String, Integer> names = new HashMap<>();
        List<Map.Entry<Integer, Cidr>> seen = new ArrayList<>();
        JsonNode subnets = r.path("subnets");
        for (int j = 0; j < subnets.size(); j++) {
            JsonNode s = subnets.get(j);
            String sp = p + "/subnets/" + j;
            Integer dup = names.putIfAbsent(s.get("name").asString(), j);
            if (dup != null) error(sp + "/name", "duplicate subnet '" + s.get("name").asString() + "' in network " + r.get("name").asString());
            Optional<Cidr> c = cidr(sp + "/cidr", s.get("cidr").asString());
            if (c.isPresent() && net.isPresent() && !net.get().contains(c.get())) {
                error(sp + "/cidr", "subnet " + c.get() + " is not inside network " + net.get());
            }
            if (c.isPresent()) {
                for (Map.Entry<Integer, Cidr> other : seen) {
                    if (other.getValue().overlaps(c.get())) {
                        error(sp + "/cidr", "subnet " + c.get() + " overlaps subnet '" + subnets.get(other.getKey()).get("name").asString()
                            + "' (" + other.getValue() + ")");
                    }
                }
                seen.add(Map.entry(j, c.get()));
            }
            if (s.has("zone") && zones != null && !zones.contains(s.get("zone").asString())) {
                error(sp + "/zone", "zone '" + s.get("zone").asString() + "' is not in region " + region + " (zones: " + String.join(", ", zones) + ")");
            }
        }
        Map<String, Integer> rules = new HashMap<>();
        JsonNode fw = r.path("firewall");
        for (int j = 0; j < fw.size(); j++) {
            String fp = p + "/firewall/" + j;
            if (rules.putIfAbsent(fw.get(j).get("name").asString(), j) != null) {
                error(fp + "/name", "duplicate firewall rule '" + fw.get(j).get("name").asString() + "'");
            }
            JsonNode sources = fw.get(j).get("sources");
            for (int k = 0; k < sources.size(); k++) cidr(fp + "/sources/" + k, sources.get(k).asString());
        }
    }

    private void checkIdentity(String p, JsonNode r, Set<Address> deps) {
        JsonNode grants = r.path("grants");
        for (int j = 0; j < grants.size(); j++) {
            String gp = p + "/grants/" + j + "/resource";
            String ref = grants.get(j).get("resource").asString();
            String[] parts = ref.split("/", 2);
            Optional<ResourceType> t = ResourceType.of(parts[0]);
            if (t.isEmpty()) {
                error(gp, "unknown resource type '" + parts[0] + "' in reference '" + ref + "'");
                continue;
            }
            reference(gp, t.get(), parts[1], deps);
            JsonNode actions = grants.get(j).get("actions");
            for (int k = 0; k < actions.size(); k++) {
                String a = actions.get(k).asString();
                String family = a.substring(0, a.indexOf('.'));
                ResourceType expected = switch (family) {
                    case "storage" -> ResourceType.BUCKET;
                    case "endpoint" -> ResourceType.INFERENCE_ENDPOINT;
                    case "kubernetes" -> ResourceType.KUBERNETES_CLUSTER;
                    default -> ResourceType.INSTANCE;
                };
                if (expected != t.get()) {
                    error(p + "/grants/" + j + "/actions/" + k, "action '" + a + "' applies to " + expected.id() + " resources, not " + t.get().id());
                }
            }
        }
    }

    private void checkCluster(String p, JsonNode r, Set<Address> deps) {
        String v = r.get("version").asString();
        if (!cat.kubernetesVersions().contains(v)) {
            error(p + "/version", "Kubernetes version " + v + " is not offered by " + provider.id() + " (offered: "
                + String.join(", ", cat.kubernetesVersions()) + ")");
        }
        if (subnetRef(p + "/subnet", r.get("subnet").asString(), deps) && provider == Provider.AWS) {
            checkEksZones(p + "/subnet", r.get("subnet").asString().split("/", 2)[0]);
        }
        optionalIdentity(p, r, deps);
        JsonNode pools = r.path("nodePools");
        Map<String, Integer> names = new HashMap<>();
        for (int j = 0; j < pools.size(); j++) {
            JsonNode pool = pools.get(j);
            String pp = p + "/nodePools/" + j;
            if (names.putIfAbsent(pool.get("name").asString(), j) != null) {
                error(pp + "/name", "duplicate node pool '" + pool.get("name").asString() + "'");
            }
            if (!checkPlacement(pp, pool, false)) {
                checkMachine(pp + "/machineType", pool.get("machineType").asString(), cat.machineTypes(), "machine type");
                checkAccelerator(pp, pool);
            }
            if (pool.get("min").asInt() > pool.get("max").asInt()) {
                error(pp + "/min", "min (" + pool.get("min").asInt() + ") is greater than max (" + pool.get("max").asInt() + ")");
            }
        }
    }

    private void checkEndpoint(String p, JsonNode r, JsonNode raw, Set<Address> deps) {
        boolean auto = checkPlacement(p, r, true);
        if (!auto) checkMachine(p + "/machineType", r.get("machineType").asString(), cat.endpointMachineTypes(), "endpoint machine type");
        if (raw.has("image") && raw.has("framework")) {
            error(p + "/framework", "give either image or framework, not both: framework only chooses the default image");
        }
        Catalog.MachineType m = cat.endpointMachineTypes().get(r.get("machineType").asString());
        if (provider == Provider.AWS && !raw.has("image") && "sklearn".equals(r.path("framework").asString("")) && m != null && m.gpus() > 0) {
            error(p + "/framework", "the SageMaker scikit-learn image has no GPU build; choose a CPU machine type or give an image");
        }
        if (auto && provider == Provider.AWS && !raw.has("image") && "sklearn".equals(r.path("framework").asString(""))) {
            error(p + "/framework", "the SageMaker scikit-learn image has no GPU build, and machineType: auto places on a GPU; give an image");
        }
        if (!auto) checkAccelerator(p, r);
        optionalIdentity(p, r, deps);
        if (r.get("minReplicas").asInt() > r.get("maxReplicas").asInt()) {
            error(p + "/minReplicas", "minReplicas (" + r.get("minReplicas").asInt() + ") is greater than maxReplicas ("
                + r.get("maxReplicas").asInt() + ")");
        }
        if (provider == Provider.AWS) {
            // SageMaker real-time endpoints: an execution role and at least one instance.
            if (!r.has("identity")) error(p, "a SageMaker endpoint needs an execution role: give it an identity");
            if (r.get("minReplicas").asInt() < 1) error(p + "/minReplicas", "SageMaker real-time endpoints run at least 1 replica");
        }
        if (provider == Provider.GCP && r.get("minReplicas").asInt() < 1) {
            error(p + "/minReplicas", "Vertex AI dedicated resources run at least 1 replica");
        }
        String uri = r.get("modelUri").asString();
        if (cat.modelUriSchemes().stream().noneMatch(uri::startsWith)) {
            error(p + "/modelUri", "model URI '" + uri + "' must start with " + String.join(" or ", cat.modelUriSchemes())
                + " on " + provider.id());
        } else {
            // A model stored in a bucket of this environment must exist before the endpoint.
            String rest = uri.substring(uri.indexOf("://") + 3);
            String bucket = rest.contains("/") ? rest.substring(0, rest.indexOf('/')) : rest;
            if (byType.getOrDefault(ResourceType.BUCKET, Map.of()).containsKey(bucket)) {
                deps.add(new Address(ResourceType.BUCKET, bucket));
            }
        }
    }

    /**
     * {@code machineType: auto}: mlctl places the resource on the cheapest machine type that carries its accelerator (resolved
     * before planning), so the accelerator must name a GPU this provider offers in at least that count. Whether it is auto.
     */
    private boolean checkPlacement(String p, JsonNode r, boolean endpoint) {
        if (!AUTO.equals(r.get("machineType").asString())) return false;
        if (!r.has("accelerator")) {
            error(p + "/machineType", "machineType: auto places the resource by its accelerator: add accelerator: {type: nvidia-v100, count: 1}"
                + " (or name a machine type)");
            return true;
        }
        String type = r.at("/accelerator/type").asString();
        int count = r.at("/accelerator/count").asInt(1);
        if (cat.gpuModel(type, endpoint).isEmpty()) {
            java.util.Set<String> known = new TreeSet<>(cat.acceleratorTypes(endpoint));
            known.addAll(cat.accelerators().keySet());
            error(p + "/accelerator/type", "unknown accelerator type '" + type + "' for " + provider.id() + (endpoint ? " endpoints" : "")
                + suggest(type, known) + " (known: " + String.join(", ", cat.acceleratorTypes(endpoint)) + ")");
        } else if (cat.gpuMachines(type, count, endpoint).isEmpty()) {
            error(p + "/accelerator/count", "no " + provider.id() + (endpoint ? " endpoint" : "") + " machine type has " + count + "× " + type
                + " (at most " + cat.maxGpus(type, endpoint) + ")");
        }
        return true;
    }

    private void checkMachine(String pointer, String name, Map<String, Catalog.MachineType> known, String what) {
        if (!known.containsKey(name)) {
            error(pointer, "unknown " + what + " '" + name + "' for " + provider.id() + suggest(name, known.keySet()));
        }
    }

    private void checkAccelerator(String p, JsonNode r) {
        if (!r.has("accelerator")) return;
        String type = r.at("/accelerator/type").asString();
        Catalog.Accelerator acc = cat.accelerators().get(type);
        if (cat.accelerators().isEmpty()) {
            error(p + "/accelerator", provider.id() + " attaches GPUs through the machine type; remove 'accelerator' and choose a GPU machine type");
        } else if (acc == null) {
            error(p + "/accelerator/type", "unknown accelerator '" + type + "' for " + provider.id() + suggest(type, cat.accelerators().keySet()));
        } else {
            String machine = r.get("machineType").asString();
            if (acc.machineFamilies().stream().noneMatch(machine::startsWith)) {
                error(p + "/accelerator/type", "accelerator " + type + " can only be attached to " + String.join(", ", acc.machineFamilies())
                    + " machine types, not " + machine);
            }
        }
    }

    private boolean subnetRef(String pointer, String ref, Set<Address> deps) {
        String[] parts = ref.split("/", 2);
        if (!reference(pointer, ResourceType.NETWORK, parts[0], deps)) return false;
        JsonNode network = doc.root().at("/spec/resources/" + byType.get(ResourceType.NETWORK).get(parts[0]));
        boolean found = false;
        for (JsonNode s : network.path("subnets")) found |= s.get("name").asString().equals(parts[1]);
        if (!found) error(pointer, "network '" + parts[0] + "' has no subnet named '" + parts[1] + "'");
        return found;
    }

    /** EKS refuses a cluster whose subnets are not in at least two availability zones. */
    private void checkEksZones(String pointer, String networkName) {
        JsonNode network = doc.root().at("/spec/resources/" + byType.get(ResourceType.NETWORK).get(networkName));
        Set<String> zones = new TreeSet<>();
        int subnets = 0;
        for (JsonNode s : network.path("subnets")) {
            subnets++;
            if (s.has("zone")) zones.add(s.get("zone").asString());
        }
        if (subnets < 2 || zones.size() < 2) {
            error(pointer, "EKS needs subnets in at least two availability zones: network '" + networkName + "' has " + subnets
                + (subnets == 1 ? " subnet" : " subnets") + " in " + (zones.isEmpty() ? "no explicit zone" : "zone " + String.join(", ", zones))
                + "; add a subnet with a zone in another availability zone");
        }
    }

    private void optionalIdentity(String p, JsonNode r, Set<Address> deps) {
        if (r.has("identity")) reference(p + "/identity", ResourceType.IDENTITY, r.get("identity").asString(), deps);
    }

    private boolean reference(String pointer, ResourceType type, String name, Set<Address> deps) {
        Map<String, Integer> names = byType.getOrDefault(type, Map.of());
        if (!names.containsKey(name)) {
            error(pointer, "reference to undeclared " + type.id() + " '" + name + "'" + suggest(name, names.keySet()));
            return false;
        }
        deps.add(new Address(type, name));
        return true;
    }

    private void checkCycles(List<ResourceSpec> specs) {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        Map<Address, SourcePosition> pos = new HashMap<>();
        for (ResourceSpec s : specs) {
            deps.put(s.address(), s.dependencies());
            pos.putIfAbsent(s.address(), s.position());
        }
        new ResourceGraph(deps).findCycle().ifPresent(cycle -> {
            Address first = cycle.stream().min(Comparator.comparing(pos::get, Comparator.comparing(SourcePosition::line))).orElseThrow();
            errors.add(new SpecError(pos.get(first), "dependency cycle: " + ResourceGraph.describe(cycle)));
        });
    }

    private Optional<Cidr> cidr(String pointer, String text) {
        try {
            return Optional.of(Cidr.parse(text));
        } catch (IllegalArgumentException e) {
            error(pointer, e.getMessage());
            return Optional.empty();
        }
    }

    private void error(String pointer, String message) {
        errors.add(new SpecError(doc.positionOf(pointer), message));
    }

    private String res(int i) {
        return "/spec/resources/" + i;
    }

    /** "(did you mean X?)" for the closest known name, if it is close enough to be a typo. */
    static String suggest(String given, java.util.Collection<String> known) {
        String best = null;
        int bestDist = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(given.toLowerCase(), k.toLowerCase());
            if (d < bestDist) {
                bestDist = d;
                best = k;
            }
        }
        return best != null && bestDist <= Math.max(2, given.length() / 3) ? " (did you mean '" + best + "'?)" : "";
    }

    private static int distance(String a, String b) {
        return io.mlctl.util.Typos.distance(a, b);
    }
}
