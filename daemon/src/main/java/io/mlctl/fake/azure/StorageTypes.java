package io.mlctl.fake.azure;

import com.azure.resourcemanager.storage.fluent.models.BlobContainerInner;
import com.azure.resourcemanager.storage.fluent.models.BlobServicePropertiesInner;
import com.azure.resourcemanager.storage.fluent.models.ManagementPolicyInner;
import com.azure.resourcemanager.storage.models.StorageAccountCreateParameters;
import com.azure.resourcemanager.storage.models.StorageAccountUpdateParameters;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Microsoft.Storage as the fake serves it: storage accounts, their blob service, blob containers and
 * lifecycle management policy, each refusing what the storage resource provider refuses (as found in
 * its REST reference and in the errors people report): account names outside 3–24 lowercase letters
 * and digits, a name any other subscription or resource group already holds (account names are one
 * namespace across Azure), customer-managed keys without a Key Vault key, container names and
 * metadata names the Blob service rejects, public access on a container of an account that forbids
 * it, malformed lifecycle rules. Containers are mirrored into Azurite when a {@link BlobMirror} is
 * attached.
 */
final class StorageTypes {
    static final String ACCOUNTS = "Microsoft.Storage/storageAccounts";
    static final String BLOB_SERVICES = ACCOUNTS + "/blobServices";
    static final String CONTAINERS = BLOB_SERVICES + "/containers";
    static final String POLICIES = ACCOUNTS + "/managementPolicies";

    private static final Pattern ACCOUNT_NAME = Pattern.compile("[a-z0-9]{3,24}");
    /** 3–63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, no two hyphens in a row. */
    private static final Pattern CONTAINER_NAME = Pattern.compile("(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]");
    /** Metadata names are C# identifiers: Azure answers InvalidMetadata to anything else (Azurite does not check). */
    private static final Pattern METADATA_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern RULE_NAME = Pattern.compile("[A-Za-z0-9]{1,256}");
    private static final Set<String> SKUS = Set.of("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
        "Standard_GZRS", "Standard_RAGZRS");
    /** Archive is offered on locally and geo-redundant accounts only, not zone-redundant ones. */
    private static final Set<String> NO_ARCHIVE = Set.of("Standard_ZRS", "Premium_ZRS", "Standard_GZRS", "Standard_RAGZRS", "Premium_LRS");
    private static final Set<String> KINDS = Set.of("Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage");
    private static final Set<String> TLS = Set.of("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3");
    private static final Set<String> PUBLIC_ACCESS = Set.of("None", "Blob", "Container");

    private StorageTypes() {
    }

    static List<ArmType> all() {
        return List.of(new Accounts(), new BlobServices(), new Containers(), new Policies());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o instanceof List<?> l ? (List<Object>) l : List.of();
    }

    /** The properties a write leaves: those stored before (the fake's provisioning state aside), with the ones the body names over them. */
    private static Map<String, Object> mergedProperties(Map<String, Object> body, Optional<Map<String, Object>> existing) {
        Map<String, Object> props = new LinkedHashMap<>(existing.map(e -> map(e.get("properties"))).orElse(Map.of()));
        props.remove("provisioningState");
        props.putAll(map(body.get("properties")));
        return props;
    }

    private static ArmError invalid(String code, String message) {
        return ArmError.badRequest(code, message);
    }

    /** The account a child resource ({@code .../storageAccounts/a/...}) belongs to. */
    private static String accountId(ArmId id) {
        return id.scope() + "/providers/" + ACCOUNTS + "/" + id.names().get(0);
    }

    /** The stored account of a child resource (the fake made sure it exists). */
    private static Map<String, Object> account(ArmFake arm, ArmId id) {
        return arm.get(accountId(id)).orElseThrow(() -> ArmError.notFound(ACCOUNTS, id.names().get(0), id.resourceGroup()));
    }

    /**
     * A type of this service: its ARM type and the SDK model its PUT bodies must fit. An account's
     * sub-resources ({@code child}) have no location or tags and are written at once, as the storage
     * provider answers them.
     */
    abstract static class StorageType implements ArmType {
        private final String type;
        private final Class<?> model;
        private final boolean child;

        StorageType(String type, Class<?> model, boolean child) {
            this.type = type;
            this.model = model;
            this.child = child;
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public Class<?> model() {
            return model;
        }

        @Override
        public boolean tracked() {
            return !child;
        }

        @Override
        public Lro lro() {
            return child ? Lro.SYNC : Lro.ASYNC;
        }
    }

    /** The account's one {@code default} instance of a settings resource: no other name, no PATCH. */
    abstract static class DefaultSetting extends StorageType {
        DefaultSetting(String type, Class<?> model) {
            super(type, model, true);
        }
        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public final void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            if (!id.name().equals("default")) {
                throw invalid("InvalidResourceName", "The " + type().substring(type().lastIndexOf('/') + 1) + " name must be 'default', not '" + id.name() + "'.");
            }
            checkSetting(account(arm, id), map(body.get("properties")));
        }

        /** This setting's own refusals, given the account and the body's {@code properties}. */
        abstract void checkSetting(Map<String, Object> account, Map<String, Object> properties);
    }

    /**
     * {@code Microsoft.Storage/storageAccounts}: PUT creates (or updates), PATCH updates, a long-running
     * create. A PUT carries the create parameters, not the account as GET shows it (StorageAccountInner).
     */
    static final class Accounts extends StorageType {
        Accounts() {
            super(ACCOUNTS, StorageAccountCreateParameters.class, false);
        }

        @Override
        public Class<?> patchModel() {
            return StorageAccountUpdateParameters.class;
        }

        /**
         * Create answers 202 Accepted with only a {@code Location} to poll, whose poll answers 202 until the
         * account is made, then 200 with it; PATCH and DELETE complete at once (what the SDK expects: 200/202, 200, 200/204).
         * Blob services and management policies have no PATCH in Azure ({@link DefaultSetting}); containers have (Blob Containers - Update).
         */
        @Override
        public Lro lro() {
            return Lro.ACCEPTED;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            String name = id.name();
            if (!ACCOUNT_NAME.matcher(name).matches()) {
                throw invalid("AccountNameInvalid", name + " is not a valid storage account name. Storage account name must be between 3 and 24 "
                    + "characters in length and use numbers and lower-case letters only.");
            }
            for (Map<String, Object> other : arm.list(ACCOUNTS)) {
                ArmId o = ArmId.parse(String.valueOf(other.get("id")));
                if (!o.name().equalsIgnoreCase(name) || o.key().equals(id.key())) continue;
                if (o.subscription().equalsIgnoreCase(id.subscription())) {
                    throw ArmError.conflict("StorageAccountInAnotherResourceGroup", "The account " + name + " is already in another resource group in "
                        + "this subscription.");
                }
                throw ArmError.conflict("StorageAccountAlreadyTaken", "The storage account named " + name + " is already taken.");
            }
            Object sku = map(body.get("sku")).get("name");
            if (sku == null) throw invalid("MissingRequiredProperty", "The sku property is required.");
            if (!SKUS.contains(String.valueOf(sku))) {
                throw invalid("InvalidRequestPropertyValue", "The value '" + sku + "' is not allowed for property sku.name.");
            }
            Object kind = body.get("kind");
            if (kind == null) throw invalid("MissingRequiredProperty", "The kind property is required.");
            if (!KINDS.contains(String.valueOf(kind))) throw invalid("InvalidRequestPropertyValue", "The value '" + kind + "' is not allowed for property kind.");
            Map<String, Object> p = map(body.get("properties"));
            if (p.get("minimumTlsVersion") != null && !TLS.contains(String.valueOf(p.get("minimumTlsVersion")))) {
                throw invalid("InvalidRequestPropertyValue", "The value '" + p.get("minimumTlsVersion") + "' is not allowed for property minimumTlsVersion.");
            }
            Map<String, Object> encryption = map(p.get("encryption"));
            if ("Microsoft.Keyvault".equalsIgnoreCase(String.valueOf(encryption.get("keySource")))) {
                Map<String, Object> kv = map(encryption.get("keyvaultproperties"));
                if (kv.get("keyname") == null || kv.get("keyvaulturi") == null) {
                    throw invalid("InvalidEncryptionKeySource", "Encryption key source Microsoft.Keyvault requires keyvaultproperties with keyname and keyvaulturi "
                        + "of a Key Vault key the account's identity can use.");
                }
                if (body.get("identity") == null && map(encryption.get("identity")).isEmpty()) {
                    throw invalid("InvalidEncryptionKeySource", "A customer-managed key needs a managed identity on the account to reach the Key Vault.");
                }
            }
            if (existing.isPresent()) {
                Map<String, Object> was = existing.get();
                String wasKind = String.valueOf(was.get("kind"));
                // An account is upgraded to StorageV2, never the other way.
                if (!wasKind.equals(kind) && !"StorageV2".equals(kind)) {
                    throw ArmError.conflict("OperationNotAllowed", "The kind of storage account " + name + " cannot change from " + wasKind + " to " + kind + ".");
                }
                Object hns = map(was.get("properties")).get("isHnsEnabled");
                if (p.containsKey("isHnsEnabled") && !String.valueOf(p.get("isHnsEnabled")).equals(String.valueOf(hns))) {
                    throw invalid("InvalidRequestPropertyValue", "isHnsEnabled cannot be changed on an existing account.");
                }
            }
        }

        /**
         * The account as GET answers it: the create parameters (PUT on an account updates the properties
         * it names), Azure's defaults for what was left out (HTTPS only, no public blob access, TLS 1.0
         * as the API's default, Microsoft-managed keys, Hot tier), and what Azure fills: the endpoints,
         * the creation time, the primary location and status, the sku's tier.
         */
        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> out = new LinkedHashMap<>(body);
            Map<String, Object> props = mergedProperties(body, existing);
            String name = id.name();
            String location = ArmFake.norm(String.valueOf(body.get("location")));
            props.putIfAbsent("supportsHttpsTrafficOnly", true);
            props.putIfAbsent("allowBlobPublicAccess", false);
            props.putIfAbsent("minimumTlsVersion", "TLS1_0");
            props.putIfAbsent("allowSharedKeyAccess", true);
            if (!"FileStorage".equals(body.get("kind"))) props.putIfAbsent("accessTier", "Hot");
            String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
            Map<String, Object> encryption = new LinkedHashMap<>(map(props.get("encryption")));
            encryption.putIfAbsent("keySource", "Microsoft.Storage");
            Map<String, Object> services = new LinkedHashMap<>(map(encryption.get("services")));
            for (String s : List.of("blob", "file")) {
                Map<String, Object> svc = new LinkedHashMap<>(map(services.get(s)));
                svc.put("enabled", true);
                svc.putIfAbsent("keyType", "Account");
                svc.putIfAbsent("lastEnabledTime", now);
                services.put(s, svc);
            }
            encryption.put("services", services);
            props.put("encryption", encryption);
            props.putIfAbsent("creationTime", now);
            props.putIfAbsent("primaryLocation", location);
            props.putIfAbsent("statusOfPrimary", "available");
            Map<String, Object> endpoints = new LinkedHashMap<>();
            for (String s : List.of("dfs", "web", "blob", "queue", "table", "file")) endpoints.put(s, "https://" + name + "." + s + ".core.windows.net/");
            props.putIfAbsent("primaryEndpoints", endpoints);
            props.putIfAbsent("networkAcls", new LinkedHashMap<>(Map.of("bypass", "AzureServices", "virtualNetworkRules", List.of(), "ipRules", List.of(),
                "defaultAction", "Allow")));
            out.put("properties", props);
            Map<String, Object> sku = new LinkedHashMap<>(map(body.get("sku")));
            sku.put("tier", String.valueOf(sku.get("name")).startsWith("Premium") ? "Premium" : "Standard");
            out.put("sku", sku);
            out.put("location", location);
            return out;
        }

        /** A new account comes with its blob service ({@code default}); a deleted one takes its containers out of Azurite. */
        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            if (now.isEmpty()) {
                BlobMirror.of(arm).ifPresent(m -> m.deleteAccount(id.name()));
                return;
            }
            String service = id.id() + "/blobServices/default";
            if (arm.get(service).isPresent()) return;
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("id", service);
            s.put("name", "default");
            s.put("type", BLOB_SERVICES);
            s.put("sku", map(now.get().get("sku")));
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("cors", new LinkedHashMap<>(Map.of("corsRules", List.of())));
            p.put("deleteRetentionPolicy", new LinkedHashMap<>(Map.of("allowPermanentDelete", false, "enabled", false)));
            s.put("properties", p);
            arm.put(service, s);
        }

        @Override
        public Object action(ArmFake arm, ArmId id, String action, Map<String, Object> body) {
            if (action.equalsIgnoreCase("listKeys")) {
                // Never real keys: a fixed, obviously fake value.
                return Map.of("keys", List.of(Map.of("keyName", "key1", "value", "ZmFrZS1rZXk=", "permissions", "FULL")));
            }
            return super.action(arm, id, action, body);
        }
    }

    /** {@code .../blobServices/default}: exists with its account; a PUT sets the properties it names and keeps the others. */
    static final class BlobServices extends DefaultSetting {
        BlobServices() {
            super(BLOB_SERVICES, BlobServicePropertiesInner.class);
        }

        @Override
        void checkSetting(Map<String, Object> account, Map<String, Object> p) {
            if (Boolean.TRUE.equals(p.get("isVersioningEnabled"))) {
                String kind = String.valueOf(account.get("kind"));
                if (!kind.equals("StorageV2") && !kind.equals("BlockBlobStorage")) {
                    throw invalid("FeatureNotSupportedForAccount", "Blob versioning is not supported for account kind " + kind + ".");
                }
                if (Boolean.TRUE.equals(map(account.get("properties")).get("isHnsEnabled"))) {
                    throw invalid("FeatureNotSupportedForAccount", "Blob versioning is not supported for accounts with a hierarchical namespace.");
                }
            }
            Map<String, Object> retention = map(p.get("deleteRetentionPolicy"));
            if (Boolean.TRUE.equals(retention.get("enabled")) && !(retention.get("days") instanceof Number d && d.intValue() >= 1 && d.intValue() <= 365)) {
                throw invalid("InvalidRequestPropertyValue", "deleteRetentionPolicy.days must be between 1 and 365 when the policy is enabled.");
            }
        }

        /** Set Blob Service Properties keeps the settings a request leaves out. */
        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> out = new LinkedHashMap<>(existing.orElse(Map.of()));
            out.put("properties", mergedProperties(body, existing));
            out.put("sku", map(account(arm, id).get("sku")));
            return out;
        }
    }

    /** {@code .../blobServices/default/containers}: PUT creates or updates (as ARM templates rely on), PATCH updates. */
    static final class Containers extends StorageType {
        Containers() {
            super(CONTAINERS, BlobContainerInner.class, true);
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            String name = id.name();
            if (!CONTAINER_NAME.matcher(name).matches()) {
                throw invalid("InvalidResourceName", "The specified resource name '" + name + "' is not valid: container names are 3 to 63 lowercase "
                    + "letters, digits and single hyphens, starting and ending with a letter or digit.");
            }
            Map<String, Object> p = map(body.get("properties"));
            Object access = p.get("publicAccess");
            if (access != null && !PUBLIC_ACCESS.contains(String.valueOf(access))) {
                throw invalid("InvalidRequestPropertyValue", "The value '" + access + "' is not allowed for property publicAccess.");
            }
            if (access != null && !"None".equals(access) && !Boolean.TRUE.equals(map(account(arm, id).get("properties")).get("allowBlobPublicAccess"))) {
                throw ArmError.conflict("PublicAccessNotPermitted", "Public access is not permitted on this storage account.");
            }
            int size = 0;
            for (Map.Entry<String, Object> e : map(p.get("metadata")).entrySet()) {
                if (!METADATA_NAME.matcher(e.getKey()).matches()) {
                    throw invalid("ContainerOperationFailure", "The metadata specified is invalid. It has characters that are not permitted. (metadata name '"
                        + e.getKey() + "')");
                }
                size += e.getKey().length() + String.valueOf(e.getValue()).length();
            }
            if (size > 8192) throw invalid("ContainerOperationFailure", "The metadata specified is invalid: more than 8 KiB.");
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> out = new LinkedHashMap<>(body);
            Map<String, Object> props = mergedProperties(body, existing);
            props.putIfAbsent("publicAccess", "None");
            props.putIfAbsent("metadata", new LinkedHashMap<>());
            props.putIfAbsent("defaultEncryptionScope", "$account-encryption-key");
            props.putIfAbsent("denyEncryptionScopeOverride", false);
            props.put("leaseStatus", "Unlocked");
            props.put("leaseState", "Available");
            props.put("hasImmutabilityPolicy", false);
            props.put("hasLegalHold", false);
            props.put("deleted", false);
            props.put("remainingRetentionDays", 0);
            props.put("lastModifiedTime", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
            out.put("properties", props);
            return out;
        }

        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            Optional<BlobMirror> mirror = BlobMirror.of(arm);
            if (mirror.isEmpty()) return;
            String account = id.names().get(0);
            if (now.isEmpty()) {
                mirror.get().delete(account, id.name());
                return;
            }
            Map<String, Object> p = map(now.get().get("properties"));
            Map<String, String> metadata = new LinkedHashMap<>();
            map(p.get("metadata")).forEach((k, v) -> metadata.put(k, String.valueOf(v)));
            mirror.get().put(account, id.name(), metadata, String.valueOf(p.get("publicAccess")));
        }
    }

    /** {@code .../managementPolicies/default}: the account's one lifecycle policy, written whole. */
    static final class Policies extends DefaultSetting {
        Policies() {
            super(POLICIES, ManagementPolicyInner.class);
        }

        /** Every PUT of a policy answers 200, new or not (the SDK accepts nothing else). */
        @Override
        public int createdStatus() {
            return 200;
        }

        @Override
        void checkSetting(Map<String, Object> account, Map<String, Object> p) {
            String kind = String.valueOf(account.get("kind"));
            if (!Set.of("StorageV2", "BlobStorage", "BlockBlobStorage").contains(kind)) {
                throw invalid("OperationNotAllowedOnKind", "The operation is not allowed on account kind " + kind);
            }
            String sku = String.valueOf(map(account.get("sku")).get("name"));
            List<Object> rules = list(map(p.get("policy")).get("rules"));
            if (rules.isEmpty()) throw invalid("InvalidManagementPolicyRules", "A management policy needs at least one rule (delete the policy to have none).");
            if (rules.size() > 100) throw invalid("InvalidManagementPolicyRules", "A management policy holds at most 100 rules.");
            Set<String> names = new HashSet<>();
            for (Object o : rules) {
                Map<String, Object> r = map(o);
                String name = String.valueOf(r.get("name"));
                if (!RULE_NAME.matcher(name).matches()) {
                    throw invalid("InvalidManagementPolicyRules", "Rule name '" + name + "' is invalid: up to 256 alphanumeric characters.");
                }
                if (!names.add(name)) throw invalid("InvalidManagementPolicyRules", "Rule name '" + name + "' is used twice; rule names are unique in a policy.");
                if (!"Lifecycle".equals(r.get("type"))) throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': the only rule type is Lifecycle.");
                Map<String, Object> definition = map(r.get("definition"));
                Map<String, Object> filters = map(definition.get("filters"));
                List<Object> blobTypes = list(filters.get("blobTypes"));
                if (blobTypes.isEmpty()) throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': filters.blobTypes is required.");
                for (Object t : blobTypes) {
                    if (!Set.of("blockBlob", "appendBlob").contains(String.valueOf(t))) {
                        throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': blob type '" + t + "' is not blockBlob or appendBlob.");
                    }
                }
                if (list(filters.get("prefixMatch")).size() > 10) throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': at most 10 prefixes.");
                Map<String, Object> actions = map(definition.get("actions"));
                if (map(actions.get("baseBlob")).isEmpty() && map(actions.get("snapshot")).isEmpty() && map(actions.get("version")).isEmpty()) {
                    throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "' has no action.");
                }
                for (String target : List.of("baseBlob", "snapshot", "version")) {
                    for (Map.Entry<String, Object> a : map(actions.get(target)).entrySet()) {
                        if (!(a.getValue() instanceof Map<?, ?>)) continue;
                        if (map(a.getValue()).isEmpty()) throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': action " + a.getKey() + " has no condition.");
                        for (Map.Entry<String, Object> c : map(a.getValue()).entrySet()) {
                            if (!(c.getValue() instanceof Number n) || n.doubleValue() < 0 || n.doubleValue() > 99999) {
                                throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': " + target + "." + a.getKey() + "." + c.getKey()
                                    + " must be a number of days from 0 to 99999.");
                            }
                        }
                        if (a.getKey().startsWith("tierTo") && blobTypes.contains("appendBlob")) {
                            throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': append blobs can only be deleted, not tiered.");
                        }
                        if (a.getKey().equals("tierToArchive") && NO_ARCHIVE.contains(sku)) {
                            throw invalid("InvalidManagementPolicyRules", "Rule '" + name + "': tierToArchive is not supported for " + sku + " accounts.");
                        }
                    }
                }
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> out = new LinkedHashMap<>(body);
            Map<String, Object> props = new LinkedHashMap<>(map(body.get("properties")));
            props.put("lastModifiedTime", Instant.now().toString());
            out.put("properties", props);
            return out;
        }
    }
}
