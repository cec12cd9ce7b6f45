package io.mlctl.provider.aws;

import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.Driver;
import io.mlctl.provider.ManagedResources;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Target;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.ec2.model.Region;
import software.amazon.awssdk.services.resourcegroupstaggingapi.model.GetResourcesResponse;
import software.amazon.awssdk.services.resourcegroupstaggingapi.model.ResourceTagMapping;
import software.amazon.awssdk.services.resourcegroupstaggingapi.model.TagFilter;

/**
 * The AWS driver: each spec type on its AWS service, on the official SDK v2.
 *
 * <p>Inventory is read in the spec's region. When the environment owns nothing there (its region
 * was just changed), it is also read in every region where it owns something, each resource with
 * its real {@code region}, so that a region change plans the old resources' replacement instead of
 * leaving them running unseen; their deletes go to their own region.
 */
public final class AwsDriver implements Driver {
    /** Regional types the tagging API finds; S3 answers apart because a bucket ARN names no region. */
    private static final List<String> REGIONAL_TYPES = List.of("ec2", "eks:cluster", "sagemaker:endpoint");
    private static final List<String> SCAN_TYPES = List.of("ec2", "eks:cluster", "sagemaker:endpoint", "s3");
    private static final int SCAN_PARALLELISM = 8;

    private final AwsSettings settings;
    private final Map<String, AwsClients> clients = new ConcurrentHashMap<>();
    private final ManagedResources<AwsClients> kinds;
    /** The caller's account: the credentials do not change during a driver's life. */
    private volatile String account;
    /** Per environment, the inventory read in progress (or last done): where it looks beyond the spec's region. */
    private final Map<String, Round> rounds = new ConcurrentHashMap<>();

    public AwsDriver(AwsSettings settings, io.mlctl.catalog.Catalog catalog) {
        this.settings = settings;
        this.kinds = new ManagedResources<>(TagMarker.INSTANCE, List.of(new NetworkKind(), new BucketKind(), new IdentityKind(),
            new InstanceKind(catalog.of(io.mlctl.spec.Provider.AWS)), new ClusterKind(catalog.of(io.mlctl.spec.Provider.AWS)),
            new EndpointKind(catalog.of(io.mlctl.spec.Provider.AWS))));
    }

    private AwsClients clients(String region) {
        return clients.computeIfAbsent(region, r -> new AwsClients(r, settings));
    }

    @Override
    public String name() {
        return "aws";
    }

    @Override
    public ResourceRules rules(ResourceType kind) {
        return kinds.rules(kind);
    }

    @Override
    public Target target(Environment env) {
        String a = account;
        if (a == null) {
            a = AwsErrors.call("sts:GetCallerIdentity", () -> clients(env.region()).sts.getCallerIdentity().account());
            account = a;
        }
        return new Target(a, env.region());
    }

    @Override
    public Page list(Environment env, ResourceType kind, Optional<String> pageToken) {
        // IAM is global: roles are found from any region and belong to none.
        if (kind == ResourceType.IDENTITY) return kinds.list(clients(env.region()), env, kind, pageToken);
        Round round = round(env, kind, pageToken.isEmpty());
        String region = pageToken.map(t -> t.substring(0, t.indexOf('\n'))).orElse(env.region());
        Optional<String> inner = pageToken.map(t -> t.substring(t.indexOf('\n') + 1)).filter(t -> !t.isEmpty());
        boolean home = region.equals(env.region());
        boolean telling = home && kind != ResourceType.BUCKET;
        if (telling && pageToken.isEmpty()) round.listingAtHome(kind);
        Page page;
        try {
            page = kinds.list(clients(region), home ? env : env.inRegion(region), kind, inner);
        } catch (RuntimeException e) {
            if (telling) round.listedAtHome(kind, false);
            throw e;
        }
        List<ObservedResource> items = page.items();
        if (telling) {
            if (!items.isEmpty()) round.foundAtHome.add(kind);
            if (page.nextPageToken().isEmpty() || !items.isEmpty()) round.listedAtHome(kind, !items.isEmpty());
        }
        if (kind == ResourceType.BUCKET && !round.elsewhere(env).isEmpty()) items = bucketsIn(round, region, items);
        if (page.nextPageToken().isPresent()) return new Page(items, Optional.of(region + "\n" + page.nextPageToken().get()));
        List<String> regions = new ArrayList<>();
        regions.add(env.region());
        // A kind that found its own in the spec's region looks no further; a bucket listing cannot tell (see bucketsIn).
        if (!round.foundAtHome.contains(kind)) regions.addAll(round.elsewhere(env));
        int next = regions.indexOf(region) + 1;
        return new Page(items, next < regions.size() ? Optional.of(regions.get(next) + "\n") : Optional.empty());
    }

    /**
     * Listing buckets is account-wide on some endpoints: S3's tagging answer may hold buckets of every
     * region. When the environment spans regions, each bucket is kept only in its own region's listing,
     * with that region as its {@code region}.
     */
    private List<ObservedResource> bucketsIn(Round round, String region, List<ObservedResource> listed) {
        List<ObservedResource> out = new ArrayList<>();
        for (ObservedResource b : listed) {
            String location = round.bucketRegion(b.cloudId());
            if (!location.equals(region)) continue;
            Map<String, Object> attrs = new java.util.TreeMap<>(b.attributes());
            attrs.put("region", location);
            out.add(new ObservedResource(b.address(), b.cloudId(), attrs, b.tags()));
        }
        return out;
    }

    private Round round(Environment env, ResourceType kind, boolean firstPage) {
        String key = env.name() + "\n" + env.region();
        if (!firstPage) return rounds.computeIfAbsent(key, k -> new Round(env.region()));
        // Each kind is listed once per inventory read: a kind starting again means a new read, which decides afresh.
        return rounds.compute(key, (k, r) -> {
            Round next = r == null || r.started.contains(kind) ? new Round(env.region()) : r;
            next.started.add(kind);
            return next;
        });
    }

    /** One inventory read of one environment: whether, and where, it looks beyond the spec's region. */
    private final class Round {
        final String home;
        final Set<ResourceType> started = ConcurrentHashMap.newKeySet();
        final Set<ResourceType> foundAtHome = ConcurrentHashMap.newKeySet();
        final Map<String, String> bucketRegions = new ConcurrentHashMap<>();
        /** Kinds whose listing in the spec's region is under way: what they find may settle the question for free. */
        private final Set<ResourceType> listingAtHome = new java.util.HashSet<>();
        private boolean homeOwnsSomething;
        private List<String> elsewhere;

        Round(String home) {
            this.home = home;
        }

        /** The other regions where the environment owns something, or none when it owns something in its own. */
        synchronized void listingAtHome(ResourceType kind) {
            listingAtHome.add(kind);
        }

        /** A kind's listing in the spec's region found something, or ended (found nothing, or failed). */
        synchronized void listedAtHome(ResourceType kind, boolean found) {
            if (found) homeOwnsSomething = true;
            if (found || listingAtHome.contains(kind)) {
                listingAtHome.remove(kind);
                notifyAll();
            }
        }

        synchronized List<String> elsewhere(Environment env) {
            if (elsewhere != null) return elsewhere;
            // Kinds read side by side: wait for the others' answers from the spec's region before asking the tagging API.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!homeOwnsSomething && !listingAtHome.isEmpty() && System.nanoTime() < deadline) {
                try {
                    wait(1000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new io.mlctl.provider.DriverException("interrupted while reading inventory", true);
                }
            }
            elsewhere = homeOwnsSomething || ownsSomethingIn(env, home) ? List.of() : regionsOwning(env);
            return elsewhere;
        }

        private boolean ownsSomethingIn(Environment env, String region) {
            if (!tagged(env, region, REGIONAL_TYPES, 1).isEmpty()) return true;
            List<String> buckets = tagged(env, region, List.of("s3"), 1);
            return !buckets.isEmpty() && bucketRegion(buckets.get(0)).equals(region);
        }

        private List<String> regionsOwning(Environment env) {
            List<Region> enabled;
            try {
                enabled = AwsErrors.call("ec2:DescribeRegions", () -> clients(home).ec2.describeRegions().regions());
            } catch (io.mlctl.provider.DriverException e) {
                if (AwsErrors.denied(e.getCause())) return List.of(); // may not list regions: only the spec's is searched
                throw e;
            }
            List<String> candidates = new ArrayList<>();
            for (Region r : enabled) {
                String name = r.regionName();
                // The account's own regions: opted in, and in the same partition (the credentials work nowhere else).
                if (!name.equals(home) && !"not-opted-in".equals(r.optInStatus()) && partition(name).equals(partition(home))) candidates.add(name);
            }
            // One request per region, which only waits on the network: asked a few at a time.
            ExecutorService pool = Executors.newFixedThreadPool(Math.min(SCAN_PARALLELISM, Math.max(1, candidates.size())), r -> {
                Thread t = new Thread(r, "mlctl-aws-regions");
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<Set<String>>> answers = new ArrayList<>();
                for (String name : candidates) answers.add(pool.submit(() -> {
                    try {
                        return ownedIn(env, name);
                    } catch (io.mlctl.provider.DriverException e) {
                        // A region these credentials may not use (an organization's SCP, not enabled): nothing of theirs is there.
                        if (AwsErrors.denied(e.getCause())) return Set.<String>of();
                        throw e;
                    }
                }));
                Set<String> found = new TreeSet<>();
                for (Future<Set<String>> f : answers) found.addAll(join(f));
                found.remove(home);
                return List.copyOf(found);
            } finally {
                pool.shutdownNow();
            }
        }

        /**
         * The regions an answer of {@code region}'s tagging API shows the environment in: that region
         * for a regional resource, a bucket's own region for a bucket (S3 may answer for every region).
         */
        private Set<String> ownedIn(Environment env, String region) {
            Set<String> found = new TreeSet<>();
            Optional<String> token = Optional.empty();
            do {
                Optional<String> from = token;
                GetResourcesResponse r = AwsErrors.call("tag:GetResources " + region, () -> clients(home).taggingIn(region).getResources(b -> b
                    .tagFilters(TagFilter.builder().key(Ownership.ENVIRONMENT_TAG).values(env.name()).build())
                    .resourceTypeFilters(SCAN_TYPES).resourcesPerPage(100).paginationToken(from.orElse(null))));
                for (ResourceTagMapping m : r.resourceTagMappingList()) {
                    String arn = m.resourceARN();
                    found.add(arn.startsWith("arn:aws:s3:") || arn.startsWith("arn:aws-cn:s3:") || arn.startsWith("arn:aws-us-gov:s3:")
                        ? bucketRegion(arn.substring(arn.lastIndexOf(':') + 1)) : region);
                }
                token = Optional.ofNullable(r.paginationToken()).filter(t -> !t.isEmpty());
            } while (token.isPresent() && !found.contains(region));
            return found;
        }

        /** Names (ARN suffixes) of what the environment owns in {@code region} among {@code types}; one page. */
        private List<String> tagged(Environment env, String region, List<String> types, int perPage) {
            GetResourcesResponse r = AwsErrors.call("tag:GetResources " + region, () -> clients(home).taggingIn(region).getResources(b -> b
                .tagFilters(TagFilter.builder().key(Ownership.ENVIRONMENT_TAG).values(env.name()).build())
                .resourceTypeFilters(types).resourcesPerPage(perPage)));
            List<String> out = new ArrayList<>();
            for (ResourceTagMapping m : r.resourceTagMappingList()) {
                String arn = m.resourceARN();
                out.add(arn.substring(Math.max(arn.lastIndexOf(':'), arn.lastIndexOf('/')) + 1));
            }
            return out;
        }

        /** Where a bucket lives (GetBucketLocation answers null or empty for us-east-1). */
        String bucketRegion(String bucket) {
            return bucketRegions.computeIfAbsent(bucket, b -> {
                try {
                    String c = clients(home).s3.getBucketLocation(x -> x.bucket(b)).locationConstraintAsString();
                    return c == null || c.isEmpty() ? "us-east-1" : "EU".equals(c) ? "eu-west-1" : c;
                } catch (SdkException e) {
                    throw AwsErrors.translate("s3:GetBucketLocation " + b, e);
                }
            });
        }
    }

    private static <T> T join(Future<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.mlctl.provider.DriverException("interrupted while finding the environment's regions", true);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new IllegalStateException(e.getCause());
        }
    }

    private static String partition(String region) {
        return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : region.startsWith("us-iso") ? "aws-iso" : "aws";
    }

    @Override
    public ObservedResource create(Environment env, ResourceSpec desired, CreateRequest request) {
        return kinds.create(clients(env.region()), env, desired, request);
    }

    @Override
    public ObservedResource update(Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        Environment there = where(env, current);
        return kinds.update(clients(there.region()), there, current, desired, changes);
    }

    @Override
    public java.util.Optional<ObservedResource> read(Environment env, io.mlctl.spec.Address address, String cloudId) {
        return kinds.read(clients(env.region()), env, address, cloudId);
    }

    @Override
    public java.util.Optional<String> markedBy(java.util.Map<String, String> tags) {
        return kinds.marker().marked(tags) ? java.util.Optional.of(kinds.marker().describeOwner(tags)) : java.util.Optional.empty();
    }

    @Override
    public ObservedResource adopt(Environment env, ObservedResource current, ResourceSpec desired, List<AttributeChange> changes) {
        Environment there = where(env, current);
        return kinds.adopt(clients(there.region()), there, current, desired, changes);
    }

    @Override
    public java.util.Map<String, String> outputs(Environment env, ObservedResource resource) {
        Environment there = where(env, resource);
        return kinds.outputs(clients(there.region()), there, resource);
    }

    @Override
    public void delete(Environment env, ObservedResource current) {
        Environment there = where(env, current);
        kinds.delete(clients(there.region()), there, current);
    }

    /** A resource is changed in its own region, which is the spec's unless inventory found it elsewhere. */
    private static Environment where(Environment env, ObservedResource current) {
        return current.attributes().get("region") instanceof String r && !r.equals(env.region()) && current.address().type() != ResourceType.IDENTITY
            ? env.inRegion(r) : env;
    }

    /** The regions this driver has sent a request to (tests check that a settled environment reads one). */
    Set<String> regionsAsked() {
        Set<String> out = new TreeSet<>();
        clients.forEach((r, c) -> {
            out.add(r);
            out.addAll(c.taggingRegions());
        });
        return out;
    }

    @Override
    public long requestCount() {
        return clients.values().stream().mapToLong(AwsClients::requestCount).sum();
    }

    @Override
    public void close() {
        clients.values().forEach(AwsClients::close);
        clients.clear();
    }
}
