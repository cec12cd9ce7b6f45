package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.api.services.storage.model.Policy;
import com.google.iam.admin.v1.ServiceAccount;
import com.google.iam.v1.Binding;
import io.mlctl.fake.gcp.Faults;
import io.mlctl.fake.gcp.GoogleError;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Plan;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Page;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Service accounts and their grants against the fakes: bindings at the narrowest scope, read back
 * from the policies for drift, only this member's bindings ever touched.
 */
class GcpIdentityTest {
    static final String PROJECT = GcpBucketTest.PROJECT;
    static final String EMAIL = "dev-trainer@" + PROJECT + ".iam.gserviceaccount.com";
    static final String MEMBER = "serviceAccount:" + EMAIL;
    static final String DATA = "- {type: bucket, name: dev-data-x}\n";
    static final String TRAINER = "- {type: identity, name: trainer, grants: [{actions: [storage.read, storage.write], resource: bucket/dev-data-x}]}\n";

    @TempDir
    Path dir;
    GcpBucketTest.Rig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new GcpBucketTest.Rig(dir);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    Environment dev(String resources) {
        return rig.env("dev", "team: ml", resources);
    }

    /** role → members of the bucket's unconditional bindings. */
    Map<String, List<String>> bucketBindings(String bucket) {
        Map<String, List<String>> out = new TreeMap<>();
        for (Policy.Bindings b : rig.fakes.storage().policy(bucket).getBindings()) {
            if (b.getCondition() == null) out.put(b.getRole(), b.getMembers());
        }
        return out;
    }

    List<Binding> projectBindings() {
        return rig.fakes.resourceManager().policy(PROJECT).getBindingsList();
    }

    @Test
    void applyMakesTheAccountAndBucketLevelBindingsThenACleanPlan() {
        Environment env = dev(DATA + TRAINER);
        rig.apply(env);
        ServiceAccount sa = rig.fakes.iam().serviceAccount(EMAIL).orElseThrow();
        assertThat(sa.getDescription()).startsWith("mlctl: environment=dev address=identity.trainer");
        assertThat(bucketBindings("dev-data-x")).containsEntry("roles/storage.objectViewer", List.of(MEMBER))
            .containsEntry("roles/storage.objectCreator", List.of(MEMBER))
            .containsEntry("roles/storage.legacyBucketOwner", List.of("projectEditor:" + PROJECT, "projectOwner:" + PROJECT));
        // Never a project-wide storage role.
        assertThat(projectBindings()).noneMatch(b -> b.getMembersList().contains(MEMBER));
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(GcpBucketTest.paths(plan).toString()).isEmpty();
    }

    @Test
    void grantChangesAddAndRevokeOnlyThisMembersBindings() {
        rig.apply(dev(DATA + TRAINER));
        // Someone else reads the same bucket through the same role.
        addBucketMember("dev-data-x", "roles/storage.objectViewer", "user:alice@example.com");

        Environment deleteOnly = dev(DATA + "- {type: identity, name: trainer, grants: [{actions: [storage.delete], resource: bucket/dev-data-x}]}\n");
        assertThat(GcpBucketTest.paths(rig.plan(deleteOnly))).isNotEmpty();
        rig.apply(deleteOnly);
        Map<String, List<String>> b = bucketBindings("dev-data-x");
        assertThat(b.get("roles/storage.objectViewer")).containsExactly("user:alice@example.com");
        assertThat(b).doesNotContainKey("roles/storage.objectCreator");
        assertThat(b.get("projects/" + PROJECT + "/roles/mlctlObjectDeleter")).containsExactly(MEMBER);
        assertThat(rig.plan(deleteOnly).changes()).isEmpty();

        Environment none = dev(DATA + "- {type: identity, name: trainer}\n");
        rig.apply(none);
        assertThat(bucketBindings("dev-data-x")).doesNotContainKey("projects/" + PROJECT + "/roles/mlctlObjectDeleter")
            .containsEntry("roles/storage.objectViewer", List.of("user:alice@example.com"));
        assertThat(rig.plan(none).changes()).isEmpty();
    }

    private void addBucketMember(String bucket, String role, String member) {
        Policy p = rig.fakes.storage().policy(bucket);
        List<Policy.Bindings> bindings = new ArrayList<>(p.getBindings());
        boolean found = false;
        for (Policy.Bindings b : bindings) {
            if (b.getRole().equals(role) && b.getCondition() == null) {
                List<String> m = new ArrayList<>(b.getMembers());
                m.add(member);
                b.setMembers(m);
                found = true;
            }
        }
        if (!found) bindings.add(new Policy.Bindings().setRole(role).setMembers(List.of(member)));
        rig.fakes.storage().setPolicyAs(bucket, io.mlctl.fake.gcp.Json.printModel(p.setBindings(bindings)));
    }

    @Test
    void aBindingRemovedOutOfBandIsDriftAndIsRestored() {
        Environment env = dev(DATA + TRAINER);
        rig.apply(env);
        Policy p = rig.fakes.storage().policy("dev-data-x");
        p.setBindings(p.getBindings().stream().filter(b -> !b.getRole().equals("roles/storage.objectCreator")).toList());
        rig.fakes.storage().setPolicyAs("dev-data-x", io.mlctl.fake.gcp.Json.printModel(p));

        Plan plan = rig.plan(env);
        assertThat(GcpBucketTest.paths(plan)).anyMatch(x -> x.startsWith("identity.trainer:grants"));
        rig.apply(env);
        assertThat(bucketBindings("dev-data-x")).containsEntry("roles/storage.objectCreator", List.of(MEMBER));
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void projectLevelGrantsAreConditionalBindingsThatReadBackAsTheGrants() {
        Environment env = dev("""
            - type: identity
              name: trainer
              grants:
                - {actions: [kubernetes.access], resource: kubernetes_cluster/gke}
                - {actions: [instance.read], resource: instance/box}
                - {actions: [endpoint.invoke], resource: inference_endpoint/ep}
            - type: kubernetes_cluster
              name: gke
              version: "1.30"
              subnet: net/a
              nodePools: [{name: p, machineType: n1-standard-4, min: 1, max: 2}]
            - type: instance
              name: box
              machineType: n1-standard-4
              subnet: net/a
            - type: inference_endpoint
              name: ep
              modelUri: gs://dev-data-x/m/
              machineType: n1-standard-4
            - type: network
              name: net
              cidr: 10.0.0.0/16
              subnets: [{name: a, cidr: 10.0.1.0/24, zone: us-central1-a}]
            """);
        ResourceSpec trainer = env.resources().stream().filter(s -> s.address().type() == ResourceType.IDENTITY).findFirst().orElseThrow();
        // Driven through the driver alone: the other kinds of this spec are another engineer's.
        rig.gcp.create(env, trainer, CreateRequest.first("t1"));
        List<Binding> mine = projectBindings().stream().filter(b -> b.getMembersList().contains(MEMBER)).toList();
        assertThat(mine).extracting(Binding::getRole).containsExactlyInAnyOrder("roles/container.clusterViewer", "roles/compute.viewer",
            "projects/" + PROJECT + "/roles/mlctlEndpointInvoker");
        assertThat(mine).filteredOn(b -> b.getRole().equals("roles/container.clusterViewer")).singleElement()
            .satisfies(b -> assertThat(b.getCondition().getExpression()).isEqualTo("resource.name.endsWith(\"/clusters/dev-gke\")"));
        assertThat(mine).filteredOn(b -> b.getRole().equals("roles/compute.viewer")).singleElement()
            .satisfies(b -> assertThat(b.getCondition().getExpression()).isEqualTo("resource.name.endsWith(\"/instances/dev-box\")"));
        assertThat(rig.fakes.resourceManager().policy(PROJECT).getVersion()).isEqualTo(3);
        assertThat(rig.fakes.iam().grantableRole("projects/" + PROJECT + "/roles/mlctlEndpointInvoker")).isTrue();

        Page page = rig.gcp.list(env, ResourceType.IDENTITY, Optional.empty());
        assertThat(page.items()).singleElement().satisfies(r -> assertThat(r.attributes().get("grants")).isEqualTo(trainer.attributes().get("grants")));

        // Edited out of band (the condition widened): not the grant any more, so it reads as missing.
        List<Binding> edited = new ArrayList<>();
        for (Binding b : projectBindings()) {
            edited.add(b.getRole().equals("roles/compute.viewer") ? b.toBuilder().setCondition(b.getCondition().toBuilder().setExpression("true")).build() : b);
        }
        rig.fakes.resourceManager().putPolicy(PROJECT, rig.fakes.resourceManager().policy(PROJECT).toBuilder().clearBindings().addAllBindings(edited).build());
        ObservedResource drifted = rig.gcp.list(env, ResourceType.IDENTITY, Optional.empty()).items().get(0);
        assertThat(String.valueOf(drifted.attributes().get("grants"))).doesNotContain("instance/box").contains("kubernetes_cluster/gke");
    }

    @Test
    void anotherTeamsServiceAccountOfTheSameIdIsRefusedAndUntouched() {
        ServiceAccount theirs = rig.fakes.iam().createServiceAccount(PROJECT, "dev-trainer", "their trainer", "the data team's");
        List<String> failures = rig.applyFailing(dev(DATA + TRAINER));
        assertThat(failures).singleElement().asString()
            .contains("identity.trainer: service account " + EMAIL + " already exists and is not managed by mlctl").doesNotContain("\n");
        assertThat(rig.fakes.iam().serviceAccount(EMAIL)).contains(theirs);
        assertThat(bucketBindings("dev-data-x")).doesNotContainKeys("roles/storage.objectViewer", "roles/storage.objectCreator");
    }

    @Test
    void grantsGoOnlyOnThisEnvironmentsBucket() {
        rig.fakes.storage().insertAs(PROJECT, "{\"name\": \"dev-data-x\", \"location\": \"us-central1\", \"labels\": {\"team\": \"other\"}}");
        Policy before = rig.fakes.storage().policy("dev-data-x");
        Environment env = dev(DATA + TRAINER);
        rig.applyFailing(env);
        assertThat(rig.fakes.storage().policy("dev-data-x")).isEqualTo(before);
        // And driven directly (no dependency in the way), the identity refuses to touch it.
        ResourceSpec trainer = env.resources().stream().filter(s -> s.address().type() == ResourceType.IDENTITY).findFirst().orElseThrow();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> rig.gcp.create(env, trainer, CreateRequest.first("t2")))
            .hasMessageContaining("bucket dev-data-x is not managed by mlctl").hasMessageContaining("does not change its IAM policy");
        assertThat(rig.fakes.storage().policy("dev-data-x")).isEqualTo(before);
    }

    @Test
    void aLostAnswerToCreateServiceAccountMakesOneAccount() {
        rig.fakes.faults().dropResponse("IAM/CreateServiceAccount$", 1);
        Environment env = dev(DATA + TRAINER);
        rig.apply(env);
        assertThat(rig.fakes.faults().count("IAM/CreateServiceAccount$")).isEqualTo(1); // found, not made again
        assertThat(rig.fakes.iam().serviceAccounts(PROJECT)).extracting(ServiceAccount::getEmail).containsExactly(EMAIL);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aStaleEtagOnEitherPolicyIsReadAgainAndRetried() {
        rig.fakes.faults().fail("^PUT /storage/v1/b/dev-data-x/iam$", 1,
            new GoogleError(412, "FAILED_PRECONDITION", "conditionNotMet", "Precondition Failed", Map.of()));
        rig.fakes.faults().fail(":setIamPolicy$", 1, GoogleError.conflict(
            "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff."));
        Environment env = dev(DATA + TRAINER + "- {type: identity, name: server, grants: [{actions: [storage.read], resource: bucket/dev-data-x}]}\n");
        rig.apply(env);
        assertThat(rig.fakes.faults().count("^PUT /storage/v1/b/dev-data-x/iam$")).isGreaterThanOrEqualTo(3);
        assertThat(bucketBindings("dev-data-x").get("roles/storage.objectViewer"))
            .containsExactlyInAnyOrder(MEMBER, "serviceAccount:dev-server@" + PROJECT + ".iam.gserviceaccount.com");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void permissionDeniedIsOneLineAndUnavailableIsRetried() {
        rig.fakes.faults().fail("IAM/ListServiceAccounts$", 2, Faults.unavailable());
        rig.fakes.faults().fail("IAM/CreateServiceAccount$", 1, GoogleError.permissionDenied("iam.serviceAccounts.create", "projects/" + PROJECT));
        List<String> failures = rig.applyFailing(dev(DATA + TRAINER));
        assertThat(failures).singleElement().asString()
            .contains("permission denied: the credentials lack iam.serviceAccounts.create on projects/" + PROJECT).doesNotContain("\n");
        assertThat(rig.fakes.iam().serviceAccounts(PROJECT)).isEmpty();
    }

    @Test
    void destroyRevokesTheGrantsThenDeletesTheAccount() {
        Environment env = dev(DATA + "- {type: identity, name: trainer, grants: [{actions: [storage.read, storage.delete], resource: bucket/dev-data-x}]}\n");
        rig.apply(env);
        rig.destroy(env);
        assertThat(rig.fakes.iam().serviceAccounts(PROJECT)).isEmpty();
        assertThat(rig.fakes.storage().names()).isEmpty();
        assertThat(projectBindings()).allSatisfy(b -> assertThat(b.getMembersList()).noneMatch(m -> m.contains("dev-trainer")));
        // The shared custom role stays for other environments.
        assertThat(rig.fakes.iam().grantableRole("projects/" + PROJECT + "/roles/mlctlObjectDeleter")).isTrue();
    }

    @Test
    void inventoryCostsAListAProjectPolicyAndOnePolicyPerBucket() {
        StringBuilder r = new StringBuilder();
        for (int i = 0; i < 10; i++) r.append("- {type: bucket, name: dev-b-").append(i).append("}\n");
        for (int i = 0; i < 20; i++) {
            r.append("- {type: identity, name: id-").append(i).append(", grants: [{actions: [storage.read], resource: bucket/dev-b-")
                .append(i % 10).append("}]}\n");
        }
        Environment env = dev(r.toString());
        rig.apply(env);
        rig.fakes.faults().resetCounts();
        long before = rig.gcp.requestCount();
        assertThat(rig.plan(env).changes()).isEmpty();
        long identity = rig.fakes.faults().count("IAM/ListServiceAccounts") + rig.fakes.faults().count(":getIamPolicy")
            + rig.fakes.faults().count("/iam$") + rig.fakes.faults().count("^GET /storage/v1/b$");
        // 1 account list + 1 project policy + 1 bucket list (identity) + 10 bucket policies; buckets: 1 list.
        assertThat(rig.fakes.faults().count("IAM/ListServiceAccounts")).isEqualTo(1);
        assertThat(rig.fakes.faults().count(":getIamPolicy")).isEqualTo(1);
        assertThat(rig.fakes.faults().count("/iam$")).isEqualTo(10);
        assertThat(rig.fakes.faults().count("^GET /storage/v1/b$")).isEqualTo(2);
        // Networks, instances, GKE clusters and Vertex endpoints: one empty listing each, on top.
        assertThat(rig.fakes.faults().total()).isEqualTo(identity + 4);
        assertThat(rig.gcp.requestCount() - before).isEqualTo(identity + 4);
    }
}
