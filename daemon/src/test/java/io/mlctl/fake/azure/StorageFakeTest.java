package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.management.exception.ManagementException;
import com.azure.resourcemanager.storage.fluent.StorageManagementClient;
import com.azure.resourcemanager.storage.fluent.models.BlobContainerInner;
import com.azure.resourcemanager.storage.fluent.models.BlobServicePropertiesInner;
import com.azure.resourcemanager.storage.fluent.models.ManagementPolicyInner;
import com.azure.resourcemanager.storage.fluent.models.StorageAccountInner;
import com.azure.resourcemanager.storage.models.DateAfterCreation;
import com.azure.resourcemanager.storage.models.DateAfterModification;
import com.azure.resourcemanager.storage.models.Kind;
import com.azure.resourcemanager.storage.models.ManagementPolicyAction;
import com.azure.resourcemanager.storage.models.ManagementPolicyBaseBlob;
import com.azure.resourcemanager.storage.models.ManagementPolicyDefinition;
import com.azure.resourcemanager.storage.models.ManagementPolicyFilter;
import com.azure.resourcemanager.storage.models.ManagementPolicyName;
import com.azure.resourcemanager.storage.models.ManagementPolicyRule;
import com.azure.resourcemanager.storage.models.ManagementPolicySchema;
import com.azure.resourcemanager.storage.models.ManagementPolicyVersion;
import com.azure.resourcemanager.storage.models.MinimumTlsVersion;
import com.azure.resourcemanager.storage.models.PublicAccess;
import com.azure.resourcemanager.storage.models.RuleType;
import com.azure.resourcemanager.storage.models.Sku;
import com.azure.resourcemanager.storage.models.SkuName;
import com.azure.resourcemanager.storage.models.StorageAccountCreateParameters;
import com.azure.resourcemanager.storage.models.StorageAccountUpdateParameters;
import io.mlctl.provider.azure.AzureClients;
import io.mlctl.provider.azure.AzureSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The storage fake's strictness, driven by the real Azure SDK (and raw HTTP where the SDK would not send the body). */
class StorageFakeTest {
    static final String SUB = "11111111-2222-3333-4444-555555555555";
    static final String OTHER_SUB = "99999999-2222-3333-4444-555555555555";
    @AutoClose
    static final ArmFake arm = fake();
    StorageManagementClient storage;

    private static ArmFake fake() {
        try {
            return ArmFake.start();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @BeforeEach
    void reset() {
        arm.reset();
        arm.putGroup(SUB, "rg1", "eastus", Map.of());
        arm.putGroup(SUB, "rg2", "eastus", Map.of());
        arm.putGroup(OTHER_SUB, "rg1", "eastus", Map.of());
        storage = client(SUB);
    }

    static StorageManagementClient client(String subscription) {
        return new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), subscription, "eastus")
            .storage().serviceClient();
    }

    /**
     * Sends the create and reads the account back: the SDK's own waiting would sleep its default poll
     * interval (30 s) before the first poll; the fake is done at once.
     */
    static StorageAccountInner create(StorageManagementClient client, String group, String name, StorageAccountCreateParameters params) {
        client.getStorageAccounts().beginCreate(group, name, params);
        return client.getStorageAccounts().getByResourceGroup(group, name);
    }

    static StorageAccountCreateParameters account() {
        return new StorageAccountCreateParameters().withSku(new Sku().withName(SkuName.STANDARD_LRS)).withKind(Kind.STORAGE_V2).withLocation("eastus")
            .withTags(Map.of("team", "ml"));
    }

    static String accountPath(String sub, String group, String name) {
        return "/subscriptions/" + sub + "/resourceGroups/" + group + "/providers/Microsoft.Storage/storageAccounts/" + name;
    }

    private static String send(String method, String path, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + path.substring(1) + "?api-version=2023-05-01"))
            .method(method, HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    static ManagementPolicyRule rule(String name, ManagementPolicyAction actions) {
        return new ManagementPolicyRule().withName(name).withEnabled(true).withType(RuleType.LIFECYCLE).withDefinition(new ManagementPolicyDefinition()
            .withFilters(new ManagementPolicyFilter().withBlobTypes(List.of("blockBlob")).withPrefixMatch(List.of("data/"))).withActions(actions));
    }

    static ManagementPolicyAction cool(float days) {
        return new ManagementPolicyAction().withBaseBlob(new ManagementPolicyBaseBlob().withTierToCool(new DateAfterModification().withDaysAfterModificationGreaterThan(days)));
    }

    static ManagementPolicyInner policy(ManagementPolicyRule... rules) {
        return new ManagementPolicyInner().withPolicy(new ManagementPolicySchema().withRules(List.of(rules)));
    }

    @Test
    void anAccountIsCreatedAsALongRunningPutAndReadBackInTheGetShapeWithWhatAzureFills() {
        StorageAccountInner a = create(storage, "rg1", "mlctlacct1", account().withMinimumTlsVersion(MinimumTlsVersion.TLS1_2));
        assertThat(a.provisioningState().toString()).isEqualTo("Succeeded");
        StorageAccountInner got = storage.getStorageAccounts().getByResourceGroup("rg1", "mlctlacct1");
        assertThat(got.primaryEndpoints().blob()).isEqualTo("https://mlctlacct1.blob.core.windows.net/");
        assertThat(got.creationTime()).isNotNull();
        assertThat(got.enableHttpsTrafficOnly()).isTrue();
        assertThat(got.allowBlobPublicAccess()).isFalse();
        assertThat(got.minimumTlsVersion()).isEqualTo(MinimumTlsVersion.TLS1_2);
        assertThat(got.encryption().keySource().toString()).isEqualTo("Microsoft.Storage");
        assertThat(got.sku().tier().toString()).isEqualTo("Standard");
        assertThat(got.tags()).containsEntry("team", "ml");
        // Its blob service exists with it.
        assertThat(storage.getBlobServices().getServiceProperties("rg1", "mlctlacct1").isVersioningEnabled()).isNotEqualTo(Boolean.TRUE);
        // Graph lists it with its properties.
        List<Map<String, Object>> rows = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), SUB, "eastus")
            .queryAll("q", "resources | where type =~ 'microsoft.storage/storageaccounts'");
        assertThat(rows).singleElement().satisfies(r -> assertThat(String.valueOf(r.get("properties"))).contains("allowBlobPublicAccess=false")
            .contains("keySource=Microsoft.Storage"));
    }

    private static HttpResponse<String> exchange(String method, String url, String body) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aCreateIsAcceptedWithOnlyALocationWhosePollAnswers202UntilDoneThen200WithTheAccount() throws Exception {
        String body = "{\"sku\":{\"name\":\"Standard_LRS\"},\"kind\":\"StorageV2\",\"location\":\"eastus\"}";
        String url = arm.endpoint() + accountPath(SUB, "rg1", "slowacct1").substring(1) + "?api-version=2023-05-01";
        arm.operationTime(Duration.ofHours(1));
        HttpResponse<String> created = exchange("PUT", url, body);
        assertThat(created.statusCode()).isEqualTo(202);
        assertThat(created.body()).isEmpty();
        assertThat(created.headers().firstValue("Azure-AsyncOperation")).as("the storage provider sends none").isEmpty();
        String location = created.headers().firstValue("Location").orElseThrow();
        HttpResponse<String> running = exchange("GET", location, "");
        assertThat(running.statusCode()).isEqualTo(202);
        assertThat(running.headers().firstValue("Location")).isPresent();

        arm.operationTime(Duration.ZERO);
        HttpResponse<String> done = exchange("GET", exchange("PUT", url.replace("slowacct1", "quickacct1"), body).headers().firstValue("Location").orElseThrow(), "");
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).contains("\"name\":\"quickacct1\"").contains("\"provisioningState\":\"Succeeded\"").contains("primaryEndpoints");

        arm.faults().failOperation("^PUT .*/storageAccounts/failacct1$", 1, new ArmError(500, "InternalError", "The storage resource provider failed."));
        HttpResponse<String> failed = exchange("GET", exchange("PUT", url.replace("slowacct1", "failacct1"), body).headers().firstValue("Location").orElseThrow(), "");
        assertThat(failed.statusCode()).isEqualTo(500);
        assertThat(failed.body()).contains("InternalError");

        // The SDK's create polls that Location to the end and answers the account.
        StorageAccountInner made = storage.getStorageAccounts().create("rg1", "sdkacct1", account());
        assertThat(made.name()).isEqualTo("sdkacct1");
        assertThat(made.provisioningState().toString()).isEqualTo("Succeeded");
        assertThat(made.primaryEndpoints().blob()).contains("sdkacct1");
    }

    @Test
    void blobServicesAndPoliciesTakeNoPatchAsInAzureWhileContainersDo() throws Exception {
        create(storage, "rg1", "nopatch1", account());
        storage.getBlobContainers().create("rg1", "nopatch1", "data", new BlobContainerInner());
        storage.getManagementPolicies().createOrUpdate("rg1", "nopatch1", ManagementPolicyName.DEFAULT, policy(rule("r1", cool(3))));
        String acct = accountPath(SUB, "rg1", "nopatch1");
        assertThat(send("PATCH", acct + "/blobServices/default", "{\"properties\":{\"isVersioningEnabled\":true}}")).startsWith("405 ");
        assertThat(send("PATCH", acct + "/managementPolicies/default", "{\"properties\":{}}")).startsWith("405 ");
        assertThat(storage.getBlobServices().getServiceProperties("rg1", "nopatch1").isVersioningEnabled()).isNotEqualTo(Boolean.TRUE);
        // Blob Containers - Update is a PATCH.
        assertThat(send("PATCH", acct + "/blobServices/default/containers/data", "{\"properties\":{\"metadata\":{\"owner\":\"ml\"}}}")).startsWith("200 ");
        assertThat(storage.getBlobContainers().get("rg1", "nopatch1", "data").metadata()).containsEntry("owner", "ml");
    }

    @Test
    void accountNamesOutsideAzuresRuleAndBodiesWithoutSkuOrWithReadOnlyPropertiesAreRefused() throws Exception {
        assertThatThrownBy(() -> create(storage, "rg1", "Has-Caps", account()))
            .isInstanceOf(ManagementException.class).hasMessageContaining("AccountNameInvalid");
        assertThatThrownBy(() -> create(storage, "rg1", "ab", account()))
            .isInstanceOf(ManagementException.class).hasMessageContaining("AccountNameInvalid");
        String path = accountPath(SUB, "rg1", "mlctlacct2");
        assertThat(send("PUT", path, "{\"kind\":\"StorageV2\",\"location\":\"eastus\"}")).startsWith("400 ").contains("sku");
        assertThat(send("PUT", path, "{\"sku\":{\"name\":\"Standard_LRS\"},\"location\":\"eastus\"}")).startsWith("400 ").contains("kind");
        assertThat(send("PUT", path, "{\"sku\":{\"name\":\"Standard_XXL\"},\"kind\":\"StorageV2\",\"location\":\"eastus\"}")).startsWith("400 ");
        // GET's read-only properties do not belong in a create.
        assertThat(send("PUT", path, "{\"sku\":{\"name\":\"Standard_LRS\"},\"kind\":\"StorageV2\",\"location\":\"eastus\","
            + "\"properties\":{\"primaryEndpoints\":{\"blob\":\"https://x.blob.core.windows.net/\"}}}")).startsWith("400 ").contains("primaryEndpoints");
        assertThat(arm.list("Microsoft.Storage/storageAccounts")).isEmpty();
    }

    @Test
    void anAccountNameIsGlobalAcrossSubscriptionsAndResourceGroups() {
        create(client(OTHER_SUB), "rg1", "takenname1", account());
        assertThatThrownBy(() -> create(storage, "rg1", "takenname1", account()))
            .isInstanceOf(ManagementException.class).hasMessageContaining("StorageAccountAlreadyTaken").hasMessageContaining("takenname1");
        create(storage, "rg1", "mineonly1", account());
        assertThatThrownBy(() -> create(storage, "rg2", "mineonly1", account()))
            .isInstanceOf(ManagementException.class).hasMessageContaining("StorageAccountInAnotherResourceGroup");
        // The same PUT again is an update of the same account, not a clash.
        create(storage, "rg1", "mineonly1", account().withTags(Map.of("team", "vision")));
        assertThat(storage.getStorageAccounts().getByResourceGroup("rg1", "mineonly1").tags()).containsEntry("team", "vision");
        assertThat(arm.list("Microsoft.Storage/storageAccounts")).hasSize(2);
    }

    @Test
    void patchTakesTheUpdateModelAndRefusesWhatOnlyACreateCarries() throws Exception {
        create(storage, "rg1", "patchme1", account());
        StorageAccountInner after = storage.getStorageAccounts().update("rg1", "patchme1",
            new StorageAccountUpdateParameters().withAllowBlobPublicAccess(true).withTags(Map.of("only", "this")));
        assertThat(after.allowBlobPublicAccess()).isTrue();
        assertThat(after.tags()).containsExactly(Map.entry("only", "this"));
        assertThat(after.primaryEndpoints().blob()).contains("patchme1");
        // location is no part of StorageAccountUpdateParameters.
        assertThat(send("PATCH", accountPath(SUB, "rg1", "patchme1"), "{\"location\":\"westus\"}")).startsWith("400 ").contains("location");
        assertThat(send("PATCH", accountPath(SUB, "rg1", "patchme1"), "{\"kind\":\"Storage\"}")).startsWith("409 ");
    }

    @Test
    void customerManagedKeysNeedAKeyVaultKeyAndAnIdentity() throws Exception {
        String body = "{\"sku\":{\"name\":\"Standard_LRS\"},\"kind\":\"StorageV2\",\"location\":\"eastus\",\"properties\":{\"encryption\":"
            + "{\"keySource\":\"Microsoft.Keyvault\",\"services\":{\"blob\":{\"enabled\":true}}}}}";
        assertThat(send("PUT", accountPath(SUB, "rg1", "cmkacct1"), body)).startsWith("400 ").contains("InvalidEncryptionKeySource");
        String withKey = body.replace("\"services\"", "\"keyvaultproperties\":{\"keyname\":\"k\",\"keyvaulturi\":\"https://v.vault.azure.net\"},\"services\"");
        assertThat(send("PUT", accountPath(SUB, "rg1", "cmkacct1"), withKey)).startsWith("400 ").contains("identity");
        assertThat(arm.list("Microsoft.Storage/storageAccounts")).isEmpty();
    }

    @Test
    void blobServiceIsDefaultOnlyAndASetKeepsWhatItLeavesOut() throws Exception {
        create(storage, "rg1", "versions1", account());
        storage.getBlobServices().setServiceProperties("rg1", "versions1", new BlobServicePropertiesInner().withIsVersioningEnabled(true));
        BlobServicePropertiesInner s = storage.getBlobServices().getServiceProperties("rg1", "versions1");
        assertThat(s.isVersioningEnabled()).isTrue();
        assertThat(s.deleteRetentionPolicy()).as("kept from before").isNotNull();
        assertThat(send("PUT", accountPath(SUB, "rg1", "versions1") + "/blobServices/other", "{\"properties\":{}}")).startsWith("400 ").contains("default");
        assertThat(send("PUT", accountPath(SUB, "rg1", "versions1") + "/blobServices/default",
            "{\"properties\":{\"deleteRetentionPolicy\":{\"enabled\":true,\"days\":0}}}")).startsWith("400 ");
        assertThat(send("PUT", accountPath(SUB, "rg1", "nosuchacct") + "/blobServices/default", "{\"properties\":{}}")).startsWith("404 ");
    }

    @Test
    void containersFollowTheBlobServicesNameMetadataAndPublicAccessRules() {
        create(storage, "rg1", "boxes1", account());
        var containers = storage.getBlobContainers();
        BlobContainerInner c = containers.create("rg1", "boxes1", "data", new BlobContainerInner().withMetadata(Map.of("mlctl_environment", "dev")));
        assertThat(c.publicAccess()).isEqualTo(PublicAccess.NONE);
        // A PUT of an existing container updates it (ARM templates are redeployed that way).
        containers.create("rg1", "boxes1", "data", new BlobContainerInner().withMetadata(Map.of("owner", "ml")));
        assertThat(containers.get("rg1", "boxes1", "data").metadata()).containsEntry("owner", "ml");
        for (String bad : List.of("ab", "a--b", "-abc", "Data", "abc-")) {
            assertThatThrownBy(() -> containers.create("rg1", "boxes1", bad, new BlobContainerInner())).as(bad)
                .isInstanceOf(ManagementException.class).hasMessageContaining("InvalidResourceName");
        }
        // Metadata names are C# identifiers on Azure (Azurite lets "mlctl-environment" through; Azure answers InvalidMetadata).
        assertThatThrownBy(() -> containers.create("rg1", "boxes1", "logs", new BlobContainerInner().withMetadata(Map.of("mlctl-environment", "dev"))))
            .isInstanceOf(ManagementException.class).hasMessageContaining("metadata");
        // Public access needs the account to allow it.
        assertThatThrownBy(() -> containers.update("rg1", "boxes1", "data", new BlobContainerInner().withPublicAccess(PublicAccess.BLOB)))
            .isInstanceOf(ManagementException.class).hasMessageContaining("PublicAccessNotPermitted");
        storage.getStorageAccounts().update("rg1", "boxes1", new StorageAccountUpdateParameters().withAllowBlobPublicAccess(true));
        assertThat(containers.update("rg1", "boxes1", "data", new BlobContainerInner().withPublicAccess(PublicAccess.BLOB)).publicAccess())
            .isEqualTo(PublicAccess.BLOB);
        assertThat(containers.get("rg1", "boxes1", "data").metadata()).as("a PATCH keeps what it leaves out").containsEntry("owner", "ml");
        assertThat(arm.list("Microsoft.Storage/storageAccounts/blobServices/containers")).hasSize(1);
    }

    @Test
    void lifecyclePoliciesAreRefusedWhenAzureWouldRefuseThem() {
        create(storage, "rg1", "rules1", account());
        var policies = storage.getManagementPolicies();
        ManagementPolicyInner ok = policy(rule("coldafter30", cool(30)), rule("versions", new ManagementPolicyAction()
            .withVersion(new ManagementPolicyVersion().withDelete(new DateAfterCreation().withDaysAfterCreationGreaterThan(7)))));
        assertThat(policies.createOrUpdate("rg1", "rules1", ManagementPolicyName.DEFAULT, ok).policy().rules()).hasSize(2);
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "rules1", ManagementPolicyName.DEFAULT, policy(rule("same", cool(1)), rule("same", cool(2)))))
            .isInstanceOf(ManagementException.class).hasMessageContaining("used twice");
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "rules1", ManagementPolicyName.DEFAULT, policy(rule("noaction", new ManagementPolicyAction()))))
            .isInstanceOf(ManagementException.class).hasMessageContaining("no action");
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "rules1", ManagementPolicyName.DEFAULT, policy(rule("with-hyphen", cool(1)))))
            .isInstanceOf(ManagementException.class).hasMessageContaining("alphanumeric");
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "rules1", ManagementPolicyName.DEFAULT, policy(rule("negative", cool(-1)))))
            .isInstanceOf(ManagementException.class).hasMessageContaining("days");
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "rules1", ManagementPolicyName.DEFAULT, policy()))
            .isInstanceOf(ManagementException.class).hasMessageContaining("at least one rule");
        // Archive is not offered on zone-redundant accounts.
        create(storage, "rg1", "zoned1", account().withSku(new Sku().withName(SkuName.STANDARD_ZRS)));
        ManagementPolicyInner archive = policy(rule("archive", new ManagementPolicyAction().withBaseBlob(new ManagementPolicyBaseBlob()
            .withTierToArchive(new DateAfterModification().withDaysAfterModificationGreaterThan(90f)))));
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "zoned1", ManagementPolicyName.DEFAULT, archive))
            .isInstanceOf(ManagementException.class).hasMessageContaining("tierToArchive");
        // Nor lifecycle management on a general-purpose v1 account.
        create(storage, "rg1", "classic1", account().withKind(Kind.STORAGE));
        assertThatThrownBy(() -> policies.createOrUpdate("rg1", "classic1", ManagementPolicyName.DEFAULT, ok))
            .isInstanceOf(ManagementException.class).hasMessageContaining("account kind Storage");
        assertThat(policies.get("rg1", "rules1", ManagementPolicyName.DEFAULT).policy().rules()).extracting(ManagementPolicyRule::name)
            .containsExactly("coldafter30", "versions");
    }

    @Test
    void policiesWithoutBlobTypesOrUnderAnotherNameAreRefusedAsSent() throws Exception {
        create(storage, "rg1", "rules2", account());
        String noTypes = "{\"properties\":{\"policy\":{\"rules\":[{\"name\":\"r1\",\"type\":\"Lifecycle\",\"definition\":{\"actions\":{\"baseBlob\":"
            + "{\"delete\":{\"daysAfterModificationGreaterThan\":9}}},\"filters\":{\"prefixMatch\":[\"data/\"]}}}]}}}";
        assertThat(send("PUT", accountPath(SUB, "rg1", "rules2") + "/managementPolicies/default", noTypes)).startsWith("400 ").contains("blobTypes");
        String fine = noTypes.replace("\"filters\":{", "\"filters\":{\"blobTypes\":[\"blockBlob\"],");
        assertThat(send("PUT", accountPath(SUB, "rg1", "rules2") + "/managementPolicies/mine", fine)).startsWith("400 ").contains("default");
        assertThat(send("PUT", accountPath(SUB, "rg1", "rules2") + "/managementPolicies/default", fine)).startsWith("200 ");
    }

    @Test
    void deletingAnAccountTakesItsChildrenWithIt() {
        create(storage, "rg1", "gone1", account());
        storage.getBlobContainers().create("rg1", "gone1", "data", new BlobContainerInner());
        storage.getManagementPolicies().createOrUpdate("rg1", "gone1", ManagementPolicyName.DEFAULT, policy(rule("r1", cool(3))));
        storage.getStorageAccounts().delete("rg1", "gone1");
        assertThat(arm.all()).isEmpty();
        // The name is free again.
        create(client(OTHER_SUB), "rg1", "gone1", account());
    }
}
