package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Labels;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.EntityType;
import software.amazon.awssdk.services.iam.model.GetAccountAuthorizationDetailsResponse;
import software.amazon.awssdk.services.iam.model.InstanceProfile;
import software.amazon.awssdk.services.iam.model.Role;
import software.amazon.awssdk.services.iam.model.RoleDetail;
import software.amazon.awssdk.services.iam.model.Tag;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * identity → an IAM role {@code <env>-<name>} under the path {@code /mlctl/<env>/}, trusted by the
 * services that run as it (EC2 through an instance profile of the same name, SageMaker, EKS), with
 * one inline policy generated from the grants as least privilege (see {@link #statements}). The
 * role carries the ownership marker from its creation; a role or instance profile of that name
 * that is not this environment's is refused, never adopted. Tags others put on the role are kept.
 */
final class IdentityKind implements AwsKind {
    static final String POLICY = "mlctl-grants";
    /** On an EKS node role: the identity whose grants it carries a copy of, kept in step when they change. */
    static final String GRANTS_FROM_TAG = "mlctl-grants-from";
    static final Labels LABELS = new Labels(TagMarker.INSTANCE, ":");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String TRUST = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","sagemaker.amazonaws.com",\
        "eks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}""";

    static String path(Environment env) {
        return "/mlctl/" + env.name() + "/";
    }

    @Override
    public ResourceType type() {
        return ResourceType.IDENTITY;
    }

    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region"));
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        // One paged call returns roles with their inline policies and tags: no per-role reads.
        GetAccountAuthorizationDetailsResponse r = AwsErrors.call("iam:GetAccountAuthorizationDetails", () -> c.iam.getAccountAuthorizationDetails(b -> b
            .filter(EntityType.ROLE).maxItems(1000).marker(pageToken.orElse(null))));
        List<ObservedResource> items = new ArrayList<>();
        for (RoleDetail role : r.roleDetailList()) {
            Map<String, String> tags = tags(role.tags());
            // Owned means marked as this environment's identity of that very name. Any path: mlctl makes its roles under
            // /mlctl/<env>/, an imported role keeps the path it has (IAM cannot move a role).
            Optional<Address> a = Ownership.ownedAddress(tags, env.name())
                .filter(x -> x.type() == ResourceType.IDENTITY && role.roleName().equals(AwsKind.physicalName(env, x.name())));
            if (a.isEmpty()) continue;
            Optional<String> policy = role.rolePolicyList().stream().filter(p -> POLICY.equals(p.policyName())).findFirst()
                .map(p -> p.policyDocument());
            items.add(observed(env, a.get(), role.arn(), tags, policy));
        }
        return new Page(items, Boolean.TRUE.equals(r.isTruncated()) ? Optional.ofNullable(r.marker()) : Optional.empty());
    }

    /** A role as listed (and as read for an import): its grants, read back from mlctl's policy, the region, and mlctl's labels. */
    private static ObservedResource observed(Environment env, Address address, String arn, Map<String, String> tags, Optional<String> policy) {
        Map<String, Object> attrs = new TreeMap<>();
        attrs.put("grants", grants(policy.map(IdentityKind::parse), env));
        attrs.put("region", env.region());
        Map<String, String> labels = LABELS.observed(tags);
        if (!labels.isEmpty()) attrs.put("tags", labels);
        return new ObservedResource(address, arn, attrs, tags);
    }

    /** IAM's role names: up to 64 of letters, digits and {@code +=,.@_-}. */
    private static final java.util.regex.Pattern ROLE_NAME = java.util.regex.Pattern.compile("[\\w+=,.@-]{1,64}");
    /** A role ARN: {@code arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME}. */
    private static final java.util.regex.Pattern ROLE_ARN = java.util.regex.Pattern.compile(
        "arn:aws(?:-cn|-us-gov)?:iam::\\d{12}:role/(?:[\\x21-\\x7e]*/)?([\\w+=,.@-]{1,64})");

    /**
     * By role name or ARN. Only the role of the name mlctl gives the address ({@code <env>-<name>}) is taken: instances (through
     * the instance profile of that name), endpoints and clusters reach the identity by it, and IAM cannot rename a role. Its
     * path may be any.
     */
    @Override
    public Optional<ObservedResource> read(AwsClients c, Environment env, Address address, String id) {
        java.util.regex.Matcher arn = ROLE_ARN.matcher(id);
        String name = arn.matches() ? arn.group(1) : id;
        if (!arn.matches() && !ROLE_NAME.matcher(id).matches()) {
            throw AwsKind.malformed(address, id, "an IAM role name or role ARN", "its role name (" + AwsKind.physicalName(env, address.name())
                + ") or ARN (arn:aws:iam::123456789012:role/" + AwsKind.physicalName(env, address.name()) + ")");
        }
        Optional<Role> role = role(c.iam, name);
        if (role.isEmpty()) return Optional.empty();
        if (!name.equals(AwsKind.physicalName(env, address.name()))) throw AwsKind.misnamed(env, address, "IAM role", name);
        Optional<String> policy;
        try {
            policy = Optional.of(c.iam.getRolePolicy(b -> b.roleName(name).policyName(POLICY)).policyDocument());
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "NoSuchEntity")) throw AwsErrors.translate("iam:GetRolePolicy " + name, e);
            policy = Optional.empty();
        }
        return Optional.of(observed(env, address, role.get().arn(), tags(role.get().tags()), policy));
    }

    /** The role's ARN and its instance profile's (what an EC2 launch template or another account's trust policy names). */
    @Override
    public Map<String, String> outputs(AwsClients c, Environment env, ObservedResource resource) {
        Map<String, String> out = new TreeMap<>();
        out.put("arn", resource.cloudId());
        profile(c.iam, AwsKind.physicalName(env, resource.address().name())).ifPresent(p -> out.put("instanceProfile", p.arn()));
        return out;
    }

    /** IAM returns policy documents URL-encoded. */
    private static JsonNode parse(String doc) {
        return JSON.readTree(doc.trim().startsWith("{") ? doc : URLDecoder.decode(doc, StandardCharsets.UTF_8));
    }

    /** One statement of the generated policy: what it allows, on what, under which condition. */
    record Statement(String sid, List<String> actions, List<String> resources, Map<String, Map<String, String>> condition) {
        Statement {
            actions = List.copyOf(actions);
            resources = List.copyOf(resources);
            condition = Map.copyOf(condition);
        }
    }

    /** The policy generated from grants: the statements of {@link #statements}, each named by its Sid. */
    static String policy(Environment env, List<Map<String, Object>> grants) {
        ObjectNode doc = JSON.createObjectNode().put("Version", "2012-10-17");
        ArrayNode out = doc.putArray("Statement");
        for (Statement st : statements(env, grants)) {
            ObjectNode s = out.addObject();
            s.put("Sid", st.sid());
            s.put("Effect", "Allow");
            ArrayNode acts = s.putArray("Action");
            st.actions().forEach(acts::add);
            ArrayNode res = s.putArray("Resource");
            st.resources().forEach(res::add);
            if (!st.condition().isEmpty()) {
                ObjectNode cond = s.putObject("Condition");
                st.condition().forEach((op, kv) -> {
                    ObjectNode o = cond.putObject(op);
                    kv.forEach(o::put);
                });
            }
        }
        return JSON.writeValueAsString(doc);
    }

    /**
     * Least privilege as AWS can express it (each action on the resource types the service
     * authorization reference gives it, with no condition key it does not support):
     * <ul>
     * <li>storage.read: s3:GetObject on the bucket's objects, s3:ListBucket on the bucket;
     * storage.write: s3:PutObject, storage.delete: s3:DeleteObject, on the bucket's objects.</li>
     * <li>endpoint.invoke: sagemaker:InvokeEndpoint on the endpoint; kubernetes.access:
     * eks:DescribeCluster on the cluster (what kubeconfig needs; access inside the cluster is
     * the cluster's own RBAC).</li>
     * <li>instance.read: ec2:DescribeInstances and ec2:DescribeInstanceStatus, which take no
     * resource ARN and ignore tag conditions: AWS only allows them on "*", so this is read access
     * to every instance of the account, the narrowest AWS allows. The instance it was granted for
     * is kept in the statement's Sid (hex, as Sids take only letters and digits) to read it back.</li>
     * </ul>
     */
    static List<Statement> statements(Environment env, List<Map<String, Object>> grants) {
        List<Statement> out = new ArrayList<>();
        for (Map<String, Object> g : grants) {
            String ref = (String) g.get("resource");
            String name = ref.substring(ref.indexOf('/') + 1);
            String phys = env.name() + "-" + name;
            String arn = "arn:" + partition(env.region()) + ":";
            for (Object action : (List<?>) g.get("actions")) {
                String sid = "G" + out.size();
                switch ((String) action) {
                    case "storage.read" -> {
                        out.add(new Statement(sid, List.of("s3:GetObject"), List.of(arn + "s3:::" + name + "/*"), Map.of()));
                        out.add(new Statement("G" + out.size(), List.of("s3:ListBucket"), List.of(arn + "s3:::" + name), Map.of()));
                    }
                    case "storage.write" -> out.add(new Statement(sid, List.of("s3:PutObject"), List.of(arn + "s3:::" + name + "/*"), Map.of()));
                    case "storage.delete" -> out.add(new Statement(sid, List.of("s3:DeleteObject"), List.of(arn + "s3:::" + name + "/*"), Map.of()));
                    case "endpoint.invoke" -> out.add(new Statement(sid, List.of("sagemaker:InvokeEndpoint"),
                        List.of(arn + "sagemaker:" + env.region() + ":*:endpoint/" + phys), Map.of()));
                    case "kubernetes.access" -> out.add(new Statement(sid, List.of("eks:DescribeCluster"),
                        List.of(arn + "eks:" + env.region() + ":*:cluster/" + phys), Map.of()));
                    case "instance.read" -> out.add(new Statement(sid + INSTANCE_SID + HexFormat.of().formatHex(name.getBytes(StandardCharsets.UTF_8)),
                        INSTANCE_READ, List.of("*"), Map.of()));
                    default -> throw new IllegalArgumentException("unknown grant action " + action);
                }
            }
        }
        return out;
    }

    /** The ARN partition of a region: grants must name it, or they match nothing in China or GovCloud. */
    static String partition(String region) {
        return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
    }

    static final String INSTANCE_SID = "Instance";
    static final List<String> INSTANCE_READ = List.of("ec2:DescribeInstances", "ec2:DescribeInstanceStatus");
    private static final java.util.regex.Pattern INSTANCE_SID_PATTERN = java.util.regex.Pattern.compile("G\\d+" + INSTANCE_SID + "((?:[0-9a-f]{2})+)");

    /** Grants back from a policy document, by recognising the statements {@link #policy} writes. */
    static List<Object> grants(Optional<JsonNode> doc, Environment env) {
        Map<String, TreeSet<String>> byResource = new TreeMap<>();
        if (doc.isEmpty()) return List.of();
        JsonNode statements = doc.get().path("Statement");
        List<JsonNode> list = new ArrayList<>();
        if (statements.isArray()) statements.forEach(list::add);
        else if (statements.isObject()) list.add(statements);
        for (JsonNode s : list) {
            List<String> actions = strings(s.path("Action"));
            if (actions.contains("ec2:DescribeInstances")) {
                java.util.regex.Matcher m = INSTANCE_SID_PATTERN.matcher(s.path("Sid").asString(""));
                if (m.matches()) {
                    String name = new String(HexFormat.of().parseHex(m.group(1)), StandardCharsets.UTF_8);
                    byResource.computeIfAbsent("instance/" + name, k -> new TreeSet<>()).add("instance.read");
                }
                continue;
            }
            for (String arn : strings(s.path("Resource"))) {
                String action = null;
                String ref = null;
                if (actions.contains("s3:GetObject") && arn.endsWith("/*")) {
                    action = "storage.read";
                    ref = "bucket/" + arn.substring(arn.indexOf(":::") + 3, arn.length() - 2);
                } else if (actions.contains("s3:ListBucket")) {
                    continue; // half of storage.read, counted with s3:GetObject
                } else if (actions.contains("s3:PutObject")) {
                    action = "storage.write";
                    ref = "bucket/" + arn.substring(arn.indexOf(":::") + 3, arn.length() - 2);
                } else if (actions.contains("s3:DeleteObject")) {
                    action = "storage.delete";
                    ref = "bucket/" + arn.substring(arn.indexOf(":::") + 3, arn.length() - 2);
                } else if (!arn.contains(":s3:::") && !arn.startsWith("arn:" + partition(env.region()) + ":" + arn.split(":")[2] + ":" + env.region() + ":")) {
                    continue; // made for another region (the spec's region changed): a grant to be written again
                } else if (actions.contains("sagemaker:InvokeEndpoint")) {
                    action = "endpoint.invoke";
                    ref = "inference_endpoint/" + arn.substring(arn.lastIndexOf('/') + 1 + env.name().length() + 1);
                } else if (actions.contains("eks:DescribeCluster")) {
                    action = "kubernetes.access";
                    ref = "kubernetes_cluster/" + arn.substring(arn.lastIndexOf('/') + 1 + env.name().length() + 1);
                }
                if (action != null) byResource.computeIfAbsent(ref, k -> new TreeSet<>()).add(action);
            }
        }
        List<Object> out = new ArrayList<>();
        byResource.forEach((ref, actions) -> {
            Map<String, Object> g = new TreeMap<>();
            g.put("resource", ref);
            g.put("actions", new ArrayList<>(actions));
            out.add(g);
        });
        return out;
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        if (n.isArray()) n.forEach(x -> out.add(x.asString()));
        else if (n.isString()) out.add(n.asString());
        return out;
    }

    private static Map<String, String> tags(List<Tag> tags) {
        Map<String, String> m = new TreeMap<>();
        tags.forEach(t -> m.put(t.key(), t.value()));
        return m;
    }

    private static List<Tag> iamTags(Map<String, String> tags) {
        return tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
    }

    private static Optional<Role> role(IamClient iam, String name) {
        try {
            return Optional.of(iam.getRole(b -> b.roleName(name)).role());
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchEntity")) return Optional.empty();
            throw AwsErrors.translate("iam:GetRole " + name, e);
        }
    }

    private static Optional<InstanceProfile> profile(IamClient iam, String name) {
        try {
            return Optional.of(iam.getInstanceProfile(b -> b.instanceProfileName(name)).instanceProfile());
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchEntity")) return Optional.empty();
            throw AwsErrors.translate("iam:GetInstanceProfile " + name, e);
        }
    }

    private static boolean owns(Environment env, Address address, Map<String, String> tags) {
        return TagMarker.INSTANCE.owner(tags, env.name()).filter(address::equals).isPresent();
    }

    /** The role of that name, whoever owns it: the caller refuses one that is not this address's. */
    @Override
    public Optional<Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String name = AwsKind.physicalName(env, address.name());
        return role(c.iam, name).map(r -> new Existing(r.arn(), "IAM role " + name, tags(r.tags())));
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String name = AwsKind.physicalName(env, d.address().name());
        // Refuse before creating anything when the instance profile of that name is someone else's.
        profile(c.iam, name).ifPresent(p -> requireOwnedProfile(env, d.address(), p));
        Map<String, String> tags = LABELS.atCreate(marker, BucketKind.labels(d));
        try {
            // Tagged at creation, and no SDK retry: after a lost answer the engine finds the marked role.
            return c.iamOnce.createRole(b -> b.roleName(name).path(path(env)).assumeRolePolicyDocument(TRUST).tags(iamTags(tags))
                .description("mlctl identity " + d.address() + " of environment " + env.name())).role().arn();
        } catch (SdkException e) {
            if (AwsErrors.is(e, "EntityAlreadyExists")) {
                throw new DriverException(d.address() + ": IAM role " + name + " appeared while creating it; looking again", true, e);
            }
            throw AwsErrors.translate("iam:CreateRole " + name, e);
        }
    }

    private static void requireOwnedProfile(Environment env, Address address, InstanceProfile p) {
        Map<String, String> tags = tags(p.tags());
        if (!owns(env, address, tags)) {
            throw new NotOwnedException(address + ": IAM instance profile " + p.instanceProfileName() + " already exists and is "
                + TagMarker.INSTANCE.describeOwner(tags) + "; mlctl does not take over resources it did not create (rename it in the spec)");
        }
    }

    /** Labels and marker, the grants policy, then the instance profile (looked up before it is made) holding the role. */
    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource complete(AwsClients c, Environment env, String arn, ResourceSpec d, Map<String, String> marker) {
        String name = AwsKind.physicalName(env, d.address().name());
        // IAM is eventually consistent: a role just made may not read back yet; the step is retried.
        Role role = role(c.iam, name).orElseThrow(() -> new DriverException(d.address() + ": IAM role " + name + " is not visible yet", true));
        Map<String, String> tags = syncTags(c.iam, name, tags(role.tags()), marker, BucketKind.labels(d));
        putPolicy(c.iam, env, name, (List<Map<String, Object>>) d.attributes().getOrDefault("grants", List.of()));
        ensureProfile(c, env, d.address(), name, marker, false);
        return new ObservedResource(d.address(), role.arn(), d.attributes(), tags);
    }

    /**
     * The instance profile of the role's name (looked up before it is made) holding the role. One that is not this identity's
     * is refused, unless {@code adopting} an unmarked role with its unmarked profile: then the profile is marked too.
     */
    private static void ensureProfile(AwsClients c, Environment env, Address address, String name, Map<String, String> marker, boolean adopting) {
        InstanceProfile profile = profile(c.iam, name).orElse(null);
        if (profile != null && adopting && !TagMarker.INSTANCE.marked(tags(profile.tags()))) {
            AwsErrors.run("iam:TagInstanceProfile " + name, () -> c.iam.tagInstanceProfile(b -> b.instanceProfileName(name).tags(iamTags(marker))));
            profile = profile.toBuilder().tags(iamTags(marker)).build();
        }
        if (profile == null) {
            // Sent once; after a throttle or a lost answer, look (it may exist now) before sending again.
            profile = AwsErrors.createLooking(() -> {
                try {
                    return c.iamOnce.createInstanceProfile(b -> b.instanceProfileName(name).path(path(env)).tags(iamTags(marker))).instanceProfile();
                } catch (SdkException e) {
                    if (AwsErrors.is(e, "EntityAlreadyExists")) {
                        throw new DriverException(address + ": IAM instance profile " + name + " appeared while creating it; looking again", true, e);
                    }
                    throw AwsErrors.translate("iam:CreateInstanceProfile " + name, e);
                }
            }, () -> profile(c.iam, name));
        }
        requireOwnedProfile(env, address, profile);
        if (profile.roles().stream().noneMatch(r -> r.roleName().equals(name))) {
            try {
                c.iam.addRoleToInstanceProfile(b -> b.instanceProfileName(name).roleName(name));
            } catch (SdkException e) {
                // A retried add whose first answer was lost: fine if the role is in it now.
                boolean in = AwsErrors.is(e, "LimitExceeded", "EntityAlreadyExists") && profile(c.iam, name).stream()
                    .flatMap(p -> p.roles().stream()).anyMatch(r -> r.roleName().equals(name));
                if (!in) throw AwsErrors.translate("iam:AddRoleToInstanceProfile " + name, e);
            }
        }
    }

    /** Sets the marker and labels, removes only labels mlctl set before; other tags stay. Returns the tags after. */
    private static Map<String, String> syncTags(IamClient iam, String name, Map<String, String> cloud, Map<String, String> marker,
                                                Map<String, String> labels) {
        Optional<Labels.Sync> sync = LABELS.sync(cloud, marker, labels);
        if (sync.isEmpty()) return cloud;
        Map<String, String> next = new TreeMap<>(cloud);
        if (!sync.get().set().isEmpty()) {
            AwsErrors.run("iam:TagRole " + name, () -> iam.tagRole(b -> b.roleName(name).tags(iamTags(sync.get().set()))));
            next.putAll(sync.get().set());
        }
        if (!sync.get().remove().isEmpty()) {
            AwsErrors.run("iam:UntagRole " + name, () -> iam.untagRole(b -> b.roleName(name).tagKeys(sync.get().remove())));
            sync.get().remove().forEach(next::remove);
        }
        return next;
    }

    private static void putPolicy(IamClient iam, Environment env, String role, List<Map<String, Object>> grants) {
        Optional<String> doc = grants.isEmpty() ? Optional.empty() : Optional.of(policy(env, grants));
        putPolicy(iam, role, doc);
        // EKS node roles carry a copy of the grants of the identity their cluster runs as: a revoked grant goes there too.
        String identity = role.substring(env.name().length() + 1);
        for (Role nodeRole : AwsErrors.call("iam:ListRoles " + path(env) + "eks/", () -> iam.listRolesPaginator(b -> b.pathPrefix(path(env) + "eks/"))
                .roles().stream().toList())) {
            Map<String, String> tags = new java.util.TreeMap<>();
            AwsErrors.call("iam:ListRoleTags " + nodeRole.roleName(), () -> iam.listRoleTags(b -> b.roleName(nodeRole.roleName())).tags())
                .forEach(t -> tags.put(t.key(), t.value()));
            if (identity.equals(tags.get(GRANTS_FROM_TAG)) && env.name().equals(tags.get(io.mlctl.inventory.Ownership.ENVIRONMENT_TAG))) {
                putPolicy(iam, nodeRole.roleName(), doc);
            }
        }
    }

    /** Writes (or, for none, removes) the grants policy of {@code role}. */
    static void putPolicy(IamClient iam, String role, Optional<String> doc) {
        if (doc.isEmpty()) {
            try {
                iam.deleteRolePolicy(b -> b.roleName(role).policyName(POLICY));
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "NoSuchEntity")) throw AwsErrors.translate("iam:DeleteRolePolicy " + role, e);
            }
            return;
        }
        AwsErrors.run("iam:PutRolePolicy " + role, () -> iam.putRolePolicy(b -> b.roleName(role).policyName(POLICY).policyDocument(doc.get())));
    }

    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String name = AwsKind.physicalName(env, d.address().name());
        Set<String> changed = new TreeSet<>();
        for (AttributeChange ch : changes) changed.add(ch.path().split("[.\\[]", 2)[0]);
        Map<String, String> tags = current.tags();
        if (changed.contains("grants")) putPolicy(c.iam, env, name, (List<Map<String, Object>>) d.attributes().getOrDefault("grants", List.of()));
        if (changed.contains("tags")) {
            Role role = role(c.iam, name).orElseThrow(() -> new DriverException(d.address() + ": IAM role " + name + " no longer exists; run plan again", false));
            Map<String, String> marker = TagMarker.INSTANCE.marker(env.name(), d.address());
            // A tags change is also how an import writes the marker: an adopted role gets the instance profile a created one
            // has, and the role's marker goes last, so a marked role always has its profile.
            ensureProfile(c, env, d.address(), name, marker, !owns(env, d.address(), tags(role.tags())));
            tags = syncTags(c.iam, name, tags(role.tags()), marker, BucketKind.labels(d));
        }
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), tags);
    }

    /** The caller checked the role is this address's; its instance profile goes with it only if it is ours too. */
    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String name = AwsKind.physicalName(env, current.address().name());
        Optional<InstanceProfile> profile = profile(c.iam, name);
        if (profile.isPresent() && owns(env, current.address(), tags(profile.get().tags()))) {
            ignoreNoSuchEntity(() -> c.iam.removeRoleFromInstanceProfile(b -> b.instanceProfileName(name).roleName(name)), "iam:RemoveRoleFromInstanceProfile");
            ignoreNoSuchEntity(() -> c.iam.deleteInstanceProfile(b -> b.instanceProfileName(name)), "iam:DeleteInstanceProfile");
        } else if (profile.isPresent() && profile.get().roles().stream().anyMatch(r -> r.roleName().equals(name))) {
            ignoreNoSuchEntity(() -> c.iam.removeRoleFromInstanceProfile(b -> b.instanceProfileName(name).roleName(name)), "iam:RemoveRoleFromInstanceProfile");
        }
        deleteRolePolicies(c.iam, name);
        ignoreNoSuchEntity(() -> c.iam.deleteRole(b -> b.roleName(name)), "iam:DeleteRole");
    }

    /** Deletes a role and what hangs off it (instance profile, inline and attached policies); gone already is fine. */
    static void deleteRole(IamClient iam, String name) {
        // Our role must leave the profile of its name to go; the profile itself goes only if it is mlctl's.
        ignoreNoSuchEntity(() -> iam.removeRoleFromInstanceProfile(b -> b.instanceProfileName(name).roleName(name)), "iam:RemoveRoleFromInstanceProfile");
        Optional<InstanceProfile> profile = profile(iam, name);
        if (profile.isPresent() && TagMarker.INSTANCE.marked(tags(profile.get().tags()))) {
            ignoreNoSuchEntity(() -> iam.deleteInstanceProfile(b -> b.instanceProfileName(name)), "iam:DeleteInstanceProfile");
        }
        deleteRolePolicies(iam, name);
        ignoreNoSuchEntity(() -> iam.deleteRole(b -> b.roleName(name)), "iam:DeleteRole");
    }

    private static void deleteRolePolicies(IamClient iam, String name) {
        ignoreNoSuchEntity(() -> iam.listRolePolicies(b -> b.roleName(name)).policyNames()
            .forEach(p -> ignoreNoSuchEntity(() -> iam.deleteRolePolicy(b -> b.roleName(name).policyName(p)), "iam:DeleteRolePolicy")),
            "iam:ListRolePolicies");
        ignoreNoSuchEntity(() -> iam.listAttachedRolePolicies(b -> b.roleName(name)).attachedPolicies()
            .forEach(p -> ignoreNoSuchEntity(() -> iam.detachRolePolicy(b -> b.roleName(name).policyArn(p.policyArn())), "iam:DetachRolePolicy")),
            "iam:ListAttachedRolePolicies");
    }

    private static void ignoreNoSuchEntity(Runnable r, String what) {
        try {
            r.run();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "NoSuchEntity")) throw AwsErrors.translate(what, e);
        }
    }
}
