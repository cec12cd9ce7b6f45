package io.mlctl.provider.azure;

import com.azure.core.http.rest.PagedResponse;
import com.azure.resourcemanager.storage.fluent.StorageManagementClient;
import com.azure.resourcemanager.storage.fluent.models.BlobContainerInner;
import com.azure.resourcemanager.storage.fluent.models.BlobServicePropertiesInner;
import com.azure.resourcemanager.storage.fluent.models.ListContainerItemInner;
import com.azure.resourcemanager.storage.fluent.models.ManagementPolicyInner;
import com.azure.resourcemanager.storage.fluent.models.StorageAccountInner;
import com.azure.resourcemanager.storage.models.AccessTier;
import com.azure.resourcemanager.storage.models.DateAfterCreation;
import com.azure.resourcemanager.storage.models.DateAfterModification;
import com.azure.resourcemanager.storage.models.Encryption;
import com.azure.resourcemanager.storage.models.EncryptionService;
import com.azure.resourcemanager.storage.models.EncryptionServices;
import com.azure.resourcemanager.storage.models.KeySource;
import com.azure.resourcemanager.storage.models.KeyType;
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
import com.azure.resourcemanager.storage.models.ProvisioningState;
import com.azure.resourcemanager.storage.models.PublicAccess;
import com.azure.resourcemanager.storage.models.RuleType;
import com.azure.resourcemanager.storage.models.Sku;
import com.azure.resourcemanager.storage.models.SkuName;
import com.azure.resourcemanager.storage.models.StorageAccountCreateParameters;
import com.azure.resourcemanager.storage.models.StorageAccountUpdateParameters;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * bucket → a storage account (StorageV2, Standard_LRS: locally redundant, the cheapest redundancy
 * that offers every tier the lifecycle rules use, Archive included, which zone-redundant accounts
 * lack) holding one blob container named after the bucket, in the environment's resource group.
 *
 * <p>Account name: storage account names are one namespace across all of Azure, 3–24 lowercase
 * letters and digits. mlctl derives it with {@link AzureKind#storageAccountName}: the environment and
 * bucket names without hyphens, cut to 16 characters, then 8 hex characters of a hash of subscription,
 * environment and bucket ({@code nlp-azure}/{@code nlp-corpora} → {@code nlpazurenlpcorpo} + 8 hex).
 * The same bucket in the same subscription always gets the same name; a name held by anyone else in
 * Azure is refused in one line naming it.
 *
 * <p>The account is created in one PUT carrying the marker and labels as tags, no public blob access
 * ({@code allowBlobPublicAccess: true} only for {@code public: true}), TLS 1.2 minimum, HTTPS only,
 * Hot access tier, Microsoft-managed keys. Then, through ARM as well: the container (public access
 * None, or Blob for {@code public: true}: anonymous reads of blobs, never listing), carrying the
 * marker as metadata ({@code mlctl_environment}, {@code mlctl_address}, {@code managed_by}: metadata
 * names must be C# identifiers, so '-' becomes '_'); blob versioning in the blob service properties;
 * the lifecycle as the account's one management policy ({@code default}).
 *
 * <p>Lifecycle: each spec rule is one policy rule {@code mlctl<n>} for block blobs under
 * {@code <container>/<prefix>} (Azure's prefixes start with the container's name): {@code afterDays}
 * with {@code cold} is tierToCool, with {@code archive} tierToArchive, {@code expireDays} delete, all
 * at daysAfterModificationGreaterThan; {@code noncurrentExpireDays} deletes previous versions at
 * daysAfterCreationGreaterThan. Azure counts a previous version's age from when it was written, not
 * from when it was replaced (S3's NoncurrentDays): the closest rule Azure has. A rule mlctl does not
 * write (another action, a disabled rule, another prefix) shows as itself, so it differs and is
 * replaced; no lifecycle deletes the policy.
 *
 * <p>Encryption: {@code managed} is Microsoft-managed keys. {@code kms}, customer-managed keys, needs
 * a Key Vault, a key in it and a managed identity the account reaches it with; mlctl creates none of
 * these, so it refuses to create an account with {@code kms} or to switch one to it (one line saying
 * what is missing). An account whose customer-managed key someone configured reads as {@code kms}
 * and is kept as it is; {@code managed} on such an account switches it back to Microsoft-managed keys.
 *
 * <p>Inventory: one Resource Graph query per page lists the environment's accounts with their tags,
 * location and properties (public blob access, encryption key source, minimum TLS version and
 * HTTPS-only: the spec has no attribute for these two, so a weakened account shows an extra attribute
 * {@code transport} that apply removes by restoring them). Graph has no blob service
 * properties, management policies or containers, so each account costs three more GETs — versioning,
 * the policy, the container (its public access, and whether it is still there: a container deleted
 * outside mlctl shows as an attribute {@code container: missing}, so the plan shows an update that
 * makes it again, and prune and destroy still find the account) — read eight at a time. A bucket that
 * Graph does not show yet (its index lags ARM writes) is read directly when the listing is one page.
 * Destroy deletes the storage account, and with it the container and every blob in it: Azure, unlike
 * S3 and GCS, does not refuse to delete an account that holds data, and ARM cannot count blobs. So
 * mlctl refuses to delete an account holding any container besides the bucket's own (one line naming
 * them), and the bucket's own blobs go with it. Put a {@code CanNotDelete} lock on an account to keep
 * it; Azure's refusal then comes back as one line.
 */
final class BucketKind implements AzureKind {
    static final String ARM_TYPE = "microsoft.storage/storageaccounts";
    private static final Set<String> SETTINGS = Set.of("versioning", "encryption", "public", "lifecycle", "tags", "transport", "container");
    /** Minimum TLS versions mlctl accepts on an account (it sets 1.2; someone raising it to 1.3 is no weakening). */
    private static final Set<String> STRONG_TLS = Set.of(MinimumTlsVersion.TLS1_2.toString(), MinimumTlsVersion.TLS1_3.toString());
    private static final int READERS = 8;
    private static final Duration READY_WAIT = Duration.ofMinutes(3);

    @Override
    public ResourceType type() {
        return ResourceType.BUCKET;
    }

    /** A storage account's location is fixed: a region change replaces it. Everything else changes in place. */
    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region"));
    }

    /** The storage account of a bucket (see the class comment for the rule). */
    static String accountName(AzureClients cloud, Environment env, String bucket) {
        return AzureKind.storageAccountName(cloud.subscription(), env, bucket);
    }

    /** The container's metadata for the marker: the same tags with '-' as '_' (metadata names are C# identifiers). */
    static Map<String, String> metadataMarker(Map<String, String> marker) {
        Map<String, String> out = new TreeMap<>();
        marker.forEach((k, v) -> out.put(k.replace('-', '_'), v));
        return out;
    }

    /** What the observed attributes need of the account itself, from a Graph row or a GET. */
    record Account(String id, String name, String group, String location, Map<String, String> tags, boolean allowPublic, String keySource,
                   String tls, boolean httpsOnly, String state) {
        static Account of(Map<String, Object> row) {
            Map<String, Object> p = AzureKind.properties(row);
            Object encryption = p.get("encryption");
            String keySource = encryption instanceof Map<?, ?> e && e.get("keySource") != null ? String.valueOf(e.get("keySource")) : "Microsoft.Storage";
            String id = String.valueOf(row.get("id"));
            return new Account(id, String.valueOf(row.get("name")), groupOf(id), String.valueOf(row.get("location")), AzureKind.tags(row.get("tags")),
                Boolean.TRUE.equals(p.get("allowBlobPublicAccess")), keySource, String.valueOf(p.get("minimumTlsVersion")),
                !Boolean.FALSE.equals(p.get("supportsHttpsTrafficOnly")), String.valueOf(p.get("provisioningState")));
        }

        static Account of(StorageAccountInner a) {
            String keySource = a.encryption() != null && a.encryption().keySource() != null ? a.encryption().keySource().toString() : "Microsoft.Storage";
            return new Account(a.id(), a.name(), groupOf(a.id()), a.location(), AzureKind.tags(a.tags()), Boolean.TRUE.equals(a.allowBlobPublicAccess()),
                keySource, String.valueOf(a.minimumTlsVersion()), !Boolean.FALSE.equals(a.enableHttpsTrafficOnly()), String.valueOf(a.provisioningState()));
        }

        boolean customerKey() {
            return keySource.equalsIgnoreCase(KeySource.MICROSOFT_KEYVAULT.toString());
        }
    }

    /** What Graph does not return, read per account. */
    record Reads(BlobServicePropertiesInner service, Optional<ManagementPolicyInner> policy, Optional<BlobContainerInner> container) {
    }

    /** {@code /subscriptions/s/resourceGroups/<g>/...} → {@code g}. */
    static String groupOf(String id) {
        String[] s = id.split("/");
        return s.length > 4 ? s[4] : "";
    }

    private static StorageManagementClient storage(AzureClients cloud) {
        return cloud.storage().serviceClient();
    }

    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        Map<String, Account> rows = new TreeMap<>();
        // A spec bucket Resource Graph does not show yet (it lags ARM writes) is read directly, on a single-page listing.
        // An imported bucket's account has a name of its own: its id is in the spec's import list, when that still names it.
        Page page = AzureKind.graphPage(cloud, env, ARM_TYPE, storage(cloud).getApiVersion(), pageToken,
            address -> importedAccount(cloud, env, address)
                .orElseGet(() -> AzureKind.resourceId(cloud, env, "Microsoft.Storage/storageAccounts", accountName(cloud, env, address.name()))), row -> {
                Account a = Account.of(row);
                return TagMarker.INSTANCE.owner(a.tags(), env.name()).filter(x -> x.type() == ResourceType.BUCKET && !x.isComponent()).map(x -> {
                    rows.put(a.id(), a);
                    return new ObservedResource(x, a.id(), Map.of(), a.tags()); // completed below with what Graph lacks
                });
            }, ResourceType.BUCKET);
        List<Account> accounts = new ArrayList<>();
        Map<String, Address> addresses = new TreeMap<>();
        for (ObservedResource r : page.items()) {
            accounts.add(rows.get(r.cloudId()));
            addresses.put(r.cloudId(), r.address());
        }
        Map<String, Optional<Reads>> reads = readAll(cloud, accounts, addresses);
        List<ObservedResource> items = new ArrayList<>();
        for (Account a : accounts) {
            Address address = addresses.get(a.id());
            // Empty when gone since the query. A missing container shows as the attribute {@code container}: update makes it again.
            reads.get(a.id()).ifPresent(r -> items.add(new ObservedResource(address, a.id(), observed(a, r, address.name()), a.tags())));
        }
        return new Page(items, page.nextPageToken());
    }

    /** The storage account id of the bucket's entry in the spec's import list (an account's id, or its container's), if any. */
    private static Optional<String> importedAccount(AzureClients cloud, Environment env, Address address) {
        return AzureKind.importedId(env, address).flatMap(id -> AzureKind.parseId(id, "Microsoft.Storage", "storageAccounts", "blobServices", "containers")
                .or(() -> AzureKind.parseId(id, "Microsoft.Storage", "storageAccounts")))
            .filter(r -> r.group().equalsIgnoreCase(AzureKind.resourceGroup(env)))
            .map(r -> AzureKind.resourceId(cloud, env, "Microsoft.Storage/storageAccounts", r.names().get(0)));
    }

    /** Each account's three reads, all overlapping on a small pool (the same requests as one by one, a fraction of the time). */
    private static Map<String, Optional<Reads>> readAll(AzureClients cloud, List<Account> accounts, Map<String, Address> addresses) {
        Map<String, Optional<Reads>> out = new TreeMap<>();
        if (accounts.isEmpty()) return out;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(READERS, accounts.size() * 3), r -> {
            Thread t = new Thread(r, "mlctl-azure-bucket-reads");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<String, CompletableFuture<Optional<Reads>>> pending = new TreeMap<>();
            for (Account a : accounts) {
                String container = addresses.get(a.id()).name();
                var service = CompletableFuture.supplyAsync(() -> readService(cloud, a), pool);
                var policy = CompletableFuture.supplyAsync(() -> readPolicy(cloud, a), pool);
                var box = CompletableFuture.supplyAsync(() -> readContainer(cloud, a, container), pool);
                pending.put(a.id(), service.thenCombine(policy, (s, p) -> s.map(x -> new Reads(x, p, Optional.empty())))
                    .thenCombine(box, (r, c) -> r.map(x -> new Reads(x.service(), x.policy(), c))));
            }
            for (Map.Entry<String, CompletableFuture<Optional<Reads>>> e : pending.entrySet()) {
                try {
                    out.put(e.getKey(), e.getValue().join());
                } catch (CompletionException ce) {
                    throw AzureErrors.translate("read storage account " + AzureKind.lastSegment(e.getKey()), ce.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /** Versioning lives in the blob service properties; empty when the account is gone. */
    private static Optional<BlobServicePropertiesInner> readService(AzureClients cloud, Account a) {
        return AzureErrors.find("read blob service of storage account " + a.name(),
            () -> storage(cloud).getBlobServices().getServiceProperties(a.group(), a.name()));
    }

    private static Optional<ManagementPolicyInner> readPolicy(AzureClients cloud, Account a) {
        return AzureErrors.find("read lifecycle policy of storage account " + a.name(),
            () -> storage(cloud).getManagementPolicies().get(a.group(), a.name(), ManagementPolicyName.DEFAULT));
    }

    private static Optional<BlobContainerInner> readContainer(AzureClients cloud, Account a, String container) {
        return AzureErrors.find("read container " + container + " of storage account " + a.name(),
            () -> storage(cloud).getBlobContainers().get(a.group(), a.name(), container));
    }

    private static Reads read(AzureClients cloud, Account a, String container, Address address) {
        BlobServicePropertiesInner service = readService(cloud, a)
            .orElseThrow(() -> new DriverException(address + ": storage account " + a.name() + " is gone", true));
        return new Reads(service, readPolicy(cloud, a), readContainer(cloud, a, container));
    }

    /** The attributes as the account, its blob service, policy and container show them: what list, complete and update all answer. */
    static Map<String, Object> observed(Account a, Reads r, String container) {
        Map<String, Object> m = new TreeMap<>();
        m.put("versioning", Boolean.TRUE.equals(r.service().isVersioningEnabled()));
        m.put("encryption", a.customerKey() ? "kms" : "managed");
        m.put("public", publicAccess(a, r.container()));
        List<Object> lifecycle = lifecycle(container, r.policy());
        if (!lifecycle.isEmpty()) m.put("lifecycle", lifecycle);
        transportWeakened(a).ifPresent(w -> m.put("transport", w));
        // Deleted outside mlctl: an attribute the spec does not want, so the plan shows an update, which makes the container again.
        if (r.container().isEmpty()) m.put("container", "missing");
        return AzureKind.attrs(a.location(), m, a.tags());
    }

    /**
     * The spec has no attribute for it, but mlctl makes every account HTTPS-only with TLS 1.2 at least:
     * someone weakening that shows as an attribute the spec does not want ({@code transport}), so the
     * plan shows it and apply restores it.
     */
    static Optional<String> transportWeakened(Account a) {
        List<String> weak = new ArrayList<>();
        if (!STRONG_TLS.contains(a.tls())) weak.add("minimum TLS version " + a.tls());
        if (!a.httpsOnly()) weak.add("plain HTTP allowed");
        return weak.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", weak));
    }

    /**
     * Public when the account allows public blob access and the container grants it; private when
     * neither does; anything between (one allows, the other not) shows as what it is, a difference
     * from either spec value, so it is made whole.
     */
    static Object publicAccess(Account a, Optional<BlobContainerInner> container) {
        PublicAccess access = container.map(BlobContainerInner::publicAccess).orElse(PublicAccess.NONE);
        boolean containerPublic = access != null && !PublicAccess.NONE.equals(access);
        if (a.allowPublic() == containerPublic) return containerPublic;
        return "partly: account allowBlobPublicAccess " + a.allowPublic() + ", container public access " + (access == null ? "None" : access);
    }

    // ---- lifecycle ---------------------------------------------------------------------------------

    /** The spec's lifecycle rules back from the policy; empty without one. */
    static List<Object> lifecycle(String container, Optional<ManagementPolicyInner> policy) {
        List<Object> out = new ArrayList<>();
        if (policy.isEmpty() || policy.get().policy() == null || policy.get().policy().rules() == null) return out;
        for (ManagementPolicyRule r : policy.get().policy().rules()) out.add(rule(container, r).orElseGet(() -> foreign(r)));
        return out;
    }

    /** A rule mlctl does not write, named so it shows in the plan and differs from every spec rule. */
    private static Map<String, Object> foreign(ManagementPolicyRule r) {
        return Map.of("azureRule", String.valueOf(r.name()));
    }

    private static Optional<Long> days(DateAfterModification d) {
        if (d == null) return Optional.empty();
        if (d.daysAfterModificationGreaterThan() == null || d.daysAfterLastAccessTimeGreaterThan() != null || d.daysAfterCreationGreaterThan() != null
            || d.daysAfterLastTierChangeGreaterThan() != null) return Optional.of(-1L);
        return Optional.of((long) Math.round(d.daysAfterModificationGreaterThan()));
    }

    /** A policy rule as the spec rule mlctl writes it, or empty when it is not one. */
    static Optional<Map<String, Object>> rule(String container, ManagementPolicyRule r) {
        if (Boolean.FALSE.equals(r.enabled()) || !RuleType.LIFECYCLE.equals(r.type()) || r.definition() == null || r.definition().actions() == null) {
            return Optional.empty();
        }
        ManagementPolicyFilter f = r.definition().filters();
        if (f == null || !List.of("blockBlob").equals(f.blobTypes()) || f.blobIndexMatch() != null && !f.blobIndexMatch().isEmpty()
            || f.prefixMatch() == null || f.prefixMatch().size() != 1 || !f.prefixMatch().get(0).startsWith(container + "/")) {
            return Optional.empty();
        }
        Map<String, Object> m = new TreeMap<>();
        String prefix = f.prefixMatch().get(0).substring(container.length() + 1);
        if (!prefix.isEmpty()) m.put("prefix", prefix);
        ManagementPolicyAction a = r.definition().actions();
        if (a.snapshot() != null) return Optional.empty();
        ManagementPolicyBaseBlob base = a.baseBlob();
        if (base != null) {
            if (base.tierToCold() != null || base.tierToHot() != null || Boolean.TRUE.equals(base.enableAutoTierToHotFromCool())
                || base.tierToCool() != null && base.tierToArchive() != null) return Optional.empty();
            Optional<Long> tier = days(base.tierToCool() != null ? base.tierToCool() : base.tierToArchive());
            Optional<Long> expire = days(base.delete());
            if (tier.filter(d -> d < 0).isPresent() || expire.filter(d -> d < 0).isPresent()) return Optional.empty();
            tier.ifPresent(d -> {
                m.put("afterDays", d);
                m.put("storageClass", base.tierToCool() != null ? "cold" : "archive");
            });
            expire.ifPresent(d -> m.put("expireDays", d));
        }
        ManagementPolicyVersion v = a.version();
        if (v != null) {
            if (v.tierToCool() != null || v.tierToArchive() != null || v.tierToCold() != null || v.tierToHot() != null || v.delete() == null
                || v.delete().daysAfterLastTierChangeGreaterThan() != null) return Optional.empty();
            m.put("noncurrentExpireDays", (long) Math.round(v.delete().daysAfterCreationGreaterThan()));
        }
        return m.keySet().stream().anyMatch(k -> !k.equals("prefix")) ? Optional.of(m) : Optional.empty();
    }

    /** The policy for the spec's rules (empty: no policy at all, which Azure cannot hold without rules). */
    @SuppressWarnings("unchecked")
    static Optional<ManagementPolicyInner> policy(String container, Map<String, Object> attrs) {
        List<ManagementPolicyRule> rules = new ArrayList<>();
        for (Object o : (List<Object>) attrs.getOrDefault("lifecycle", List.of())) {
            Map<String, Object> r = (Map<String, Object>) o;
            ManagementPolicyBaseBlob base = null;
            if (r.get("afterDays") != null) {
                DateAfterModification at = new DateAfterModification().withDaysAfterModificationGreaterThan(((Number) r.get("afterDays")).floatValue());
                base = "cold".equals(r.get("storageClass")) ? new ManagementPolicyBaseBlob().withTierToCool(at) : new ManagementPolicyBaseBlob().withTierToArchive(at);
            }
            if (r.get("expireDays") != null) {
                if (base == null) base = new ManagementPolicyBaseBlob();
                base.withDelete(new DateAfterModification().withDaysAfterModificationGreaterThan(((Number) r.get("expireDays")).floatValue()));
            }
            ManagementPolicyVersion version = r.get("noncurrentExpireDays") == null ? null : new ManagementPolicyVersion()
                .withDelete(new DateAfterCreation().withDaysAfterCreationGreaterThan(((Number) r.get("noncurrentExpireDays")).floatValue()));
            ManagementPolicyFilter filter = new ManagementPolicyFilter().withBlobTypes(List.of("blockBlob"))
                .withPrefixMatch(List.of(container + "/" + r.getOrDefault("prefix", "")));
            rules.add(new ManagementPolicyRule().withName("mlctl" + (rules.size() + 1)).withEnabled(true).withType(RuleType.LIFECYCLE)
                .withDefinition(new ManagementPolicyDefinition().withFilters(filter)
                    .withActions(new ManagementPolicyAction().withBaseBlob(base).withVersion(version))));
        }
        if (rules.isEmpty()) return Optional.empty();
        return Optional.of(new ManagementPolicyInner().withPolicy(new ManagementPolicySchema().withRules(rules)));
    }

    /** Whether two lifecycles hold the same rules, in any order. */
    private static boolean sameRules(List<?> a, List<?> b) {
        List<String> x = new ArrayList<>(a.stream().map(String::valueOf).toList());
        List<String> y = new ArrayList<>(b.stream().map(String::valueOf).toList());
        x.sort(null);
        y.sort(null);
        return x.equals(y);
    }

    // ---- find, create, complete, update, delete ----------------------------------------------------

    /** The account under the bucket's name in the environment's group (or the known id), whoever owns it. */
    @Override
    public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        String name = knownCloudId.map(AzureKind::lastSegment).orElse(accountName(cloud, env, address.name()));
        String group = knownCloudId.map(BucketKind::groupOf).orElse(AzureKind.resourceGroup(env));
        return AzureErrors.find("read storage account " + name, () -> storage(cloud).getStorageAccounts().getByResourceGroup(group, name))
            .map(a -> new Existing(a.id(), "storage account " + name, AzureKind.tags(a.tags())));
    }

    /**
     * The bucket {@code cloudId}: a blob container's id ({@code .../storageAccounts/<account>/blobServices/default/containers/<bucket>})
     * or its storage account's ({@code .../storageAccounts/<account>}, the id inventory gives a bucket; its container is the one
     * named after the bucket), observed as {@link #list} observes one. The account may have any name (mlctl derives names only for
     * accounts it makes); it must be in the environment's resource group, and the container must have the bucket's name.
     */
    @Override
    public Optional<ObservedResource> read(AzureClients cloud, Environment env, Address address, String cloudId) {
        String ns = "Microsoft.Storage";
        Optional<AzureKind.ArmRef> asContainer = AzureKind.parseId(cloudId, ns, "storageAccounts", "blobServices", "containers")
            .filter(r -> r.names().get(1).equalsIgnoreCase("default"));
        AzureKind.ArmRef ref = asContainer.or(() -> AzureKind.parseId(cloudId, ns, "storageAccounts")).orElseThrow(() -> AzureKind.notAnId(address, cloudId,
            "a blob container or storage account", "/subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/<account>"
                + "/blobServices/default/containers/<name>", AzureKind.idForm(ns, "storageAccounts")));
        String account = ref.names().get(0);
        String container = asContainer.isPresent() ? ref.name() : address.name();
        AzureKind.requireHere(cloud, env, address, ref, "storage account " + account);
        AzureKind.requireName(address, "container " + container + " of storage account " + account, container);
        Optional<StorageAccountInner> inner = AzureErrors.find("read storage account " + account,
            () -> storage(cloud).getStorageAccounts().getByResourceGroup(AzureKind.resourceGroup(env), account));
        if (inner.isEmpty()) return Optional.empty();
        Account a = Account.of(inner.get());
        Optional<BlobServicePropertiesInner> service = readService(cloud, a);
        if (service.isEmpty()) return Optional.empty();
        Reads r = new Reads(service.get(), readPolicy(cloud, a), readContainer(cloud, a, container));
        // A container's id names that container: nothing has the id when it is not there (an account's id shows it missing, as list does).
        if (asContainer.isPresent() && r.container().isEmpty()) return Optional.empty();
        return Optional.of(new ObservedResource(address, a.id(), observed(a, r, container), a.tags()));
    }

    /** {@code uri}: the container's URL, from the account's blob endpoint ({@code https://<account>.blob.core.windows.net/<bucket>}). */
    @Override
    public Map<String, String> outputs(AzureClients cloud, Environment env, ObservedResource r) {
        String name = AzureKind.lastSegment(r.cloudId());
        StorageAccountInner a = AzureErrors.find("read storage account " + name,
            () -> storage(cloud).getStorageAccounts().getByResourceGroup(groupOf(r.cloudId()), name)).orElseThrow(() -> AzureKind.gone(r));
        String blob = a.primaryEndpoints() != null && a.primaryEndpoints().blob() != null && a.primaryEndpoints().blob().startsWith("https://")
            ? a.primaryEndpoints().blob() : "https://" + name + ".blob.core.windows.net/";
        return Map.of("uri", (blob.endsWith("/") ? blob : blob + "/") + r.address().name());
    }

    private static DriverException kmsRefused(Address address, String account) {
        return new DriverException(address + ": encryption: kms needs a customer-managed key in Azure Key Vault (a vault, a key, and a managed "
            + "identity storage account " + account + " reaches it with), which mlctl does not create; use encryption: managed (Microsoft-managed "
            + "keys), or set the key on the account yourself and mlctl keeps it", false);
    }

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec desired, Map<String, String> marker, String token) {
        Map<String, Object> a = desired.attributes();
        String name = accountName(cloud, env, desired.address().name());
        if ("kms".equals(a.get("encryption"))) throw kmsRefused(desired.address(), name);
        StorageAccountCreateParameters params = new StorageAccountCreateParameters().withSku(new Sku().withName(SkuName.STANDARD_LRS))
            .withKind(Kind.STORAGE_V2).withLocation(env.region()).withTags(AzureKind.allTags(marker, a))
            .withAllowBlobPublicAccess(Boolean.TRUE.equals(a.get("public"))).withMinimumTlsVersion(MinimumTlsVersion.TLS1_2)
            .withEnableHttpsTrafficOnly(true).withAccessTier(AccessTier.HOT).withEncryption(managedKeys());
        String group = AzureKind.resourceGroup(env);
        try {
            // The PUT goes out now; complete waits for the account (ARM PUTs are idempotent: the SDK may send it again after a lost answer).
            storage(cloud).getStorageAccounts().beginCreate(group, name, params);
        } catch (RuntimeException e) {
            String code = AzureErrors.code(e).orElse("");
            if (code.equals("StorageAccountAlreadyTaken") || code.equals("StorageAccountInAnotherResourceGroup")) {
                String where = code.equals("StorageAccountAlreadyTaken") ? "another subscription or tenant" : "another resource group of this subscription";
                throw new DriverException(desired.address() + ": storage account name " + name + " is already taken by " + where
                    + " (storage account names are global across Azure); mlctl derives it from subscription, environment and bucket: rename the bucket", false, e);
            }
            throw AzureErrors.translate("create storage account " + name, e);
        }
        return AzureKind.resourceId(cloud, env, "Microsoft.Storage/storageAccounts", name);
    }

    private static Encryption managedKeys() {
        return new Encryption().withKeySource(KeySource.MICROSOFT_STORAGE)
            .withServices(new EncryptionServices().withBlob(new EncryptionService().withEnabled(true).withKeyType(KeyType.ACCOUNT)));
    }

    /**
     * Waits for the account to be provisioned (an earlier, killed run may have left it Creating), then
     * makes the container and sets everything the create did not: it also finishes a create found after
     * a lost answer, and writes the marker on an account adopted as this environment's pending create.
     */
    @Override
    public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec desired, Map<String, String> marker) {
        StorageAccountInner account = ready(cloud, desired.address(), cloudId);
        return converge(cloud, desired, marker, account, SETTINGS, true, true);
    }

    private static StorageAccountInner ready(AzureClients cloud, Address address, String id) {
        String name = AzureKind.lastSegment(id);
        String group = groupOf(id);
        long deadline = System.nanoTime() + READY_WAIT.toNanos();
        long pause = 250;
        while (true) {
            StorageAccountInner a = AzureErrors.find("read storage account " + name, () -> storage(cloud).getStorageAccounts().getByResourceGroup(group, name))
                .orElseThrow(() -> new DriverException(address + ": storage account " + name + " is not visible yet", true));
            ProvisioningState state = a.provisioningState();
            if (ProvisioningState.SUCCEEDED.equals(state)) return a;
            if (ProvisioningState.FAILED.equals(state) || ProvisioningState.CANCELED.equals(state)) {
                throw new DriverException(address + ": storage account " + name + " failed to provision (provisioningState " + state
                    + "); see its activity log in the portal, delete it, and apply again", false);
            }
            if (System.nanoTime() > deadline) {
                throw new DriverException(address + ": storage account " + name + " is still " + state + "; apply again to continue", true);
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DriverException(address + ": interrupted waiting for storage account " + name, true, e);
            }
            pause = Math.min(5000, pause * 2);
        }
    }

    @Override
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        Set<String> changed = new TreeSet<>();
        for (AttributeChange ch : changes) changed.add(ch.path().split("[.\\[]", 2)[0]);
        changed.retainAll(SETTINGS);
        String name = AzureKind.lastSegment(current.cloudId());
        StorageAccountInner account = AzureErrors.find("read storage account " + name,
                () -> storage(cloud).getStorageAccounts().getByResourceGroup(groupOf(current.cloudId()), name))
            .orElseThrow(() -> new DriverException(current.address() + ": storage account " + name + " no longer exists; run plan again", false));
        // An import (no marker yet) marks the container too, as a create does.
        return converge(cloud, desired, TagMarker.INSTANCE.marker(env.name(), desired.address()), account, changed, false,
            !TagMarker.INSTANCE.marked(current.tags()));
    }

    /**
     * Brings the {@code which} settings of the account, its container, blob service and policy to the
     * spec where they differ, each in the call that holds it, and answers the resource as read back.
     * A missing container is made (by {@code complete}, or by the update of {@code container: missing});
     * {@code complete} and an import ({@code marking}) also write the container's marker metadata;
     * {@code transport} restores TLS 1.2 and HTTPS-only. Public access opens on the account before the container, and
     * closes on the container before the account (Azure refuses a public container on an account that
     * forbids public access).
     */
    private ObservedResource converge(AzureClients cloud, ResourceSpec d, Map<String, String> marker, StorageAccountInner inner,
                                      Set<String> which, boolean completing, boolean marking) {
        Map<String, Object> a = d.attributes();
        Address address = d.address();
        Account account = Account.of(inner);
        String name = account.name();
        String group = account.group();
        String container = address.name();
        Reads reads = read(cloud, account, container, address);
        boolean wantPublic = Boolean.TRUE.equals(a.get("public"));

        StorageAccountUpdateParameters patch = new StorageAccountUpdateParameters();
        boolean dirty = false;
        if (which.contains("tags")) {
            Optional<Map<String, String>> tags = AzureKind.tagsAfterSync(account.tags(), marker, a);
            if (tags.isPresent()) {
                patch.withTags(tags.get());
                dirty = true;
            }
        }
        if (which.contains("public") && account.allowPublic() != wantPublic) {
            patch.withAllowBlobPublicAccess(wantPublic);
            dirty = true;
        }
        if (which.contains("encryption")) {
            boolean wantKms = "kms".equals(a.get("encryption"));
            if (wantKms && !account.customerKey()) throw kmsRefused(address, name);
            if (!wantKms && account.customerKey()) {
                patch.withEncryption(managedKeys());
                dirty = true;
            }
        }
        if (which.contains("transport") && !STRONG_TLS.contains(account.tls())) {
            patch.withMinimumTlsVersion(MinimumTlsVersion.TLS1_2);
            dirty = true;
        }
        if (which.contains("transport") && !account.httpsOnly()) {
            patch.withEnableHttpsTrafficOnly(true);
            dirty = true;
        }
        if (dirty && wantPublic) account = patchAccount(cloud, account, patch);
        Optional<BlobContainerInner> box = convergeContainer(cloud, account, container, reads.container(), marker, wantPublic,
            which.contains("public") || completing, marking);
        if (dirty && !wantPublic) account = patchAccount(cloud, account, patch);

        BlobServicePropertiesInner service = reads.service();
        boolean wantVersioning = Boolean.TRUE.equals(a.get("versioning"));
        if (which.contains("versioning") && wantVersioning != Boolean.TRUE.equals(service.isVersioningEnabled())) {
            // Set Blob Service Properties keeps what the request leaves out: only versioning is sent.
            service = AzureErrors.call("set blob versioning of storage account " + name, () -> storage(cloud).getBlobServices()
                .setServiceProperties(group, name, new BlobServicePropertiesInner().withIsVersioningEnabled(wantVersioning)));
        }

        Optional<ManagementPolicyInner> policy = reads.policy();
        if (which.contains("lifecycle")) {
            @SuppressWarnings("unchecked")
            List<Object> want = (List<Object>) a.getOrDefault("lifecycle", List.of());
            if (!sameRules(lifecycle(container, policy), want)) {
                Optional<ManagementPolicyInner> next = policy(container, a);
                if (next.isPresent()) {
                    policy = Optional.of(AzureErrors.call("set lifecycle policy of storage account " + name, () -> storage(cloud).getManagementPolicies()
                        .createOrUpdate(group, name, ManagementPolicyName.DEFAULT, next.get())));
                } else {
                    AzureErrors.run("delete lifecycle policy of storage account " + name,
                        () -> storage(cloud).getManagementPolicies().delete(group, name, ManagementPolicyName.DEFAULT));
                    policy = Optional.empty();
                }
            }
        }
        Reads after = new Reads(service, policy, box);
        return new ObservedResource(address, account.id(), observed(account, after, container), account.tags());
    }

    private static Account patchAccount(AzureClients cloud, Account account, StorageAccountUpdateParameters patch) {
        return Account.of(AzureErrors.call("update storage account " + account.name(),
            () -> storage(cloud).getStorageAccounts().update(account.group(), account.name(), patch)));
    }

    /**
     * The bucket's container: made when missing (public access and marker metadata in the PUT), else
     * its public access set when {@code setAccess} and it differs, and, when {@code marking}, the marker
     * metadata added to whatever metadata it has.
     */
    private static Optional<BlobContainerInner> convergeContainer(AzureClients cloud, Account account, String container, Optional<BlobContainerInner> have,
                                                                  Map<String, String> marker, boolean wantPublic, boolean setAccess, boolean marking) {
        PublicAccess want = wantPublic ? PublicAccess.BLOB : PublicAccess.NONE;
        var containers = storage(cloud).getBlobContainers();
        if (have.isEmpty()) {
            BlobContainerInner body = new BlobContainerInner().withPublicAccess(want).withMetadata(metadataMarker(marker));
            return Optional.of(AzureErrors.call("create container " + container + " in storage account " + account.name(),
                () -> containers.create(account.group(), account.name(), container, body)));
        }
        BlobContainerInner c = have.get();
        BlobContainerInner change = new BlobContainerInner();
        boolean dirty = false;
        PublicAccess access = c.publicAccess() == null ? PublicAccess.NONE : c.publicAccess();
        if (setAccess && !want.equals(access)) {
            change.withPublicAccess(want);
            dirty = true;
        }
        Map<String, String> metadata = new TreeMap<>(c.metadata() == null ? Map.of() : c.metadata());
        if (marking && !metadata.entrySet().containsAll(metadataMarker(marker).entrySet())) {
            metadata.putAll(metadataMarker(marker));
            change.withMetadata(metadata);
            dirty = true;
        }
        if (!dirty) return have;
        return Optional.of(AzureErrors.call("update container " + container + " in storage account " + account.name(),
            () -> containers.update(account.group(), account.name(), container, change)));
    }

    /**
     * Ownership was checked a moment ago against the account's tags. Deleting the account deletes every
     * container in it, so an account holding a container other than the bucket's is refused, as a
     * non-empty bucket is on AWS and GCP (one request: the first page of the containers; a second page
     * means others too). The bucket's own container goes with the account, blobs and all: counting its
     * blobs needs the data plane (account keys or a blob data role), which mlctl does not use.
     */
    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        String name = AzureKind.lastSegment(current.cloudId());
        String group = groupOf(current.cloudId());
        String container = current.address().name();
        PagedResponse<ListContainerItemInner> first;
        try {
            first = storage(cloud).getBlobContainers().list(group, name).iterableByPage().iterator().next();
        } catch (RuntimeException e) {
            if (AzureErrors.notFound(e)) return;
            throw AzureErrors.translate("list containers of storage account " + name, e);
        }
        List<String> others = new ArrayList<>();
        for (ListContainerItemInner c : first.getValue()) if (!container.equals(c.name())) others.add(c.name());
        boolean more = first.getContinuationToken() != null;
        if (!others.isEmpty() || more) {
            boolean many = more || others.size() > 1;
            throw new DriverException(current.address() + ": storage account " + name + " also holds container" + (many ? "s " : " ")
                + String.join(", ", others) + (more ? (others.isEmpty() ? "" : " ") + "and more" : "") + ", which mlctl did not make; "
                + "mlctl does not delete data: move or delete " + (many ? "them" : "it") + " first", false);
        }
        try {
            storage(cloud).getStorageAccounts().delete(group, name);
        } catch (RuntimeException e) {
            if (AzureErrors.notFound(e)) return;
            throw AzureErrors.translate("delete storage account " + name, e);
        }
    }
}
