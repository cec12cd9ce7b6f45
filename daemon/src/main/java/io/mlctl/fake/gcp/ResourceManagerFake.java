package io.mlctl.fake.gcp;

import com.google.cloud.resourcemanager.v3.Project;
import com.google.iam.v1.Binding;
import com.google.iam.v1.GetIamPolicyRequest;
import com.google.iam.v1.Policy;
import com.google.iam.v1.SetIamPolicyRequest;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Cloud Resource Manager v3: {@code GET /v3/projects/{p}} (answered with the project's number, as one the other fakes agree on),
 * and the project IAM policy: {@code POST /v3/projects/{p}:getIamPolicy} and
 * {@code :setIamPolicy} with the vendor's {@code google.iam.v1} messages (strict JSON). As on Google:
 * a set with a stale etag is ABORTED (409: "concurrent policy changes"); a binding with a condition
 * needs policy version 3; a role must exist (a predefined role the fakes know, or a custom role of
 * the project); a {@code serviceAccount:} member of an {@code iam.gserviceaccount.com} account that
 * does not exist is refused (400); {@code allUsers} and {@code allAuthenticatedUsers} cannot be
 * granted on a project. Every project exists, owned by {@code user:owner@example.com}.
 */
public final class ResourceManagerFake implements FakeService {
    private static final Pattern PROJECT = Pattern.compile("[a-z][-a-z0-9]{4,28}[a-z0-9]");
    static final Pattern MEMBER = Pattern.compile("(user|serviceAccount|group|principal|principalSet):\\S+|domain:[a-z0-9.-]+"
        + "|deleted:(user|serviceAccount|group):\\S+\\?uid=\\d+|allUsers|allAuthenticatedUsers|(projectOwner|projectEditor|projectViewer):[a-z][-a-z0-9]+");
    private final GcpFakes fakes;
    private final Map<String, Policy> policies = new LinkedHashMap<>();
    private final AtomicLong etags = new AtomicLong();

    ResourceManagerFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
        // projects.get by id or number: every project exists (see the class comment), named by its number as Google answers.
        http.route("GET", "/v3/projects/([^/:]+)", r -> {
            String id = r.group(1);
            if (!id.matches("[0-9]+")) checkProject(id);
            Project.Builder p = Project.newBuilder().setName("projects/" + GcpFakes.projectNumber(id)).setState(Project.State.ACTIVE);
            if (!id.matches("[0-9]+")) p.setProjectId(id).setDisplayName(id);
            return FakeHttp.Response.ok(Json.print(p.build(), r.enumsAsInts()));
        });
        http.route("POST", "/v3/projects/([^/:]+):getIamPolicy", r -> {
            GetIamPolicyRequest q = Json.parse(r.body(), GetIamPolicyRequest.newBuilder()).build();
            return FakeHttp.Response.ok(Json.print(getIamPolicy(r.group(1), q.getOptions().getRequestedPolicyVersion()), r.enumsAsInts()));
        });
        http.route("POST", "/v3/projects/([^/:]+):setIamPolicy", r -> {
            SetIamPolicyRequest q = Json.parse(r.body(), SetIamPolicyRequest.newBuilder()).build();
            if (!q.getResource().isEmpty() && !q.getResource().equals("projects/" + r.group(1))) {
                throw GoogleError.invalid("resource '" + q.getResource() + "' does not match the URL");
            }
            return FakeHttp.Response.ok(Json.print(setIamPolicy(r.group(1), q), r.enumsAsInts()));
        });
    }

    private static void checkProject(String project) {
        if (!PROJECT.matcher(project).matches()) throw GoogleError.invalid("Invalid project id '" + project + "'");
    }

    private Policy current(String project) {
        return policies.computeIfAbsent(project, p -> Policy.newBuilder().setVersion(1).setEtag(etag())
            .addBindings(Binding.newBuilder().setRole("roles/owner").addMembers("user:owner@example.com")).build());
    }

    private ByteString etag() {
        return ByteString.copyFromUtf8("BwYfake" + etags.incrementAndGet());
    }

    /**
     * The policy. Asked for a version below 3 when it holds conditions, Google answers version 1 with
     * each conditional binding's role suffixed {@code _withcond_} and its condition left out; so does this.
     */
    public synchronized Policy getIamPolicy(String project, int requestedVersion) {
        checkProject(project);
        if (requestedVersion != 0 && requestedVersion != 1 && requestedVersion != 3) {
            throw GoogleError.invalid("Invalid requested policy version " + requestedVersion + ": use 1 or 3");
        }
        Policy p = current(project);
        if (requestedVersion == 3) return p;
        Policy.Builder v1 = p.toBuilder().setVersion(1).clearBindings();
        for (Binding b : p.getBindingsList()) {
            if (b.hasCondition()) {
                v1.addBindings(b.toBuilder().clearCondition().setRole(b.getRole() + "_withcond_"
                    + Integer.toHexString(b.getCondition().hashCode() & 0xfffff)));
            } else {
                v1.addBindings(b);
            }
        }
        return v1.build();
    }

    synchronized Policy setIamPolicy(String project, SetIamPolicyRequest q) {
        checkProject(project);
        if (!q.hasPolicy()) throw GoogleError.invalid("policy is required");
        Policy want = q.getPolicy();
        Policy now = current(project);
        if (!want.getEtag().isEmpty() && !want.getEtag().equals(now.getEtag())) {
            throw GoogleError.conflict("There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.");
        }
        List<Binding> bindings = checkBindings(fakes, want.getVersion(), want.getBindingsList(), false);
        boolean conditions = bindings.stream().anyMatch(Binding::hasCondition);
        Policy next = Policy.newBuilder().setVersion(conditions ? 3 : Math.max(1, want.getVersion())).addAllBindings(bindings)
            .addAllAuditConfigs(want.getAuditConfigsList()).setEtag(etag()).build();
        policies.put(project, next);
        return next;
    }

    /**
     * Bindings as IAM keeps them, after the checks IAM makes: known role, well-formed members that exist,
     * conditions only in version 3 with a title and an expression; bindings with the same role and
     * condition merged, bindings left without members dropped.
     */
    static List<Binding> checkBindings(GcpFakes fakes, int version, List<Binding> in, boolean bucket) {
        if (version != 0 && version != 1 && version != 3) throw GoogleError.invalid("Invalid policy version " + version + ": use 1 or 3");
        Map<String, Binding.Builder> merged = new LinkedHashMap<>();
        for (Binding b : in) {
            if (b.getRole().isEmpty()) throw GoogleError.invalid("A binding has no role");
            if (!fakes.iam().grantableRole(b.getRole())) {
                throw GoogleError.invalid("Role " + b.getRole() + " is not supported for this resource.");
            }
            if (bucket && b.getRole().startsWith("roles/") && !b.getRole().startsWith("roles/storage.")) {
                throw GoogleError.invalid("Role " + b.getRole() + " is not supported for this resource.");
            }
            if (b.hasCondition()) {
                if (version != 3) {
                    throw GoogleError.invalid("A binding of " + b.getRole() + " has a condition: the policy must be version 3");
                }
                if (b.getCondition().getTitle().isBlank()) throw GoogleError.invalid("Condition title must not be empty");
                if (b.getCondition().getExpression().isBlank()) throw GoogleError.invalid("Condition expression must not be empty");
                if (b.getCondition().getTitle().length() > 100) throw GoogleError.invalid("Condition title is longer than 100 characters");
            }
            Set<String> members = new LinkedHashSet<>();
            for (String m : b.getMembersList()) {
                checkMember(fakes, m, bucket);
                members.add(m);
            }
            String key = b.getRole() + "|" + (b.hasCondition() ? b.getCondition().toString() : "");
            Binding.Builder into = merged.computeIfAbsent(key, k -> b.toBuilder().clearMembers());
            Set<String> have = new LinkedHashSet<>(into.getMembersList());
            have.addAll(members);
            into.clearMembers().addAllMembers(have);
        }
        List<Binding> out = new ArrayList<>();
        for (Binding.Builder b : merged.values()) if (b.getMembersCount() > 0) out.add(b.build());
        return out;
    }

    static void checkMember(GcpFakes fakes, String m, boolean bucket) {
        if (!MEMBER.matcher(m).matches()) throw GoogleError.invalid("Invalid member '" + m + "': expected type:identifier, e.g. serviceAccount:EMAIL");
        if (!bucket && (m.equals("allUsers") || m.equals("allAuthenticatedUsers") || m.startsWith("project"))) {
            throw GoogleError.invalid("Member " + m + " cannot be granted roles on a project.");
        }
        if (m.startsWith("serviceAccount:") && m.endsWith(".iam.gserviceaccount.com")) {
            String email = m.substring("serviceAccount:".length());
            if (!fakes.iam().hasServiceAccount(email)) throw GoogleError.invalid("Service account " + email + " does not exist.");
        }
    }

    /** As Google does when an account is deleted: its bindings stay, naming it deleted. */
    synchronized void accountDeleted(String email, String uniqueId) {
        policies.replaceAll((p, policy) -> deleted(policy, email, uniqueId).toBuilder().setEtag(etag()).build());
    }

    static Policy deleted(Policy policy, String email, String uniqueId) {
        Policy.Builder b = policy.toBuilder().clearBindings();
        for (Binding x : policy.getBindingsList()) {
            Binding.Builder y = x.toBuilder().clearMembers();
            for (String m : x.getMembersList()) {
                y.addMembers(m.equals("serviceAccount:" + email) ? "deleted:serviceAccount:" + email + "?uid=" + uniqueId : m);
            }
            b.addBindings(y);
        }
        return b.build();
    }

    /** For tests: the policy as it stands (version 3). */
    public synchronized Policy policy(String project) {
        return current(project);
    }

    /** For tests: write the policy out of band, as someone in the console would (a new etag). */
    public synchronized void putPolicy(String project, Policy policy) {
        policies.put(project, policy.toBuilder().setEtag(etag()).build());
    }
}
