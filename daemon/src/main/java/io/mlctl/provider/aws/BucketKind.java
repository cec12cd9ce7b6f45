package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
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
 * lifecycle rules (archive = GLACIER, cold = STANDARD_IA) and the ownership tags.
 */
final class BucketKind implements AwsKind {
    @Override
    public Page list(AwsClients c, Environment env, Optional<String> pageToken) {
        // S3 cannot filter by tag; the tagging API finds the environment's buckets in one paged call.
        GetResourcesResponse r = AwsErrors.call("tag:GetResources s3", () -> c.tagging.getResources(b -> b
            .tagFilters(TagFilter.builder().key(Ownership.ENVIRONMENT_TAG).values(env.name()).build())
            .resourceTypeFilters("s3").resourcesPerPage(100).paginationToken(pageToken.orElse(null))));
        List<ObservedResource> items = new ArrayList<>();
        for (ResourceTagMapping m : r.resourceTagMappingList()) {
            Map<String, String> tags = new TreeMap<>();
            m.tags().forEach(t -> tags.put(t.key(), t.value()));
            Optional<Address> a = Ownership.ownedAddress(tags, env.name());
            if (a.isEmpty() || a.get().type() != io.mlctl.spec.ResourceType.BUCKET) continue;
            String bucket = m.resourceARN().substring(m.resourceARN().lastIndexOf(':') + 1);
            Optional<Map<String, Object>> attrs = read(c.s3, bucket);
            attrs.ifPresent(x -> items.add(new ObservedResource(a.get(), bucket, AwsKind.attrs(env, x, tags), tags)));
        }
        return new Page(items, Optional.ofNullable(r.paginationToken()).filter(t -> !t.isEmpty()));
    }

    /** The configuration reads S3 forces per bucket: versioning, encryption, public access, lifecycle. */
    static Optional<Map<String, Object>> read(S3Client s3, String bucket) {
        Map<String, Object> attrs = new TreeMap<>();
        try {
            attrs.put("versioning", s3.getBucketVersioning(b -> b.bucket(bucket)).status() == BucketVersioningStatus.ENABLED);
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchBucket")) return Optional.empty(); // listed but already gone
            throw AwsErrors.translate("s3:GetBucketVersioning " + bucket, e);
        }
        attrs.put("encryption", absentAs(() -> {
            List<ServerSideEncryptionRule> rules = s3.getBucketEncryption(b -> b.bucket(bucket)).serverSideEncryptionConfiguration().rules();
            boolean kms = rules.stream().anyMatch(x -> x.applyServerSideEncryptionByDefault() != null
                && x.applyServerSideEncryptionByDefault().sseAlgorithm() == ServerSideEncryption.AWS_KMS);
            return kms ? "kms" : "managed";
        }, "managed", "s3:GetBucketEncryption " + bucket, "ServerSideEncryptionConfigurationNotFoundError"));
        attrs.put("public", absentAs(() -> {
            var pab = s3.getPublicAccessBlock(b -> b.bucket(bucket)).publicAccessBlockConfiguration();
            return !(Boolean.TRUE.equals(pab.blockPublicAcls()) && Boolean.TRUE.equals(pab.blockPublicPolicy())
                && Boolean.TRUE.equals(pab.ignorePublicAcls()) && Boolean.TRUE.equals(pab.restrictPublicBuckets()));
        }, true, "s3:GetPublicAccessBlock " + bucket, "NoSuchPublicAccessBlockConfiguration"));
        attrs.put("lifecycle", absentAs(() -> {
            List<Object> rules = new ArrayList<>();
            for (LifecycleRule lr : s3.getBucketLifecycleConfiguration(b -> b.bucket(bucket)).rules()) {
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
        }, List.of(), "s3:GetBucketLifecycleConfiguration " + bucket, "NoSuchLifecycleConfiguration"));
        return Optional.of(attrs);
    }

    private static <T> T absentAs(java.util.function.Supplier<T> read, T absent, String what, String notFoundCode) {
        try {
            return read.get();
        } catch (SdkException e) {
            if (AwsErrors.is(e, notFoundCode)) return absent;
            throw AwsErrors.translate(what, e);
        }
    }

    @Override
    public io.mlctl.spec.ResourceType type() {
        return io.mlctl.spec.ResourceType.BUCKET;
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
        String bucket = d.address().name();
        try {
            c.s3.createBucket(b -> {
                b.bucket(bucket);
                if (!"us-east-1".equals(env.region())) {
                    b.createBucketConfiguration(cfg -> cfg.locationConstraint(BucketLocationConstraint.fromValue(env.region())));
                }
            });
        } catch (SdkException e) {
            if (AwsErrors.is(e, "BucketAlreadyExists")) {
                throw new DriverException(d.address() + ": the bucket name " + bucket + " is taken by another AWS account; bucket names are global", false);
            }
            if (!AwsErrors.is(e, "BucketAlreadyOwnedByYou")) throw AwsErrors.translate("s3:CreateBucket " + bucket, e);
            // It exists in this account: continue only if it is this resource (a retried create), never adopt a stranger.
            Map<String, String> existing = tags(c.s3, bucket);
            if (!d.address().equals(Ownership.ownedAddress(existing, env.name()).orElse(null))) {
                throw new DriverException(d.address() + ": bucket " + bucket + " already exists in this account and is not owned by mlctl environment "
                    + env.name() + "; delete it or choose another name", false);
            }
        }
        putTags(c.s3, bucket, tags);
        converge(c.s3, bucket, d.attributes(), Optional.empty());
        return new ObservedResource(d.address(), bucket, d.attributes(), tags);
    }

    private static void putTags(S3Client s3, String bucket, Map<String, String> tags) {
        List<Tag> s3tags = tags.entrySet().stream().map(e -> Tag.builder().key(e.getKey()).value(e.getValue()).build()).toList();
        AwsErrors.run("s3:PutBucketTagging " + bucket, () -> s3.putBucketTagging(b -> b.bucket(bucket).tagging(t -> t.tagSet(s3tags))));
    }

    static Map<String, String> tags(S3Client s3, String bucket) {
        try {
            Map<String, String> m = new TreeMap<>();
            s3.getBucketTagging(b -> b.bucket(bucket)).tagSet().forEach(t -> m.put(t.key(), t.value()));
            return m;
        } catch (SdkException e) {
            if (AwsErrors.is(e, "NoSuchTagSet", "NoSuchBucket")) return Map.of();
            throw AwsErrors.translate("s3:GetBucketTagging " + bucket, e);
        }
    }

    @Override
    public ObservedResource update(AwsClients c, Environment env, ObservedResource current, ResourceSpec d,
                                   java.util.List<io.mlctl.plan.AttributeChange> changes) {
        if (AwsKind.tagChange(current.attributes(), d.attributes()).isPresent()) {
            // S3 replaces the whole tag set: ownership tags are written again with the labels.
            putTags(c.s3, current.cloudId(), AwsKind.allTags(Ownership.tags(env.name(), d.address()), d.attributes()));
        }
        converge(c.s3, current.cloudId(), d.attributes(), Optional.of(current.attributes()));
        return new ObservedResource(d.address(), current.cloudId(), d.attributes(), current.tags());
    }

    @SuppressWarnings("unchecked")
    private void converge(S3Client s3, String bucket, Map<String, Object> want, Optional<Map<String, Object>> have) {
        boolean versioning = Boolean.TRUE.equals(want.get("versioning"));
        if (!have.map(h -> h.get("versioning")).orElse(false).equals(versioning)) {
            AwsErrors.run("s3:PutBucketVersioning " + bucket, () -> s3.putBucketVersioning(b -> b.bucket(bucket)
                .versioningConfiguration(v -> v.status(versioning ? BucketVersioningStatus.ENABLED : BucketVersioningStatus.SUSPENDED))));
        }
        Object enc = want.get("encryption");
        if (!enc.equals(have.map(h -> h.get("encryption")).orElse(null))) {
            ServerSideEncryption alg = "kms".equals(enc) ? ServerSideEncryption.AWS_KMS : ServerSideEncryption.AES256;
            AwsErrors.run("s3:PutBucketEncryption " + bucket, () -> s3.putBucketEncryption(b -> b.bucket(bucket)
                .serverSideEncryptionConfiguration(cfg -> cfg.rules(ServerSideEncryptionRule.builder()
                    .applyServerSideEncryptionByDefault(x -> x.sseAlgorithm(alg)).bucketKeyEnabled("kms".equals(enc)).build()))));
        }
        boolean pub = Boolean.TRUE.equals(want.get("public"));
        if (!have.map(h -> h.get("public")).orElse(!pub).equals(pub)) {
            if (pub) {
                AwsErrors.run("s3:DeletePublicAccessBlock " + bucket, () -> s3.deletePublicAccessBlock(b -> b.bucket(bucket)));
            } else {
                AwsErrors.run("s3:PutPublicAccessBlock " + bucket, () -> s3.putPublicAccessBlock(b -> b.bucket(bucket)
                    .publicAccessBlockConfiguration(p -> p.blockPublicAcls(true).blockPublicPolicy(true).ignorePublicAcls(true).restrictPublicBuckets(true))));
            }
        }
        List<Map<String, Object>> lifecycle = (List<Map<String, Object>>) want.getOrDefault("lifecycle", List.of());
        if (!lifecycle.equals(have.map(h -> h.get("lifecycle")).orElse(List.of())) || have.isEmpty() && !lifecycle.isEmpty()) {
            if (lifecycle.isEmpty()) {
                AwsErrors.run("s3:DeleteBucketLifecycle " + bucket, () -> s3.deleteBucketLifecycle(b -> b.bucket(bucket)));
            } else {
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
        }
    }

    @Override
    public void delete(AwsClients c, Environment env, ObservedResource current) {
        String bucket = current.cloudId();
        Map<String, String> tags = tags(c.s3, bucket);
        if (tags.isEmpty()) {
            try {
                c.s3.headBucket(b -> b.bucket(bucket));
            } catch (SdkException e) {
                if (AwsErrors.is(e, "NoSuchBucket", "NotFound") || e instanceof software.amazon.awssdk.services.s3.model.NoSuchBucketException) return;
            }
        }
        if (!current.address().equals(Ownership.ownedAddress(tags, env.name()).orElse(null))) {
            throw new DriverException(current.address() + ": bucket " + bucket + " is not owned by environment " + env.name() + "; refusing to delete it", false);
        }
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
