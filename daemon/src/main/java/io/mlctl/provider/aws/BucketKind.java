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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.resourcegroupstaggingapi.model.GetResourcesResponse;
import software.amazon.awssdk.services.resourcegroupstaggingapi.model.ResourceTagMapping;
import software.amazon.awssdk.services.resourcegroupstaggingapi.model.TagFilter;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketLocationConstraint;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionRule;
import software.amazon.awssdk.services.s3.model.Tag;
import software.amazon.awssdk.services.s3.model.Transition;
import software.amazon.awssdk.services.s3.model.TransitionStorageClass;

/**
 * bucket → an S3 bucket (named as written: the user owns that global namespace) with versioning,
 * default encryption (SSE-S3 for managed, SSE-KMS for kms), a public access block unless public,
 * lifecycle rules (archive = GLACIER, cold = STANDARD_IA), the ownership marker and the
 * environment's labels. Tags anyone else put on the bucket are kept and never reported as drift.
 */
final class BucketKind implements AwsKind {
    static final Labels LABELS = new Labels(TagMarker.INSTANCE, ":");
    /** Concurrent configuration reads while listing: S3 has no bulk read, a small pool keeps it polite. */
    static final int READERS = 8;
    static final Set<String> SETTINGS = Set.of("versioning", "encryption", "public", "lifecycle");
    /** A read that found the bucket gone between the listing and the read. */
    private static final Object GONE = new Object();

    @Override
    public ResourceType type() {
        return ResourceType.BUCKET;
    }

    @Override
    public ResourceRules rules() {
        return new ResourceRules(Set.of("region"));
    }

    /** AWS takes the tags in CreateBucket, but emulators drop them: the tag set is written first thing in complete(). */
    @Override
    public boolean markedAtCreation() {
        return false;
    }

    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        // S3 cannot filter by tag; the tagging API finds the environment's buckets in one paged call.
        GetResourcesResponse r = AwsErrors.call("tag:GetResources s3", () -> c.tagging.getResources(b -> b
            .tagFilters(TagFilter.builder().key(Ownership.ENVIRONMENT_TAG).values(env.name()).build())
            .resourceTypeFilters("s3").resourcesPerPage(100).paginationToken(pageToken.orElse(null))));
        Map<String, Map<String, String>> tagsOf = new LinkedHashMap<>();
        Map<String, Address> addressOf = new LinkedHashMap<>();
        for (ResourceTagMapping m : r.resourceTagMappingList()) {
            Map<String, String> tags = new TreeMap<>();
            m.tags().forEach(t -> tags.put(t.key(), t.value()));
            Optional<Address> a = Ownership.ownedAddress(tags, env.name());
            if (a.isEmpty() || a.get().type() != ResourceType.BUCKET) continue;
            String bucket = m.resourceARN().substring(m.resourceARN().lastIndexOf(':') + 1);
            tagsOf.put(bucket, tags);
            addressOf.put(bucket, a.get());
        }
        return new Page(observeAll(c.s3, env, addressOf, tagsOf), Optional.ofNullable(r.paginationToken()).filter(t -> !t.isEmpty()));
    }

    /** The buckets as listed (and as read for an import): each one's configuration read, at its address; a bucket gone meanwhile is left out. */
    private static List<ObservedResource> observeAll(S3Client s3, Environment env, Map<String, Address> addressOf, Map<String, Map<String, String>> tagsOf) {
        Map<String, Optional<Map<String, Object>>> configs = readAll(s3, List.copyOf(tagsOf.keySet()));
        List<ObservedResource> items = new ArrayList<>();
        tagsOf.forEach((bucket, tags) -> configs.get(bucket).ifPresent(attrs ->
            items.add(new ObservedResource(addressOf.get(bucket), bucket, observed(env, attrs, tags), tags))));
        return items;
    }

    /** S3's naming rules for buckets (general purpose): 3 to 63 lowercase letters, digits, dots and hyphens. */
    private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    /** A bucket's id is its name, and its address is that name too (grants and URIs use it): only {@code bucket.<its name>} imports it. */
    @Override
    public Optional<ObservedResource> read(AwsClients c, Environment env, Address address, String bucket) {
        if (!NAME.matcher(bucket).matches()) throw AwsKind.malformed(address, bucket, "an S3 bucket name", "its name (e.g. ml-data)");
        Map<String, String> tags;
        try {
            tags = readTags(c.s3, bucket);
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchBucket")) return Optional.empty();
            if (AwsErrors.is(e, "PermanentRedirect", "AuthorizationHeaderMalformed")) {
                throw new DriverException(address + ": bucket " + bucket + " is in another region than " + env.region()
                    + "; a bucket cannot move between regions, so only one in the environment's region can be imported", false, e);
            }
            if (e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException ase && ase.statusCode() == 403 && !headable(c.s3, bucket)) {
                throw new DriverException(address + ": bucket " + bucket + " belongs to another AWS account or these credentials may not read it", false, e);
            }
            throw AwsErrors.translate("s3:GetBucketTagging " + bucket, e);
        }
        if (!bucket.equals(address.name())) {
            throw new DriverException(address + ": bucket " + bucket + " cannot be imported as " + address
                + ": a bucket's address in the spec is its name (bucket." + bucket + ")", false);
        }
        String location = AwsErrors.call("s3:GetBucketLocation " + bucket, () -> c.s3.getBucketLocation(b -> b.bucket(bucket)).locationConstraintAsString());
        String region = location == null || location.isEmpty() ? "us-east-1" : location.equals("EU") ? "eu-west-1" : location;
        if (!region.equals(env.region())) {
            throw new DriverException(address + ": bucket " + bucket + " is in " + region + ", not in " + env.region()
                + "; a bucket cannot move between regions, so only one in the environment's region can be imported", false);
        }
        return observeAll(c.s3, env, Map.of(bucket, address), Map.of(bucket, tags)).stream().findFirst();
    }

    @Override
    public Map<String, String> outputs(AwsClients c, Environment env, ObservedResource resource) {
        return Map.of("uri", "s3://" + resource.cloudId());
    }

    /** Attributes as listed: the configuration, the region, and only the labels mlctl manages. */
    static Map<String, Object> observed(Environment env, Map<String, Object> config, Map<String, String> cloudTags) {
        Map<String, Object> out = new TreeMap<>(config);
        out.put("region", env.region());
        Map<String, String> labels = LABELS.observed(cloudTags);
        if (!labels.isEmpty()) out.put("tags", labels);
        return out;
    }

    private record Read(String attribute, BiFunction<S3Client, String, Object> call) {
    }

    /** The configuration reads S3 forces per bucket: versioning, encryption, public access, lifecycle. */
    private static final List<Read> READS = List.of(
        new Read("versioning", (s3, bucket) -> absentAs(() -> s3.getBucketVersioning(b -> b.bucket(bucket)).status() == BucketVersioningStatus.ENABLED,
            null, "s3:GetBucketVersioning " + bucket, null)),
        new Read("encryption", (s3, bucket) -> absentAs(() -> {
            List<ServerSideEncryptionRule> rules = s3.getBucketEncryption(b -> b.bucket(bucket)).serverSideEncryptionConfiguration().rules();
            boolean kms = rules.stream().anyMatch(x -> x.applyServerSideEncryptionByDefault() != null
                && x.applyServerSideEncryptionByDefault().sseAlgorithm() == ServerSideEncryption.AWS_KMS);
            return kms ? "kms" : "managed";
        }, "managed", "s3:GetBucketEncryption " + bucket, "ServerSideEncryptionConfigurationNotFoundError")),
        new Read("public", (s3, bucket) -> absentAs(() -> {
            var pab = s3.getPublicAccessBlock(b -> b.bucket(bucket)).publicAccessBlockConfiguration();
            return !(Boolean.TRUE.equals(pab.blockPublicAcls()) && Boolean.TRUE.equals(pab.blockPublicPolicy())
                && Boolean.TRUE.equals(pab.ignorePublicAcls()) && Boolean.TRUE.equals(pab.restrictPublicBuckets()));
        }, true, "s3:GetPublicAccessBlock " + bucket, "NoSuchPublicAccessBlockConfiguration")),
        new Read("lifecycle", (s3, bucket) -> absentAs(() -> lifecycle(s3.getBucketLifecycleConfiguration(b -> b.bucket(bucket)).rules()),
            List.of(), "s3:GetBucketLifecycleConfiguration " + bucket, "NoSuchLifecycleConfiguration")));

    /**
     * Every bucket's configuration, the reads of all buckets overlapping on a small fixed pool (the
     * same requests as one by one, a fraction of the time). Empty for a bucket gone meanwhile.
     */
    static Map<String, Optional<Map<String, Object>>> readAll(S3Client s3, List<String> buckets) {
        Map<String, Optional<Map<String, Object>>> out = new LinkedHashMap<>();
        if (buckets.isEmpty()) return out;
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(READERS, buckets.size() * READS.size()), r -> {
            Thread t = new Thread(r, "s3-config-read");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<String, List<CompletableFuture<Object>>> pending = new LinkedHashMap<>();
            for (String bucket : buckets) {
                List<CompletableFuture<Object>> reads = new ArrayList<>();
                for (Read read : READS) reads.add(CompletableFuture.supplyAsync(() -> read.call().apply(s3, bucket), pool));
                pending.put(bucket, reads);
            }
            for (Map.Entry<String, List<CompletableFuture<Object>>> e : pending.entrySet()) {
                Map<String, Object> attrs = new TreeMap<>();
                boolean gone = false;
                for (int i = 0; i < READS.size(); i++) {
                    Object v = join(e.getValue().get(i));
                    if (v == GONE) gone = true;
                    else attrs.put(READS.get(i).attribute(), v);
                }
                out.put(e.getKey(), gone ? Optional.empty() : Optional.of(attrs));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    private static Object join(CompletableFuture<Object> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw e;
        }
    }

    private static Object absentAs(Supplier<Object> read, Object absent, String what, String notFoundCode) {
        try {
            return read.get();
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchBucket")) return GONE; // listed, but deleted since
            if (notFoundCode != null && AwsErrors.is(e, notFoundCode)) return absent;
            throw AwsErrors.translate(what, e);
        }
    }

    private static List<Object> lifecycle(List<LifecycleRule> cloud) {
        List<Object> rules = new ArrayList<>();
        for (LifecycleRule lr : cloud) {
            if (lr.status() != ExpirationStatus.ENABLED) continue;
            Map<String, Object> rule = new TreeMap<>();
            String prefix = lr.filter() != null && lr.filter().prefix() != null ? lr.filter().prefix() : lr.prefix();
            if (prefix != null && !prefix.isEmpty()) rule.put("prefix", prefix);
            for (Transition t : lr.transitions()) {
                rule.put("afterDays", (long) t.days());
                rule.put("storageClass", t.storageClass() == TransitionStorageClass.STANDARD_IA ? "cold" : "archive");
            }
            if (lr.expiration() != null && lr.expiration().days() != null) rule.put("expireDays", (long) lr.expiration().days());
            if (lr.noncurrentVersionExpiration() != null && lr.noncurrentVersionExpiration().noncurrentDays() != null) {
                rule.put("noncurrentExpireDays", (long) lr.noncurrentVersionExpiration().noncurrentDays());
            }
            rules.add(rule);
        }
        return rules;
    }

    /** The bucket at this address is the one of that name (its id is its name), whoever owns it. */
    @Override
    public Optional<Existing> find(AwsClients c, Environment env, Address address, Optional<String> knownCloudId) {
        String bucket = knownCloudId.orElse(address.name());
        try {
            return Optional.of(new Existing(bucket, "bucket " + bucket, readTags(c.s3, bucket)));
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchBucket")) return Optional.empty();
            if (AwsErrors.is(e, "PermanentRedirect", "AuthorizationHeaderMalformed")) {
                throw new DriverException(address + ": bucket " + bucket + " already exists in another region than " + env.region()
                    + "; mlctl does not take over resources it did not create (rename it in the spec)", false, e);
            }
            if (e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException ase && ase.statusCode() == 403 && !headable(c.s3, bucket)) {
                throw new DriverException(address + ": the bucket name " + bucket + " is taken by another AWS account (bucket names are global)"
                    + " or these credentials may not read it; rename it in the spec", false, e);
            }
            throw AwsErrors.translate("s3:GetBucketTagging " + bucket, e);
        }
    }

    private static boolean headable(S3Client s3, String bucket) {
        try {
            s3.headBucket(b -> b.bucket(bucket));
            return true;
        } catch (SdkException e) {
            return false;
        }
    }

    /** All the bucket's tags; throws NoSuchBucket (and any other failure) as the SDK does. */
    private static Map<String, String> readTags(S3Client s3, String bucket) {
        Map<String, String> m = new TreeMap<>();
        try {
            s3.getBucketTagging(b -> b.bucket(bucket)).tagSet().forEach(t -> m.put(t.key(), t.value()));
        } catch (SdkException e) {
            if (!AwsErrors.is(e, "NoSuchTagSet")) throw e;
        }
        return m;
    }

    private static Map<String, String> tags(S3Client s3, String bucket) {
        try {
            return readTags(s3, bucket);
        } catch (SdkException e) {
            throw AwsErrors.translate("s3:GetBucketTagging " + bucket, e);
        }
    }

    @Override
    public String create(AwsClients c, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String bucket = d.address().name();
        try {
            // No client token and no retries: after a lost answer the engine looks (find) before creating again.
            // Tags in the create call itself, so the bucket is never unmarked (emulators that ignore
            // them are covered by complete(), which writes the tag set first).
            List<Tag> atCreate = LABELS.atCreate(marker, labels(d)).entrySet().stream()
                .map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
            c.s3Once.createBucket(b -> b.bucket(bucket).createBucketConfiguration(cfg -> {
                cfg.tags(atCreate);
                if (!"us-east-1".equals(env.region())) cfg.locationConstraint(BucketLocationConstraint.fromValue(env.region()));
            }));
        } catch (SdkException e) {
            if (AwsErrors.is(e, "BucketAlreadyExists")) {
                throw new DriverException(d.address() + ": the bucket name " + bucket + " is taken by another AWS account; bucket names are global", false, e);
            }
            if (AwsErrors.is(e, "BucketAlreadyOwnedByYou")) {
                // It appeared since we looked, or our look missed it: either way not provably ours.
                throw new NotOwnedException(d.address() + ": bucket " + bucket + " already exists in this account and is not managed by mlctl"
                    + " (it was not there a moment ago); mlctl does not take over resources it did not create (rename it in the spec)");
            }
            throw AwsErrors.translate("s3:CreateBucket " + bucket, e);
        }
        return bucket;
    }

    /** Tags first, so a process killed right after leaves the bucket marked as this resource; then the settings. */
    @Override
    public ObservedResource complete(AwsClients c, Environment env, String bucket, ResourceSpec d, Map<String, String> marker) {
        // In us-east-1 CreateBucket answers 200 for a bucket the account already has: a bucket carrying anyone
        // else's tags is not the one this create made, whatever the answer said.
        Map<String, String> found = tags(c.s3, bucket);
        Set<String> labelKeys = labels(d).keySet();
        Optional<String> foreign = found.keySet().stream().filter(k -> !TagMarker.INSTANCE.isMarkerKey(k) && !k.equals(Labels.MANAGED_KEYS_TAG)
            && !labelKeys.contains(k)).findFirst();
        boolean otherOwner = TagMarker.INSTANCE.marked(found) && TagMarker.INSTANCE.owner(found, env.name()).filter(d.address()::equals).isEmpty();
        if (otherOwner || foreign.isPresent() && TagMarker.INSTANCE.owner(found, env.name()).isEmpty()) {
            throw new NotOwnedException(d.address() + ": bucket " + bucket + " already exists and is " + TagMarker.INSTANCE.describeOwner(found)
                + "; mlctl does not take over resources it did not create (rename it in the spec)");
        }
        Map<String, String> tags = syncTags(c.s3, bucket, found, marker, labels(d));
        converge(c.s3, bucket, d.attributes(), SETTINGS, true);
        return new ObservedResource(d.address(), bucket, d.attributes(), tags);
    }

    @SuppressWarnings("unchecked")
    static Map<String, String> labels(ResourceSpec d) {
        Map<String, String> out = new TreeMap<>();
        if (d.attributes().get("tags") instanceof Map<?, ?> m) ((Map<String, Object>) m).forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    /**
     * Writes the marker and labels, keeping every other tag: S3 replaces the whole tag set, so
     * the tags read are merged in. Returns the tag set the bucket carries afterwards.
     */
    private static Map<String, String> syncTags(S3Client s3, String bucket, Map<String, String> marker, Map<String, String> labels) {
        return syncTags(s3, bucket, tags(s3, bucket), marker, labels);
    }

    private static Map<String, String> syncTags(S3Client s3, String bucket, Map<String, String> cloud, Map<String, String> marker,
                                                Map<String, String> labels) {
        Optional<Labels.Sync> sync = LABELS.sync(cloud, marker, labels);
        if (sync.isEmpty()) return cloud;
        Map<String, String> next = new TreeMap<>(cloud);
        sync.get().remove().forEach(next::remove);
        next.putAll(sync.get().set());
        List<Tag> s3tags = next.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        AwsErrors.run("s3:PutBucketTagging " + bucket, () -> s3.putBucketTagging(b -> b.bucket(bucket).tagging(t -> t.tagSet(s3tags))));
        return next;
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String bucket = current.cloudId();
        Set<String> changed = new java.util.TreeSet<>();
        for (AttributeChange ch : changes) changed.add(ch.path().split("[.\\[]", 2)[0]);
        Map<String, String> tags = current.tags();
        if (changed.contains("tags")) tags = syncTags(c.s3, bucket, TagMarker.INSTANCE.marker(env.name(), d.address()), labels(d));
        changed.retainAll(SETTINGS);
        converge(c.s3, bucket, d.attributes(), changed, false);
        return new ObservedResource(d.address(), bucket, d.attributes(), tags);
    }

    /**
     * Writes the {@code which} settings as {@code want} says; every call is idempotent. A new bucket
     * is unversioned with no lifecycle, so {@code fresh} skips writing those defaults.
     */
    @SuppressWarnings("unchecked")
    private static void converge(S3Client s3, String bucket, Map<String, Object> want, Set<String> which, boolean fresh) {
        boolean versioning = Boolean.TRUE.equals(want.get("versioning"));
        if (which.contains("versioning") && (versioning || !fresh)) {
            AwsErrors.run("s3:PutBucketVersioning " + bucket, () -> s3.putBucketVersioning(b -> b.bucket(bucket)
                .versioningConfiguration(v -> v.status(versioning ? BucketVersioningStatus.ENABLED : BucketVersioningStatus.SUSPENDED))));
        }
        if (which.contains("encryption")) {
            boolean kms = "kms".equals(want.get("encryption"));
            ServerSideEncryption alg = kms ? ServerSideEncryption.AWS_KMS : ServerSideEncryption.AES256;
            AwsErrors.run("s3:PutBucketEncryption " + bucket, () -> s3.putBucketEncryption(b -> b.bucket(bucket)
                .serverSideEncryptionConfiguration(cfg -> cfg.rules(ServerSideEncryptionRule.builder()
                    .applyServerSideEncryptionByDefault(x -> x.sseAlgorithm(alg)).bucketKeyEnabled(kms).build()))));
        }
        if (which.contains("public")) {
            if (Boolean.TRUE.equals(want.get("public"))) {
                // New buckets block public access by default on AWS: public means removing the block.
                try {
                    s3.deletePublicAccessBlock(b -> b.bucket(bucket));
                } catch (SdkException e) {
                    if (!AwsErrors.is(e, "NoSuchPublicAccessBlockConfiguration")) throw AwsErrors.translate("s3:DeletePublicAccessBlock " + bucket, e);
                }
            } else {
                AwsErrors.run("s3:PutPublicAccessBlock " + bucket, () -> s3.putPublicAccessBlock(b -> b.bucket(bucket)
                    .publicAccessBlockConfiguration(p -> p.blockPublicAcls(true).blockPublicPolicy(true).ignorePublicAcls(true).restrictPublicBuckets(true))));
            }
        }
        List<Map<String, Object>> lifecycle = (List<Map<String, Object>>) want.getOrDefault("lifecycle", List.of());
        if (!which.contains("lifecycle") || lifecycle.isEmpty() && fresh) return;
        if (lifecycle.isEmpty()) {
            AwsErrors.run("s3:DeleteBucketLifecycle " + bucket, () -> s3.deleteBucketLifecycle(b -> b.bucket(bucket)));
            return;
        }
        List<LifecycleRule> rules = new ArrayList<>();
        for (int i = 0; i < lifecycle.size(); i++) {
            Map<String, Object> r = lifecycle.get(i);
            LifecycleRule.Builder lr = LifecycleRule.builder().id("mlctl-" + i).status(ExpirationStatus.ENABLED)
                .filter(f -> f.prefix((String) r.getOrDefault("prefix", "")));
            if (r.get("afterDays") != null) {
                lr.transitions(Transition.builder().days(((Number) r.get("afterDays")).intValue())
                    .storageClass("cold".equals(r.get("storageClass")) ? TransitionStorageClass.STANDARD_IA : TransitionStorageClass.GLACIER).build());
            }
            if (r.get("expireDays") != null) lr.expiration(x -> x.days(((Number) r.get("expireDays")).intValue()));
            if (r.get("noncurrentExpireDays") != null) {
                lr.noncurrentVersionExpiration(x -> x.noncurrentDays(((Number) r.get("noncurrentExpireDays")).intValue()));
            }
            rules.add(lr.build());
        }
        AwsErrors.run("s3:PutBucketLifecycleConfiguration " + bucket, () -> s3.putBucketLifecycleConfiguration(b -> b.bucket(bucket)
            .lifecycleConfiguration(l -> l.rules(rules))));
    }

    /** Ownership was checked by the caller against the bucket's tags a moment ago. */
    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String bucket = current.cloudId();
        try {
            c.s3.deleteBucket(b -> b.bucket(bucket));
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchBucket")) return;
            if (AwsErrors.is(e, "BucketNotEmpty")) {
                throw new DriverException(current.address() + ": bucket " + bucket + " still holds objects; mlctl does not delete data: empty it first", false);
            }
            throw AwsErrors.translate("s3:DeleteBucket " + bucket, e);
        }
    }
}
