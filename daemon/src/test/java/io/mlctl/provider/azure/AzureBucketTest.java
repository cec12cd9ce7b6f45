package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.util.BinaryData;
import com.azure.resourcemanager.storage.fluent.models.BlobContainerInner;
import com.azure.storage.blob.BlobContainerClient;
import io.mlctl.engine.Engine;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.fake.azure.ArmFake;
import io.mlctl.fake.azure.BlobMirror;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Azurite;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bucket kind on the real engine, driver and SDK against the ARM fake (and Azurite for the blob data plane). */
class AzureBucketTest {
    static final String DATA = "- {type: bucket, name: corpora, versioning: true, lifecycle: [{afterDays: 60, storageClass: cold}, {prefix: tmp/, expireDays: 7}]}\n";

    @TempDir
    Path dir;
    AzureRig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new AzureRig(dir);
    }

    @AfterEach
    void stop() {
        rig.close();
    }

    Environment dev(String resources) {
        return rig.env("dev", "team: ml", resources);
    }

    String accountName(Environment env, String bucket) {
        return AzureKind.storageAccountName(AzureRig.SUBSCRIPTION, env, bucket);
    }

    String accountId(Environment env, String bucket) {
        return rig.id(env.name(), "Microsoft.Storage/storageAccounts/" + accountName(env, bucket));
    }

    Map<String, Object> account(Environment env, String bucket) {
        return rig.arm.get(accountId(env, bucket)).orElseThrow();
    }

    Map<String, Object> container(Environment env, String bucket) {
        return rig.arm.get(accountId(env, bucket) + "/blobServices/default/containers/" + bucket).orElseThrow();
    }

    static Map<String, Object> props(Map<String, Object> resource) {
        return ArmFake.properties(resource);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> rules(Map<String, Object> policy) {
        return (List<Map<String, Object>>) map(props(policy).get("policy")).get("rules");
    }

    Map<String, Object> policy(Environment env, String bucket) {
        return rig.arm.get(accountId(env, bucket) + "/managementPolicies/default").orElseThrow();
    }

    Map<String, Object> blobService(Environment env, String bucket) {
        return rig.arm.get(accountId(env, bucket) + "/blobServices/default").orElseThrow();
    }

    /** Stores a changed copy of a resource, as someone changing it in the portal would. */
    void outOfBand(String id, java.util.function.Consumer<Map<String, Object>> change) {
        Map<String, Object> r = new LinkedHashMap<>(rig.arm.get(id).orElseThrow());
        change.accept(r);
        rig.arm.put(id, r);
    }

    @Test
    void applyFromNothingMakesAccountContainerVersioningAndPolicyThenACleanPlanInFourRequests() {
        Environment env = dev(DATA);
        rig.apply(env);
        String name = accountName(env, "corpora");
        assertThat(name).matches("[a-z0-9]{3,24}").startsWith("devcorpora");
        Map<String, Object> a = account(env, "corpora");
        assertThat(a).containsEntry("kind", "StorageV2").containsEntry("location", "eastus");
        assertThat(map(a.get("sku"))).containsEntry("name", "Standard_LRS");
        assertThat(map(a.get("tags"))).containsEntry("managed-by", "mlctl").containsEntry("mlctl-environment", "dev")
            .containsEntry("mlctl-address", "bucket.corpora").containsEntry("team", "ml").containsEntry("mlctl-labels", "team");
        assertThat(props(a)).containsEntry("allowBlobPublicAccess", false).containsEntry("minimumTlsVersion", "TLS1_2")
            .containsEntry("supportsHttpsTrafficOnly", true).containsEntry("accessTier", "Hot");
        assertThat(map(props(a).get("encryption"))).containsEntry("keySource", "Microsoft.Storage");
        assertThat(props(blobService(env, "corpora"))).containsEntry("isVersioningEnabled", true);
        Map<String, Object> c = container(env, "corpora");
        assertThat(props(c)).containsEntry("publicAccess", "None");
        assertThat(map(props(c).get("metadata"))).containsEntry("mlctl_environment", "dev").containsEntry("mlctl_address", "bucket.corpora")
            .containsEntry("managed_by", "mlctl");
        List<Map<String, Object>> rules = rules(policy(env, "corpora"));
        assertThat(rules).hasSize(2);
        assertThat(rules.get(0).toString()).contains("name=mlctl1").contains("tierToCool={daysAfterModificationGreaterThan=60.0}")
            .contains("prefixMatch=[corpora/]").contains("blobTypes=[blockBlob]");
        assertThat(rules.get(1).toString()).contains("delete={daysAfterModificationGreaterThan=7.0}").contains("prefixMatch=[corpora/tmp/]");
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).hasSize(1);

        rig.arm.faults().resetCounts();
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();
        // One Graph query, then what Graph lacks: blob service, policy and container.
        assertThat(rig.graphQueries("storageaccounts")).isEqualTo(1);
        assertThat(rig.arm.faults().log().stream().filter(l -> !l.startsWith("POST /providers/Microsoft.ResourceGraph/")).toList()).containsExactlyInAnyOrder(
            "GET " + accountId(env, "corpora") + "/blobServices/default", "GET " + accountId(env, "corpora") + "/managementPolicies/default",
            "GET " + accountId(env, "corpora") + "/blobServices/default/containers/corpora");
    }

    @Test
    void inventoryIsOneGraphQueryPerPageAndThreeReadsPerAccountOfThisEnvironmentOnly() {
        StringBuilder resources = new StringBuilder();
        for (int i = 0; i < 12; i++) resources.append("- {type: bucket, name: data-").append(i).append(", versioning: true, lifecycle: [{expireDays: 9}]}\n");
        Environment env = dev(resources.toString());
        rig.apply(env);
        rig.apply(rig.env("other", "", "- {type: bucket, name: data-0}\n"));
        rig.arm.faults().resetCounts();
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(rig.graphQueries("storageaccounts")).isEqualTo(1);
        assertThat(rig.arm.faults().count("^GET /subscriptions/[^/]+/resourceGroups/dev/providers/Microsoft.Storage/storageAccounts/[a-z0-9]+/"))
            .isEqualTo(12 * 3);
        assertThat(rig.nonGraphRequests()).isEqualTo(12 * 3);
    }

    @Test
    void eachAttributeChangeIsAnUpdateInPlaceAndConverges() {
        rig.apply(dev(DATA));
        String rule = "{prefix: logs/, afterDays: 10, storageClass: archive, expireDays: 400, noncurrentExpireDays: 7}";
        Environment changed = rig.env("dev", "team: vision", "- {type: bucket, name: corpora, versioning: false, public: true, lifecycle: [" + rule + "]}\n");
        Plan plan = rig.plan(changed);
        assertThat(plan.changes()).singleElement().isInstanceOf(Change.Update.class);
        assertThat(AzureRig.paths(plan)).contains("bucket.corpora:versioning", "bucket.corpora:public", "bucket.corpora:lifecycle", "bucket.corpora:tags.team");
        rig.apply(changed);

        assertThat(props(blobService(changed, "corpora"))).containsEntry("isVersioningEnabled", false);
        assertThat(props(account(changed, "corpora"))).containsEntry("allowBlobPublicAccess", true);
        assertThat(props(container(changed, "corpora"))).containsEntry("publicAccess", "Blob");
        assertThat(map(account(changed, "corpora").get("tags"))).containsEntry("team", "vision");
        assertThat(rules(policy(changed, "corpora"))).singleElement().asString().contains("tierToArchive={daysAfterModificationGreaterThan=10.0}")
            .contains("delete={daysAfterModificationGreaterThan=400.0}").contains("version={delete={daysAfterCreationGreaterThan=7.0}}")
            .contains("prefixMatch=[corpora/logs/]");
        Plan after = rig.plan(changed);
        assertThat(after.changes()).as(AzureRig.paths(after).toString()).isEmpty();

        // And back: no lifecycle deletes the policy, private closes the container and then the account.
        Environment plain = rig.env("dev", "team: vision", "- {type: bucket, name: corpora}\n");
        rig.apply(plain);
        assertThat(rig.arm.get(accountId(plain, "corpora") + "/managementPolicies/default")).isEmpty();
        assertThat(props(container(plain, "corpora"))).containsEntry("publicAccess", "None");
        assertThat(props(account(plain, "corpora"))).containsEntry("allowBlobPublicAccess", false);
        assertThat(rig.plan(plain).changes()).isEmpty();
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).hasSize(1);
    }

    @Test
    void aRegionChangeReplacesTheAccount() {
        rig.apply(dev(DATA));
        // The same spec in another region (AzureRig's environments are all in eastus).
        Plan plan = rig.plan(io.mlctl.testing.Specs.env("{apiVersion: mlctl.io/v1, kind: Environment, metadata: {name: dev, labels: {team: ml}}, "
            + "spec: {provider: azure, region: westeurope, resources: [" + DATA.strip().substring(2) + "]}}"));
        assertThat(plan.changes()).singleElement().isInstanceOf(Change.Replace.class);
        assertThat(AzureRig.paths(plan)).contains("bucket.corpora:region");
    }

    @Test
    void driftOutOfBandShowsInThePlanAndIsCorrected() {
        Environment env = dev(DATA);
        rig.apply(env);
        String id = accountId(env, "corpora");
        // In the portal: a lifecycle rule deleted, versioning off, public access on, a label removed and a tag of someone else's added.
        outOfBand(id + "/managementPolicies/default", p -> rules(p).remove(1));
        outOfBand(id + "/blobServices/default", s -> props(s).put("isVersioningEnabled", false));
        outOfBand(id, a -> {
            props(a).put("allowBlobPublicAccess", true);
            Map<String, Object> tags = new LinkedHashMap<>(map(a.get("tags")));
            tags.remove("team");
            tags.put("cost-center", "research");
            a.put("tags", tags);
        });
        outOfBand(id + "/blobServices/default/containers/corpora", c -> props(c).put("publicAccess", "Blob"));

        Plan plan = rig.plan(env);
        assertThat(AzureRig.paths(plan)).containsExactlyInAnyOrder("bucket.corpora:lifecycle", "bucket.corpora:versioning", "bucket.corpora:public",
            "bucket.corpora:tags");
        rig.apply(env);
        assertThat(rules(policy(env, "corpora"))).hasSize(2);
        assertThat(props(blobService(env, "corpora"))).containsEntry("isVersioningEnabled", true);
        assertThat(props(account(env, "corpora"))).containsEntry("allowBlobPublicAccess", false);
        assertThat(props(container(env, "corpora"))).containsEntry("publicAccess", "None");
        assertThat(map(account(env, "corpora").get("tags"))).containsEntry("team", "ml").containsEntry("cost-center", "research");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aWeakenedTransportIsShownAndRestored() {
        Environment env = dev(DATA);
        rig.apply(env);
        outOfBand(accountId(env, "corpora"), a -> {
            props(a).put("minimumTlsVersion", "TLS1_0");
            props(a).put("supportsHttpsTrafficOnly", false);
        });
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).singleElement().satisfies(c -> assertThat(c.attributes()).singleElement().satisfies(ch -> {
            assertThat(ch.path()).isEqualTo("transport");
            assertThat(ch.before()).isEqualTo("minimum TLS version TLS1_0, plain HTTP allowed");
        }));
        rig.apply(env);
        assertThat(props(account(env, "corpora"))).containsEntry("minimumTlsVersion", "TLS1_2").containsEntry("supportsHttpsTrafficOnly", true);
        assertThat(rig.plan(env).changes()).isEmpty();
        // TLS 1.3 is stronger than what mlctl sets, not drift.
        outOfBand(accountId(env, "corpora"), a -> props(a).put("minimumTlsVersion", "TLS1_3"));
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void publicAccessAllowedOnlyOnTheAccountIsDriftToo() {
        Environment env = dev(DATA);
        rig.apply(env);
        outOfBand(accountId(env, "corpora"), a -> props(a).put("allowBlobPublicAccess", true));
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).singleElement().satisfies(c -> assertThat(c.attributes()).singleElement().satisfies(ch -> {
            assertThat(ch.path()).isEqualTo("public");
            assertThat(String.valueOf(ch.before())).contains("partly").contains("allowBlobPublicAccess true");
        }));
        rig.apply(env);
        assertThat(props(account(env, "corpora"))).containsEntry("allowBlobPublicAccess", false);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aLifecycleRuleSomeoneElseWroteIsShownAndReplaced() {
        Environment env = dev(DATA);
        rig.apply(env);
        outOfBand(accountId(env, "corpora") + "/managementPolicies/default", p -> {
            Map<String, Object> theirs = new LinkedHashMap<>(rules(p).get(0));
            theirs.put("name", "theirs");
            theirs.put("enabled", false);
            rules(p).add(theirs);
        });
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).singleElement().satisfies(c -> assertThat(String.valueOf(c.attributes().get(0).before())).contains("azureRule=theirs"));
        rig.apply(env);
        assertThat(rules(policy(env, "corpora"))).extracting(r -> r.get("name")).containsExactly("mlctl1", "mlctl2");
    }

    @Test
    void aContainerDeletedOutOfBandIsAnUpdateThatMakesItAgainInTheSameAccount() {
        Environment env = dev(DATA);
        rig.apply(env);
        rig.arm.remove(accountId(env, "corpora") + "/blobServices/default/containers/corpora");
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).singleElement().isInstanceOf(Change.Update.class);
        assertThat(AzureRig.paths(plan)).containsExactly("bucket.corpora:container");
        rig.apply(env);
        assertThat(map(props(container(env, "corpora")).get("metadata"))).containsEntry("mlctl_address", "bucket.corpora");
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).hasSize(1);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void aBucketWhoseContainerWasDeletedOutOfBandIsStillPrunedAndDestroyed() {
        Environment both = dev(DATA + "- {type: bucket, name: models}\n");
        rig.apply(both);
        rig.arm.remove(accountId(both, "models") + "/blobServices/default/containers/models");
        Environment one = dev(DATA);
        assertThat(rig.plan(one).changes()).singleElement().satisfies(c -> {
            assertThat(c).isInstanceOf(Change.Delete.class);
            assertThat(c.address().toString()).isEqualTo("bucket.models");
        });
        rig.apply(one);
        assertThat(rig.arm.get(accountId(one, "models"))).isEmpty();

        rig.arm.remove(accountId(one, "corpora") + "/blobServices/default/containers/corpora");
        rig.destroy(one);
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void destroyAndPruneRefuseAnAccountHoldingAContainerMlctlDidNotMakeAndDeleteNothing() {
        Environment env = dev(DATA);
        rig.apply(env);
        String name = accountName(env, "corpora");
        try (AzureClients cloud = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, rig.arm.endpoint())),
            AzureRig.SUBSCRIPTION, "eastus")) {
            cloud.storage().serviceClient().getBlobContainers().create("dev", name, "their-data", new BlobContainerInner());
        }
        List<Map<String, Object>> before = rig.arm.all();

        Engine.ApplyOutcome destroy = rig.run(env, true);
        assertThat(destroy.result().orElseThrow().failures()).singleElement().asString()
            .contains("bucket.corpora: storage account " + name + " also holds container their-data").contains("mlctl does not delete data")
            .doesNotContain("\n");
        assertThat(rig.arm.all()).isEqualTo(before);
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).isPresent();
        // Left out of the spec (prune): the same refusal.
        assertThat(rig.applyFailing(dev("- {type: bucket, name: models}\n"))).singleElement().asString().contains("also holds container their-data");
        assertThat(rig.arm.get(accountId(env, "corpora") + "/blobServices/default/containers/their-data")).isPresent();
        assertThat(container(env, "corpora")).isNotNull();

        // Once they move their data, destroy goes through.
        rig.arm.remove(accountId(env, "corpora") + "/blobServices/default/containers/their-data");
        rig.destroy(dev("- {type: bucket, name: models}\n"));
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void aBucketResourceGraphDoesNotShowYetIsReadDirectlySoPlanIsCleanAndDestroyFindsIt() {
        rig.arm.graphLag(Duration.ofHours(1));
        Environment env = dev(DATA);
        rig.apply(env);
        rig.arm.faults().resetCounts();
        Plan plan = rig.plan(env);
        assertThat(plan.changes()).as(AzureRig.paths(plan).toString()).isEmpty();
        assertThat(rig.arm.faults().count("^GET " + accountId(env, "corpora") + "$")).as("the direct read").isEqualTo(1);
        rig.destroy(env);
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).isEmpty();
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void pruneDeletesTheAccountOfABucketLeftOutAndDestroyLeavesNothing() {
        Environment both = dev(DATA + "- {type: bucket, name: models}\n");
        rig.apply(both);
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).hasSize(2);
        Environment one = dev(DATA);
        Plan plan = rig.plan(one);
        assertThat(plan.changes()).singleElement().satisfies(c -> {
            assertThat(c).isInstanceOf(Change.Delete.class);
            assertThat(c.address().toString()).isEqualTo("bucket.models");
        });
        rig.apply(one);
        assertThat(rig.arm.get(accountId(one, "models"))).isEmpty();
        assertThat(rig.arm.get(accountId(one, "corpora"))).isPresent();
        rig.destroy(one);
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).as("the group mlctl made goes too").isEmpty();
    }

    @Test
    void anotherTeamsAccountUnderTheSameNameIsRefusedAndLeftAsItWas() {
        Environment env = dev(DATA);
        rig.arm.putGroup(AzureRig.SUBSCRIPTION, "dev", "eastus", Map.of());
        Map<String, Object> theirs = new LinkedHashMap<>();
        theirs.put("id", accountId(env, "corpora"));
        theirs.put("name", accountName(env, "corpora"));
        theirs.put("type", "Microsoft.Storage/storageAccounts");
        theirs.put("location", "eastus");
        theirs.put("kind", "StorageV2");
        theirs.put("sku", Map.of("name", "Standard_LRS"));
        theirs.put("tags", Map.of("team", "other"));
        theirs.put("properties", Map.of("provisioningState", "Succeeded", "allowBlobPublicAccess", true));
        rig.arm.put(accountId(env, "corpora"), theirs);
        Map<String, Object> snapshot = account(env, "corpora");
        List<String> failures = rig.applyFailing(env);
        assertThat(failures).singleElement().asString()
            .contains("bucket.corpora: storage account " + accountName(env, "corpora") + " already exists and is not managed by mlctl").doesNotContain("\n");
        assertThat(account(env, "corpora")).isEqualTo(snapshot);
        assertThat(map(account(env, "corpora").get("tags"))).containsExactly(Map.entry("team", "other"));
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts/blobServices/containers")).isEmpty();
    }

    @Test
    void anAccountNameTakenInAnotherSubscriptionIsOneLineNamingIt() {
        Environment env = dev(DATA);
        String elsewhere = "00000000-aaaa-bbbb-cccc-000000000001";
        rig.arm.putGroup(elsewhere, "theirs", "westus", Map.of());
        String name = accountName(env, "corpora");
        rig.arm.put("/subscriptions/" + elsewhere + "/resourceGroups/theirs/providers/Microsoft.Storage/storageAccounts/" + name,
            new LinkedHashMap<>(Map.of("id", "/subscriptions/" + elsewhere + "/resourceGroups/theirs/providers/Microsoft.Storage/storageAccounts/" + name,
                "name", name, "type", "Microsoft.Storage/storageAccounts", "location", "westus", "kind", "StorageV2",
                "properties", Map.of("provisioningState", "Succeeded"))));
        List<String> failures = rig.applyFailing(env);
        assertThat(failures).singleElement().asString().contains("bucket.corpora: storage account name " + name + " is already taken")
            .contains("global").doesNotContain("\n");
        assertThat(rig.arm.get(accountId(env, "corpora"))).isEmpty();
    }

    @Test
    void lostAnswersToTheAccountAndContainerPutsMakeOneOfEach() {
        Environment env = dev(DATA);
        String name = accountName(env, "corpora");
        rig.arm.faults().dropResponse("^PUT .*/storageAccounts/" + name + "$", 1);
        rig.arm.faults().dropResponse("^PUT .*/containers/corpora$", 1);
        rig.apply(env);
        assertThat(rig.arm.faults().count("^PUT .*/storageAccounts/" + name + "$")).isEqualTo(2);
        assertThat(rig.arm.faults().count("^PUT .*/containers/corpora$")).isEqualTo(2);
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts/blobServices/containers")).hasSize(1);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void anAccountStillBeingCreatedIsWaitedFor() throws Exception {
        Environment env = dev(DATA);
        String id = accountId(env, "corpora");
        rig.arm.operationTime(Duration.ofHours(1));
        CompletableFuture<Plan> apply = CompletableFuture.supplyAsync(() -> rig.apply(env));
        // Held Creating until complete's wait has read it so at least once.
        while (readsAfterCreate(id) < 1) {
            assertThat(apply).as("the apply waits for the account").isNotDone();
            Thread.sleep(10);
        }
        assertThat(props(account(env, "corpora"))).containsEntry("provisioningState", "Creating");
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts/blobServices/containers")).as("nothing made in it yet").isEmpty();
        rig.arm.operationTime(Duration.ZERO);
        // The storage provider finishes it (the fake's held operation keeps its time: the account is stored as Azure would show it done).
        outOfBand(id, a -> props(a).put("provisioningState", "Succeeded"));
        apply.get(2, TimeUnit.MINUTES);
        assertThat(readsAfterCreate(id)).as("read again until Succeeded").isGreaterThanOrEqualTo(2);
        assertThat(container(env, "corpora")).isNotNull();
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    /** GETs of the account after its create PUT went out. */
    long readsAfterCreate(String id) {
        List<String> log = rig.arm.faults().log();
        int put = -1;
        for (int i = 0; i < log.size() && put < 0; i++) if (log.get(i).equalsIgnoreCase("PUT " + id)) put = i;
        return put < 0 ? 0 : log.subList(put, log.size()).stream().filter(l -> l.equalsIgnoreCase("GET " + id)).count();
    }

    @Test
    void aFailedProvisioningIsOneLine() {
        Environment env = dev(DATA);
        rig.arm.faults().failOperation("^PUT .*/storageAccounts/", 1, new ArmError(500, "InternalError", "The storage resource provider failed."));
        List<String> failures = rig.applyFailing(env);
        assertThat(failures).singleElement().asString().contains("storage account " + accountName(env, "corpora") + " failed to provision")
            .doesNotContain("\n");
    }

    @Test
    void throttledReadsAreRetriedAfterRetryAfter() {
        Environment env = dev(DATA);
        rig.apply(env);
        rig.arm.faults().resetCounts();
        rig.arm.faults().throttle("^GET .*/managementPolicies/default$", 1, 1);
        assertThat(rig.plan(env).changes()).isEmpty();
        // The 429 was answered and the same read sent again (the pipeline's wait for Retry-After is not measured here).
        assertThat(rig.arm.faults().count("^GET .*/managementPolicies/default$")).isEqualTo(2);
    }

    @Test
    void customerManagedKeysAreRefusedWithWhatIsMissingAndKeptWhereSomeoneSetThem() {
        Environment kms = dev("- {type: bucket, name: corpora, encryption: kms}\n");
        List<String> failures = rig.applyFailing(kms);
        assertThat(failures).singleElement().asString().contains("encryption: kms needs a customer-managed key in Azure Key Vault")
            .contains(accountName(kms, "corpora")).doesNotContain("\n");
        assertThat(rig.arm.list("Microsoft.Storage/storageAccounts")).isEmpty();

        Environment managed = dev("- {type: bucket, name: corpora}\n");
        rig.apply(managed);
        assertThat(rig.applyFailing(kms)).singleElement().asString().contains("encryption: kms needs");
        // Someone sets a customer-managed key in the portal: kms then holds, managed switches back.
        outOfBand(accountId(managed, "corpora"), a -> props(a).put("encryption", Map.of("keySource", "Microsoft.Keyvault",
            "keyvaultproperties", Map.of("keyname", "k1", "keyvaulturi", "https://ml.vault.azure.net/"))));
        assertThat(rig.plan(kms).changes()).isEmpty();
        assertThat(AzureRig.paths(rig.plan(managed))).containsExactly("bucket.corpora:encryption");
        rig.apply(managed);
        assertThat(map(props(account(managed, "corpora")).get("encryption"))).containsEntry("keySource", "Microsoft.Storage");
        assertThat(rig.plan(managed).changes()).isEmpty();
    }

    @Test
    void bucketNamesAzureContainersCannotTakeAreSpecErrors() {
        assertThatThrownBy(() -> dev("- {type: bucket, name: ab}\n")).hasMessageContaining("too short for an Azure blob container");
        assertThatThrownBy(() -> dev("- {type: bucket, name: raw--data}\n")).hasMessageContaining("'--'");
    }

    @Test
    void blobsGoInAndOutOfTheBucketsContainerInAzuriteAndTheContainerGoesWithDestroy() throws Exception {
        Azurite.Instance azurite = Azurite.shared();
        BlobMirror blobs = BlobMirror.attach(rig.arm, azurite.blobEndpoint());
        // A name of this run's own: Azurite lives as long as the test JVM.
        Environment env = rig.env("blobs" + Long.toHexString(System.nanoTime()).substring(4), "team: ml", DATA);
        rig.apply(env);
        String account = accountName(env, "corpora");
        BlobContainerClient box = blobs.container(account, "corpora");
        assertThat(box.exists()).isTrue();
        assertThat(box.getProperties().getMetadata()).containsEntry("mlctl_environment", env.name()).containsEntry("mlctl_address", "bucket.corpora")
            .containsEntry("managed_by", "mlctl");
        box.getBlobClient("tmp/sample.txt").upload(BinaryData.fromString("a corpus line"));
        assertThat(box.getBlobClient("tmp/sample.txt").downloadContent().toString()).isEqualTo("a corpus line");
        URI blobUrl = URI.create(box.getBlobClient("tmp/sample.txt").getBlobUrl());
        assertThat(anonymousGet(blobUrl)).as("private").isNotEqualTo(200);

        Environment open = rig.env(env.name(), "team: ml", DATA.replace("versioning: true", "versioning: true, public: true"));
        rig.apply(open);
        assertThat(anonymousGet(blobUrl)).as("public: anonymous reads of blobs").isEqualTo(200);

        rig.destroy(open);
        assertThat(box.exists()).isFalse();
        assertThat(blobs.containersOf(account)).isEmpty();
    }

    private static int anonymousGet(URI uri) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri).header("x-ms-version", "2021-08-06").build(),
            HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
