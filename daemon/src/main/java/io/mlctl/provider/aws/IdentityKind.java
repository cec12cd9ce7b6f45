package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.iam.IamClient;
import software.amazon.awssdk.services.iam.model.EntityType;
import software.amazon.awssdk.services.iam.model.GetAccountAuthorizationDetailsResponse;
import software.amazon.awssdk.services.iam.model.RoleDetail;
import software.amazon.awssdk.services.iam.model.Role;
import software.amazon.awssdk.services.iam.model.Tag;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * identity → an IAM role under the path {@code /mlctl/<env>/} (so one ListRoles call by path prefix
 * lists an environment's roles), trusted by the services that run as it (EC2 through an instance
 * profile of the same name, SageMaker, EKS), with one inline policy generated from the grants as least
 * privilege: storage.read on bucket/x is s3:GetObject on x/* and s3:ListBucket on x, nothing wider.
 */
final class IdentityKind implements AwsKind {
    static final String POLICY = "mlctl-grants";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    static final String TRUST = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","sagemaker.amazonaws.com",\
        "eks.amazonaws.com"]},"Action":"sts:AssumeRole"}]}""";

    static String path(Environment env) {
        return "/mlctl/" + env.name() + "/";
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        // One paged call returns roles with their inline policies and tags: no per-role reads.
        GetAccountAuthorizationDetailsResponse r = AwsErrors.call("iam:GetAccountAuthorizationDetails", () -> c.iam.getAccountAuthorizationDetails(b -> b
            .filter(EntityType.ROLE).maxItems(1000).marker(pageToken.orElse(null))));
        List<ObservedResource> items = new ArrayList<>();
        String prefix = env.name() + "-";
        for (RoleDetail role : r.roleDetailList()) {
            if (!path(env).equals(role.path()) || !role.roleName().startsWith(prefix)) continue;
            Address a = new Address(ResourceType.IDENTITY, role.roleName().substring(prefix.length()));
            Map<String, String> tags = new TreeMap<>();
            role.tags().forEach(t -> tags.put(t.key(), t.value()));
            Optional<JsonNode> policy = role.rolePolicyList().stream().filter(p -> POLICY.equals(p.policyName())).findFirst()
                .map(p -> parse(p.policyDocument()));
            Map<String, Object> attrs = new TreeMap<>();
            attrs.put("grants", grants(policy, env));
            items.add(new ObservedResource(a, role.arn(), AwsKind.attrs(env, attrs, tags), tags.isEmpty() ? Ownership.tags(env.name(), a) : tags));
        }
        return new Page(items, Boolean.TRUE.equals(r.isTruncated()) ? Optional.ofNullable(r.marker()) : Optional.empty());
    }

    /** IAM returns policy documents URL-encoded. */
    private static JsonNode parse(String doc) {
        return JSON.readTree(doc.trim().startsWith("{") ? doc : URLDecoder.decode(doc, StandardCharsets.UTF_8));
    }

    /** The policy generated from grants: one statement per grant and action, each named by its Sid. */
    static String policy(Environment env, List<Map<String, Object>> grants) {
        ObjectNode doc = JSON.createObjectNode().put("Version", "2012-10-17");
        ArrayNode statements = doc.putArray("Statement");
        int i = 0;
        for (Map<String, Object> g : grants) {
            String ref = (String) g.get("resource");
            String type = ref.substring(0, ref.indexOf('/'));
            String name = ref.substring(ref.indexOf('/') + 1);
            for (Object action : (List<?>) g.get("actions")) {
                for (Map.Entry<List<String>, List<String>> st : statementsFor((String) action, type, name, env).entrySet()) {
                    ObjectNode s = statements.addObject();
                    s.put("Sid", "G" + (i++));
                    s.put("Effect", "Allow");
                    ArrayNode acts = s.putArray("Action");
                    st.getKey().forEach(acts::add);
                    ArrayNode res = s.putArray("Resource");
                    st.getValue().forEach(res::add);
                    if ("instance.read".equals(action)) {
                        // EC2 Describe calls take no resource ARN; the tag names the instance (and lets the grant be read back).
                        s.putObject("Condition").putObject("StringEquals").put("ec2:ResourceTag/" + Ownership.ADDRESS_TAG, "instance." + name);
                    }
                }
            }
        }
        return JSON.writeValueAsString(doc);
    }

    /** IAM actions and resource ARNs of one grant action: least privilege, one object or one resource. */
    private static Map<List<String>, List<String>> statementsFor(String action, String type, String name, Environment env) {
        Map<List<String>, List<String>> m = new LinkedHashMap<>();
        String phys = env.name() + "-" + name;
        switch (action) {
            case "storage.read" -> {
                m.put(List.of("s3:GetObject"), List.of("arn:aws:s3:::" + name + "/*"));
                m.put(List.of("s3:ListBucket"), List.of("arn:aws:s3:::" + name));
            }
            case "storage.write" -> m.put(List.of("s3:PutObject"), List.of("arn:aws:s3:::" + name + "/*"));
            case "storage.delete" -> m.put(List.of("s3:DeleteObject"), List.of("arn:aws:s3:::" + name + "/*"));
            case "endpoint.invoke" -> m.put(List.of("sagemaker:InvokeEndpoint"), List.of("arn:aws:sagemaker:" + env.region() + ":*:endpoint/" + phys));
            case "kubernetes.access" -> m.put(List.of("eks:DescribeCluster"), List.of("arn:aws:eks:" + env.region() + ":*:cluster/" + phys));
            default -> m.put(List.of("ec2:DescribeInstances"), List.of("*"));
        }
        return m;
    }

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
            for (String arn : strings(s.path("Resource"))) {
                String action = null;
                String ref = null;
                if (actions.contains("s3:GetObject") && arn.endsWith("/*")) {
                    action = "storage.read";
                    ref = "bucket/" + arn.substring("arn:aws:s3:::".length(), arn.length() - 2);
                } else if (actions.contains("s3:ListBucket")) {
                    continue; // half of storage.read, counted with s3:GetObject
                } else if (actions.contains("s3:PutObject")) {
                    action = "storage.write";
                    ref = "bucket/" + arn.substring("arn:aws:s3:::".length(), arn.length() - 2);
                } else if (actions.contains("s3:DeleteObject")) {
                    action = "storage.delete";
                    ref = "bucket/" + arn.substring("arn:aws:s3:::".length(), arn.length() - 2);
                } else if (actions.contains("sagemaker:InvokeEndpoint")) {
                    action = "endpoint.invoke";
                    ref = "inference_endpoint/" + arn.substring(arn.lastIndexOf('/') + 1 + env.name().length() + 1);
                } else if (actions.contains("ec2:DescribeInstances")) {
                    String tagged = s.path("Condition").path("StringEquals").path("ec2:ResourceTag/" + Ownership.ADDRESS_TAG).asString("");
                    if (!tagged.startsWith("instance.")) continue;
                    action = "instance.read";
                    ref = "instance/" + tagged.substring("instance.".length());
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

    @Override
    @SuppressWarnings("unchecked")
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.IDENTITY;
    }

    @Override
    public io.mlctl.provider.ResourceRules rules() {
        return new io.mlctl.provider.ResourceRules(java.util.Set.of("region"));
    }

    @Override
    public Optional<io.mlctl.provider.Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        // TODO(framework): look up by id, name or marker
        return knownCloudId.map(id -> new io.mlctl.provider.Existing(id, address.toString(), io.mlctl.provider.TagMarker.INSTANCE.marker(env.name(), address)));
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> ownership, String token) {
        return createAll(c, env, d, ownership, token).cloudId();
    }

    @Override
    public ObservedResource complete(AwsClients c, Environment env, String cloudId, ResourceSpec d, Map<String, String> ownership) {
        return new ObservedResource(d.address(), cloudId, d.attributes(), ownership);
    }

    private ObservedResource createAll(AwsClients c, Environment env, ResourceSpec d, Map<String, String> ownership, String token) {
        Map<String, String> tags = AwsKind.allTags(ownership, d.attributes());
        String name = AwsKind.physicalName(env, d.address().name());
        List<Tag> iamTags = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        String arn;
        try {
            arn = c.iam.createRole(b -> b.roleName(name).path(path(env)).assumeRolePolicyDocument(TRUST).tags(iamTags)
                .description("mlctl identity " + d.address() + " of environment " + env.name())).role().arn();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "EntityAlreadyExists")) throw AwsErrors.translate("iam:CreateRole " + name, e);
            Role existing = AwsErrors.call("iam:GetRole " + name, () -> c.iam.getRole(b -> b.roleName(name)).role());
            if (!existing.path().equals(path(env))) {
                throw new DriverException(d.address() + ": IAM role " + name + " already exists and is not owned by mlctl environment " + env.name(), false);
            }
            arn = existing.arn();
        }
        putPolicy(c.iam, env, name, (List<Map<String, Object>>) d.attributes().getOrDefault("grants", List.of()));
        try {
            c.iam.createInstanceProfile(b -> b.instanceProfileName(name).path(path(env)).tags(iamTags));
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "EntityAlreadyExists")) throw AwsErrors.translate("iam:CreateInstanceProfile " + name, e);
        }
        try {
            c.iam.addRoleToInstanceProfile(b -> b.instanceProfileName(name).roleName(name));
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "LimitExceeded", "EntityAlreadyExists")) throw AwsErrors.translate("iam:AddRoleToInstanceProfile " + name, e);
        }
        return new ObservedResource(d.address(), arn, d.attributes(), tags);
    }

    private static void putPolicy(IamClient iam, Environment env, String role, List<Map<String, Object>> grants) {
        if (grants.isEmpty()) {
            try {
                iam.deleteRolePolicy(b -> b.roleName(role).policyName(POLICY));
            } catch (SdkException e) {
                if (!AwsErrors.is(e, "NoSuchEntity")) throw AwsErrors.translate("iam:DeleteRolePolicy " + role, e);
            }
            return;
        }
        String doc = policy(env, grants);
        AwsErrors.run("iam:PutRolePolicy " + role, () -> iam.putRolePolicy(b -> b.roleName(role).policyName(POLICY).policyDocument(doc)));
    }

    @Override
    @SuppressWarnings("unchecked")
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d,
                                   java.util.List<io.mlctl.plan.AttributeChange> changes) {
        String name = AwsKind.physicalName(env, d.address().name());
        AwsKind.tagChange(current.attributes(), d.attributes()).ifPresent(ch -> {
            if (!ch.getKey().isEmpty()) {
                List<Tag> set = ch.getKey().entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
                AwsErrors.run("iam:TagRole " + name, () -> c.iam.tagRole(b -> b.roleName(name).tags(set)));
            }
            if (!ch.getValue().isEmpty()) AwsErrors.run("iam:UntagRole " + name, () -> c.iam.untagRole(b -> b.roleName(name).tagKeys(ch.getValue())));
        });
        putPolicy(c.iam, env, name, (List<Map<String, Object>>) d.attributes().getOrDefault("grants", List.of()));
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String name = AwsKind.physicalName(env, current.address().name());
        Role role;
        try {
            role = c.iam.getRole(b -> b.roleName(name)).role();
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchEntity")) return;
            throw AwsErrors.translate("iam:GetRole " + name, e);
        }
        if (!role.path().equals(path(env))) {
            throw new DriverException(current.address() + ": IAM role " + name + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
        deleteRole(c.iam, name);
    }

    /** Deletes a role and what hangs off it (instance profile, inline and attached policies); gone already is fine. */
    static void deleteRole(IamClient iam, String name) {
        ignoreNoSuchEntity(() -> iam.removeRoleFromInstanceProfile(b -> b.instanceProfileName(name).roleName(name)), "iam:RemoveRoleFromInstanceProfile");
        ignoreNoSuchEntity(() -> iam.deleteInstanceProfile(b -> b.instanceProfileName(name)), "iam:DeleteInstanceProfile");
        ignoreNoSuchEntity(() -> iam.listRolePolicies(b -> b.roleName(name)).policyNames()
            .forEach(p -> ignoreNoSuchEntity(() -> iam.deleteRolePolicy(b -> b.roleName(name).policyName(p)), "iam:DeleteRolePolicy")),
            "iam:ListRolePolicies");
        ignoreNoSuchEntity(() -> iam.listAttachedRolePolicies(b -> b.roleName(name)).attachedPolicies()
            .forEach(p -> ignoreNoSuchEntity(() -> iam.detachRolePolicy(b -> b.roleName(name).policyArn(p.policyArn())), "iam:DetachRolePolicy")),
            "iam:ListAttachedRolePolicies");
        ignoreNoSuchEntity(() -> iam.deleteRole(b -> b.roleName(name)), "iam:DeleteRole");
    }

    private static void ignoreNoSuchEntity(Runnable r, String what) {
        try {
            r.run();
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "NoSuchEntity")) throw AwsErrors.translate(what, e);
        }
    }
}
