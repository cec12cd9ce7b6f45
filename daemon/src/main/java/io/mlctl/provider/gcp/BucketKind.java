package io.mlctl.provider.gcp;

import com.google.api.gax.paging.Page;
import com.google.cloud.storage.Bucket;
import com.google.cloud.storage.BucketInfo;
import com.google.cloud.storage.BucketInfo.LifecycleRule;
import com.google.cloud.storage.BucketInfo.LifecycleRule.LifecycleAction;
import com.google.cloud.storage.BucketInfo.LifecycleRule.LifecycleCondition;
import com.google.cloud.storage.BucketInfo.LifecycleRule.SetStorageClassLifecycleAction;
import com.google.cloud.storage.BucketInfo.PublicAccessPrevention;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.StorageClass;
import com.google.cloud.storage.StorageException;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.ResourceRules;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * bucket → a Cloud Storage bucket named as written (bucket names are global, like S3's), in the
 * environment's region, created in one call carrying everything: the labels (marker and the
 * environment's labels), uniform bucket-level access, public access prevention {@code enforced}
 * ({@code inherited} when {@code public: true}: public access becomes possible, as on AWS where the
 * public access block goes; mlctl grants nobody {@code allUsers}), versioning, lifecycle rules and,
 * for {@code encryption: kms}, the default Cloud KMS key
 * {@code projects/<project>/locations/<region>/keyRings/mlctl/cryptoKeys/<env>} (which the user
 * creates, see {@link #kmsKey}). Inventory is one {@code buckets.list} per page: the bucket resource
 * carries every setting, so no per-bucket read; GCS cannot filter a list by label, so the page is
 * filtered here on the environment's marker. Changes are one bucket patch; labels that others add
 * are kept and never reported.
 *
 * <p>Lifecycle: GCS rules have exactly one action and one condition set, a spec rule up to three, so
 * a spec rule becomes, in this order, {@code SetStorageClass} COLDLINE ({@code cold}) or ARCHIVE
 * ({@code archive}) at {@code age: afterDays}, {@code Delete} at {@code age: expireDays}, and
 * {@code Delete} at {@code daysSinceNoncurrentTime: noncurrentExpireDays} (the days since a version
 * became noncurrent, what S3's NoncurrentDays means), each with {@code matchesPrefix: [prefix]}. How
 * many GCS rules each spec rule made is kept in the label {@code mlctl-lifecycle} ({@code 2-1}), so
 * the rules read back as the spec wrote them; without it (removed by hand), consecutive rules of one
 * prefix are read as one.
 */
final class BucketKind implements GcpKind {
    static final String LIFECYCLE_LABEL = "mlctl-lifecycle";
    static final String KEY_RING = "mlctl";
    private static final int PAGE = 1000;
    private static final Set<String> SETTINGS = Set.of("versioning", "encryption", "public", "lifecycle", "tags");

    @Override
    public ResourceType type() {
        return ResourceType.BUCKET;
    }

    /** A bucket's location cannot change: a region change replaces it. */
    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region"));
    }

    /** The default key of a bucket with {@code encryption: kms}: a key ring {@code mlctl} in the region, one key per environment. */
    static String kmsKey(String project, Environment env) {
        return "projects/" + project + "/locations/" + env.region() + "/keyRings/" + KEY_RING + "/cryptoKeys/" + env.name();
    }

    @Override
    public io.mlctl.provider.Page list(GcpClients c, Environment env, Optional<String> pageToken) {
        List<Storage.BucketListOption> options = new ArrayList<>(List.of(Storage.BucketListOption.pageSize(PAGE)));
        pageToken.ifPresent(t -> options.add(Storage.BucketListOption.pageToken(t)));
        Page<Bucket> page = GcpErrors.call("storage.buckets.list " + c.project(),
            () -> c.storage().list(options.toArray(Storage.BucketListOption[]::new)));
        List<ObservedResource> items = new ArrayList<>();
        for (Bucket b : page.getValues()) {
            Map<String, String> labels = labels(b);
            Optional<Address> a = GcpMarker.INSTANCE.owner(labels, env.name())
                .filter(x -> x.type() == ResourceType.BUCKET && !x.isComponent() && x.name().equals(b.getName()));
            a.ifPresent(address -> items.add(observe(env, address, b)));
        }
        return new io.mlctl.provider.Page(items, Optional.ofNullable(page.getNextPageToken()).filter(t -> !t.isEmpty()));
    }

    /** One bucket as inventory (and import) shows it: its name as id, its settings, all its labels. */
    private static ObservedResource observe(Environment env, Address address, BucketInfo b) {
        return new ObservedResource(address, b.getName(), observed(env, b), labels(b));
    }

    static Map<String, String> labels(BucketInfo b) {
        Map<String, String> m = new TreeMap<>();
        if (b.getLabels() != null) b.getLabels().forEach((k, v) -> {
            if (v != null) m.put(k, v);
        });
        return m;
    }

    /** Attributes as the bucket shows them: its location (GCS writes it upper-case), settings, and only the labels mlctl manages. */
    static Map<String, Object> observed(Environment env, BucketInfo b) {
        Map<String, Object> m = new TreeMap<>();
        m.put("region", b.getLocation() == null ? "" : b.getLocation().toLowerCase(Locale.ROOT));
        m.put("versioning", Boolean.TRUE.equals(b.versioningEnabled()));
        m.put("encryption", b.getDefaultKmsKeyName() == null || b.getDefaultKmsKeyName().isEmpty() ? "managed" : "kms");
        PublicAccessPrevention pap = b.getIamConfiguration() == null ? null : b.getIamConfiguration().getPublicAccessPrevention();
        m.put("public", pap != PublicAccessPrevention.ENFORCED);
        Map<String, String> labels = labels(b);
        List<Object> lifecycle = lifecycle(b.getLifecycleRules() == null ? List.of() : b.getLifecycleRules(), labels.get(LIFECYCLE_LABEL));
        if (!lifecycle.isEmpty()) m.put("lifecycle", lifecycle);
        Map<String, String> managed = LABELS.observed(labels);
        if (!managed.isEmpty()) m.put("tags", managed);
        return m;
    }

    /** One GCS rule as part of a spec rule: its kind (0 transition, 1 expire, 2 noncurrent expire; -1 not one mlctl writes). */
    private record Atom(int kind, String prefix, Map<String, Object> fields) {
    }

    private static Atom atom(LifecycleRule r) {
        LifecycleCondition c = r.getCondition();
        String prefix = c.getMatchesPrefix() == null || c.getMatchesPrefix().isEmpty() ? "" : c.getMatchesPrefix().size() == 1 ? c.getMatchesPrefix().get(0) : null;
        boolean others = c.getCreatedBefore() != null || c.getNumberOfNewerVersions() != null || c.getIsLive() != null
            || c.getMatchesStorageClass() != null && !c.getMatchesStorageClass().isEmpty() || c.getNoncurrentTimeBefore() != null
            || c.getCustomTimeBefore() != null || c.getDaysSinceCustomTime() != null || c.getMatchesSuffix() != null && !c.getMatchesSuffix().isEmpty()
            || prefix == null;
        Map<String, Object> f = new TreeMap<>();
        String type = r.getAction().getActionType();
        if (!others && c.getAge() != null && c.getDaysSinceNoncurrentTime() == null) {
            if ("SetStorageClass".equals(type) && r.getAction() instanceof SetStorageClassLifecycleAction s
                && (StorageClass.COLDLINE.equals(s.getStorageClass()) || StorageClass.ARCHIVE.equals(s.getStorageClass()))) {
                f.put("afterDays", (long) c.getAge());
                f.put("storageClass", StorageClass.COLDLINE.equals(s.getStorageClass()) ? "cold" : "archive");
                return new Atom(0, prefix, f);
            }
            if ("Delete".equals(type)) {
                f.put("expireDays", (long) c.getAge());
                return new Atom(1, prefix, f);
            }
        }
        if (!others && c.getAge() == null && c.getDaysSinceNoncurrentTime() != null && "Delete".equals(type)) {
            f.put("noncurrentExpireDays", (long) c.getDaysSinceNoncurrentTime());
            return new Atom(2, prefix, f);
        }
        // A rule mlctl does not write (someone else's): shown as it is, so it differs from any spec rule and is replaced.
        f.put("gcsRule", type + " " + c);
        return new Atom(-1, prefix == null ? "" : prefix, f);
    }

    /** The spec's lifecycle rules back from GCS's, grouped as {@code mlctl-lifecycle} records (or, without it, by prefix and order). */
    static List<Object> lifecycle(List<? extends LifecycleRule> rules, String grouping) {
        List<Atom> atoms = rules.stream().map(BucketKind::atom).toList();
        List<List<Atom>> groups = grouped(atoms, grouping).orElseGet(() -> greedy(atoms));
        List<Object> out = new ArrayList<>();
        for (List<Atom> g : groups) {
            Map<String, Object> rule = new TreeMap<>();
            if (!g.get(0).prefix().isEmpty()) rule.put("prefix", g.get(0).prefix());
            for (Atom a : g) rule.putAll(a.fields());
            out.add(rule);
        }
        return out;
    }

    private static Optional<List<List<Atom>>> grouped(List<Atom> atoms, String grouping) {
        if (grouping == null || !grouping.matches("[1-3](-[1-3])*")) return Optional.empty();
        List<List<Atom>> out = new ArrayList<>();
        int i = 0;
        for (String n : grouping.split("-")) {
            int count = Integer.parseInt(n);
            if (i + count > atoms.size()) return Optional.empty();
            List<Atom> g = atoms.subList(i, i + count);
            for (int k = 1; k < g.size(); k++) {
                if (g.get(k).kind() <= g.get(k - 1).kind() || !g.get(k).prefix().equals(g.get(0).prefix())) return Optional.empty();
            }
            if (g.get(0).kind() < 0) return Optional.empty();
            out.add(g);
            i += count;
        }
        return i == atoms.size() ? Optional.of(out) : Optional.empty();
    }

    private static List<List<Atom>> greedy(List<Atom> atoms) {
        List<List<Atom>> out = new ArrayList<>();
        List<Atom> g = null;
        for (Atom a : atoms) {
            Atom last = g == null ? null : g.get(g.size() - 1);
            if (last == null || a.kind() < 0 || last.kind() < 0 || a.kind() <= last.kind() || !a.prefix().equals(last.prefix())) {
                g = new ArrayList<>();
                out.add(g);
            }
            g.add(a);
        }
        return out;
    }

    /** The GCS rules for the spec's lifecycle, and the grouping label that reads them back. */
    record Rules(List<LifecycleRule> rules, String grouping) {
    }

    @SuppressWarnings("unchecked")
    static Rules rules(Map<String, Object> attrs) {
        List<LifecycleRule> out = new ArrayList<>();
        List<String> counts = new ArrayList<>();
        for (Object o : (List<Object>) attrs.getOrDefault("lifecycle", List.of())) {
            Map<String, Object> r = (Map<String, Object>) o;
            String prefix = (String) r.getOrDefault("prefix", "");
            int before = out.size();
            if (r.get("afterDays") != null) {
                StorageClass to = "cold".equals(r.get("storageClass")) ? StorageClass.COLDLINE : StorageClass.ARCHIVE;
                out.add(new LifecycleRule(LifecycleAction.newSetStorageClassAction(to),
                    condition(prefix).setAge(((Number) r.get("afterDays")).intValue()).build()));
            }
            if (r.get("expireDays") != null) {
                out.add(new LifecycleRule(LifecycleAction.newDeleteAction(), condition(prefix).setAge(((Number) r.get("expireDays")).intValue()).build()));
            }
            if (r.get("noncurrentExpireDays") != null) {
                out.add(new LifecycleRule(LifecycleAction.newDeleteAction(),
                    condition(prefix).setDaysSinceNoncurrentTime(((Number) r.get("noncurrentExpireDays")).intValue()).build()));
            }
            if (out.size() > before) counts.add(Integer.toString(out.size() - before));
        }
        String grouping = String.join("-", counts);
        return new Rules(out, grouping.length() <= 63 ? grouping : "");
    }

    private static LifecycleCondition.Builder condition(String prefix) {
        LifecycleCondition.Builder b = LifecycleCondition.newBuilder();
        if (!prefix.isEmpty()) b.setMatchesPrefix(List.of(prefix));
        return b;
    }

    private static BucketInfo.IamConfiguration iamConfiguration(Map<String, Object> attrs) {
        return BucketInfo.IamConfiguration.newBuilder().setIsUniformBucketLevelAccessEnabled(true)
            .setPublicAccessPrevention(Boolean.TRUE.equals(attrs.get("public")) ? PublicAccessPrevention.INHERITED : PublicAccessPrevention.ENFORCED)
            .build();
    }

    private static final java.util.regex.Pattern BUCKET_NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]");

    /**
     * Import by the bucket's name ({@code ml-data}, {@code gs://ml-data} or {@code projects/_/buckets/ml-data}). An unmarked
     * bucket is taken only at the address of its own name: mlctl and its grants know a GCP bucket by its address name.
     */
    @Override
    public Optional<ObservedResource> read(GcpClients c, Environment env, Address address, String cloudId) {
        String id = cloudId.trim();
        String bucket = id.startsWith("gs://") ? id.substring(5) : id.startsWith("projects/_/buckets/") ? id.substring("projects/_/buckets/".length()) : id;
        if (bucket.endsWith("/")) bucket = bucket.substring(0, bucket.length() - 1);
        if (!BUCKET_NAME.matcher(bucket).matches()) throw GcpKind.badId(address, cloudId, "the bucket's name, e.g. ml-data (or gs://ml-data)");
        Bucket b;
        try {
            b = c.storage().get(bucket);
        } catch (StorageException e) {
            if (e.getCode() == 404) return Optional.empty();
            if (e.getCode() == 403) {
                throw new DriverException(address + ": bucket " + bucket + " belongs to another project or these credentials may not read it", false, e);
            }
            throw GcpErrors.translate("storage.buckets.get " + bucket, e);
        }
        if (b == null) return Optional.empty();
        // Bucket names are global: one readable from here may still be another project's.
        String number = GcpErrors.call("resourcemanager.projects.get " + c.project(), () -> c.projects().getProject("projects/" + c.project())).getName();
        if (b.getProject() != null && !("projects/" + b.getProject()).equals(number)) {
            throw GcpKind.otherProject(address, "bucket " + bucket, "number " + b.getProject(), c.project());
        }
        Map<String, String> labels = labels(b);
        if (GcpKind.unmarked(labels) && !bucket.equals(address.name())) {
            throw new DriverException(address + ": bucket " + bucket + " cannot be imported as " + address + ": a GCP bucket's address name is "
                + "its name (grants and references find it by it); import it as bucket." + bucket, false);
        }
        return Optional.of(observe(env, address, b));
    }

    @Override
    public Map<String, String> outputs(GcpClients c, Environment env, ObservedResource resource) {
        return Map.of("uri", "gs://" + resource.cloudId());
    }

    /** The bucket of that name, whoever owns it (its id is its name). */
    @Override
    public Optional<Existing> find(GcpClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String bucket = knownCloudId.orElse(address.name());
        Bucket b = get(c, address, bucket);
        return b == null ? Optional.empty() : Optional.of(new Existing(bucket, "bucket " + bucket, labels(b)));
    }

    private static Bucket get(GcpClients c, Address address, String bucket) {
        try {
            return c.storage().get(bucket);
        } catch (StorageException e) {
            if (e.getCode() == 404) return null;
            if (e.getCode() == 403) {
                throw new DriverException(address + ": the bucket name " + bucket + " is taken by another project (bucket names are global)"
                    + " or these credentials may not read it; rename it in the spec", false, e);
            }
            throw GcpErrors.translate("storage.buckets.get " + bucket, e);
        }
    }

    @Override
    public String create(GcpClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String bucket = d.address().name();
        Map<String, Object> a = d.attributes();
        Rules rules = rules(a);
        Map<String, String> labels = new TreeMap<>(GcpKind.allLabels(marker, a));
        if (!rules.grouping().isEmpty()) labels.put(LIFECYCLE_LABEL, rules.grouping());
        BucketInfo.Builder info = BucketInfo.newBuilder(bucket).setLocation(env.region()).setStorageClass(StorageClass.STANDARD)
            .setLabels(labels).setVersioningEnabled(Boolean.TRUE.equals(a.get("versioning"))).setIamConfiguration(iamConfiguration(a));
        if (!rules.rules().isEmpty()) info.setLifecycleRules(rules.rules());
        if ("kms".equals(a.get("encryption"))) info.setDefaultKmsKeyName(kmsKey(c.project(), env));
        try {
            // No client token exists for buckets; after a lost answer the engine looks (find) before creating again.
            c.storage().create(info.build());
        } catch (StorageException e) {
            if (e.getCode() == 409 && String.valueOf(e.getMessage()).contains("already own it")) {
                throw new DriverException(d.address() + ": bucket " + bucket + " appeared in this project while creating it; looking again", true, e);
            }
            if (e.getCode() == 409) {
                throw new DriverException(d.address() + ": the bucket name " + bucket + " is taken by another project; bucket names are global"
                    + " (rename it in the spec)", false, e);
            }
            throw GcpErrors.translate("storage.buckets.insert " + bucket, e);
        }
        return bucket;
    }

    /** Everything was set in the insert; this also finishes a bucket found after a lost answer, or one whose settings lag the spec. */
    @Override
    public ObservedResource complete(GcpClients c, Environment env, String bucket, ResourceSpec d, Map<String, String> marker) {
        return converge(c, env, bucket, d, marker, SETTINGS);
    }

    @Override
    public ObservedResource update(GcpClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        Set<String> changed = new TreeSet<>();
        for (AttributeChange ch : changes) changed.add(ch.path().split("[.\\[]", 2)[0]);
        changed.retainAll(SETTINGS);
        return converge(c, env, current.cloudId(), d, GcpMarker.INSTANCE.marker(env.name(), d.address()), changed);
    }

    /**
     * One patch writing the {@code which} settings where the bucket differs from the spec: only those
     * fields are sent, labels as the full map GCS merges key by key (others' labels stay), guarded by
     * the metageneration read, so a concurrent change is read again rather than overwritten.
     */
    private ObservedResource converge(GcpClients c, Environment env, String bucket, ResourceSpec d, Map<String, String> marker, Set<String> which) {
        Map<String, Object> a = d.attributes();
        for (int attempt = 0; ; attempt++) {
            Bucket b = get(c, d.address(), bucket);
            if (b == null) throw new DriverException(d.address() + ": bucket " + bucket + " is not visible yet", true);
            Map<String, String> cloud = labels(b);
            BucketInfo.Builder patch = b.toBuilder();
            boolean dirty = false;
            Rules rules = rules(a);
            Map<String, String> labels = new TreeMap<>(cloud);
            if (which.contains("tags")) labels = new TreeMap<>(GcpKind.labelsAfterSync(cloud, marker, a).orElse(cloud));
            if (which.contains("lifecycle")) {
                if (rules.grouping().isEmpty()) labels.remove(LIFECYCLE_LABEL);
                else labels.put(LIFECYCLE_LABEL, rules.grouping());
                List<Object> have = lifecycle(b.getLifecycleRules() == null ? List.of() : b.getLifecycleRules(), cloud.get(LIFECYCLE_LABEL));
                @SuppressWarnings("unchecked")
                List<Object> want = (List<Object>) a.getOrDefault("lifecycle", List.of());
                if (!new TreeSet<>(have.stream().map(String::valueOf).toList()).equals(new TreeSet<>(want.stream().map(String::valueOf).toList()))
                    || have.size() != want.size() || !Objects.equals(cloud.get(LIFECYCLE_LABEL), labels.get(LIFECYCLE_LABEL))) {
                    if (rules.rules().isEmpty()) patch.deleteLifecycleRules();
                    else patch.setLifecycleRules(rules.rules());
                    dirty = true;
                }
            }
            if (!labels.equals(cloud)) {
                Map<String, String> next = new java.util.HashMap<>(labels);
                for (String k : cloud.keySet()) if (!labels.containsKey(k)) next.put(k, null); // GCS removes a label patched to null
                patch.setLabels(next);
                dirty = true;
            }
            if (which.contains("versioning") && Boolean.TRUE.equals(a.get("versioning")) != Boolean.TRUE.equals(b.versioningEnabled())) {
                patch.setVersioningEnabled(Boolean.TRUE.equals(a.get("versioning")));
                dirty = true;
            }
            if (which.contains("public")) {
                BucketInfo.IamConfiguration want = iamConfiguration(a);
                BucketInfo.IamConfiguration have = b.getIamConfiguration();
                if (have == null || !Boolean.TRUE.equals(have.isUniformBucketLevelAccessEnabled())
                    || have.getPublicAccessPrevention() != want.getPublicAccessPrevention()) {
                    patch.setIamConfiguration(want);
                    dirty = true;
                }
            }
            if (which.contains("encryption")) {
                String want = "kms".equals(a.get("encryption")) ? kmsKey(c.project(), env) : null;
                String have = b.getDefaultKmsKeyName() == null || b.getDefaultKmsKeyName().isEmpty() ? null : b.getDefaultKmsKeyName();
                // Any default key is kms; only a change between managed and kms is written (a key someone rotated to stays).
                if ((want == null) != (have == null)) {
                    patch.setDefaultKmsKeyName(want);
                    dirty = true;
                }
            }
            if (!dirty) return new ObservedResource(d.address(), bucket, d.attributes(), cloud);
            try {
                Bucket after = c.storage().update(patch.build(), Storage.BucketTargetOption.metagenerationMatch());
                return new ObservedResource(d.address(), bucket, d.attributes(), labels(after));
            } catch (StorageException e) {
                if (e.getCode() == 412 && attempt < 3) continue; // changed since read: read again
                throw GcpErrors.translate("storage.buckets.patch " + bucket, e);
            }
        }
    }

    /** Ownership was checked by the caller against the bucket's labels a moment ago. mlctl never deletes data. */
    @Override
    public void delete(GcpClients c, Environment env, ObservedResource current) {
        String bucket = current.cloudId();
        try {
            c.storage().delete(bucket);
        } catch (StorageException e) {
            if (e.getCode() == 404) return;
            if (e.getCode() == 409) {
                throw new DriverException(current.address() + ": bucket " + bucket + " still holds objects; mlctl does not delete data: empty it first", false);
            }
            throw GcpErrors.translate("storage.buckets.delete " + bucket, e);
        }
    }
}
