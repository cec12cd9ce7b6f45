package io.mlctl.fake.gcp;

import com.google.api.client.util.DateTime;
import com.google.api.services.storage.model.Bucket;
import com.google.api.services.storage.model.Buckets;
import com.google.api.services.storage.model.Expr;
import com.google.api.services.storage.model.Policy;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cloud Storage's JSON API for buckets ({@code /storage/v1/b}): insert, list, get, patch, update,
 * delete, and the bucket IAM policy ({@code /b/{bucket}/iam}). Bodies are parsed strictly with the
 * generated {@code com.google.api.services.storage.model} classes and answered with them. What GCS
 * refuses, this refuses: bucket names outside GCS's naming rules; a name taken anywhere (bucket
 * names are global: 409, with GCS's two messages for one's own and someone else's bucket); an
 * unknown location or storage class; lifecycle rules whose action or condition GCS would not take;
 * labels that are not GCP labels; a KMS key outside the bucket's location; deleting a bucket that
 * holds objects (409); an IAM policy set with a stale etag (412), with a condition outside version 3
 * or without uniform bucket-level access, with a role that is not a storage role or a member that
 * does not exist. Locations are kept upper-case, as GCS reports them. Objects are not modelled:
 * tests set how many a bucket holds.
 */
public final class StorageFake implements FakeService {
    private static final String BASE = "/storage/v1/b";
    private static final Set<String> REGIONS = Set.of("us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
        "us-west3", "us-west4", "northamerica-northeast1", "northamerica-northeast2", "southamerica-east1", "southamerica-west1",
        "europe-central2", "europe-north1", "europe-southwest1", "europe-west1", "europe-west2", "europe-west3", "europe-west4",
        "europe-west6", "europe-west8", "europe-west9", "europe-west10", "europe-west12", "me-central1", "me-central2", "me-west1",
        "africa-south1", "asia-east1", "asia-east2", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1", "asia-south2",
        "asia-southeast1", "asia-southeast2", "australia-southeast1", "australia-southeast2");
    private static final Set<String> MULTI_REGIONS = Set.of("us", "eu", "asia");
    private static final Set<String> DUAL_REGIONS = Set.of("nam4", "eur4", "asia1", "eur5", "eur7", "eur8");
    private static final List<String> CLASSES = List.of("STANDARD", "NEARLINE", "COLDLINE", "ARCHIVE");
    private static final Set<String> LEGACY_CLASSES = Set.of("MULTI_REGIONAL", "REGIONAL", "DURABLE_REDUCED_AVAILABILITY");
    private static final Pattern LABEL_KEY = Pattern.compile("[\\p{Ll}\\p{Lo}][\\p{Ll}\\p{Lo}\\p{N}_-]{0,62}");
    private static final Pattern LABEL_VALUE = Pattern.compile("[\\p{Ll}\\p{Lo}\\p{N}_-]{0,63}");
    private static final Pattern KMS_KEY = Pattern.compile("projects/[^/]+/locations/([^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+");
    private static final Pattern IP = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private record Stored(String project, Bucket bucket, Policy policy, int objects) {
    }

    private final GcpFakes fakes;
    private final Map<String, Stored> buckets = new TreeMap<>();
    private final AtomicLong clock = new AtomicLong(1_767_225_600_000L);
    private final AtomicLong etags = new AtomicLong();

    StorageFake(GcpFakes fakes) {
        this.fakes = fakes;
    }

    @Override
    public void routes(FakeHttp http) {
        http.route("POST", BASE, r -> FakeHttp.Response.ok(Json.printModel(insert(r.query().get("project"), r.body()))));
        http.route("GET", BASE, r -> FakeHttp.Response.ok(Json.printModel(list(r.query()))));
        http.route("GET", BASE + "/([^/]+)", r -> FakeHttp.Response.ok(Json.printModel(get(r.group(1), r.query()))));
        http.route("PATCH", BASE + "/([^/]+)", r -> FakeHttp.Response.ok(Json.printModel(patch(r.group(1), r.query(), r.body(), false))));
        http.route("PUT", BASE + "/([^/]+)", r -> FakeHttp.Response.ok(Json.printModel(patch(r.group(1), r.query(), r.body(), true))));
        http.route("DELETE", BASE + "/([^/]+)", r -> {
            delete(r.group(1), r.query());
            return FakeHttp.Response.noContent();
        });
        http.route("GET", BASE + "/([^/]+)/iam", r -> FakeHttp.Response.ok(Json.printModel(getIamPolicy(r.group(1),
            Integer.parseInt(r.query().getOrDefault("optionsRequestedPolicyVersion", "1"))))));
        http.route("PUT", BASE + "/([^/]+)/iam", r -> FakeHttp.Response.ok(Json.printModel(setIamPolicy(r.group(1), r.body()))));
    }

    private static GoogleError noSuchBucket() {
        return new GoogleError(404, "NOT_FOUND", "notFound", "The specified bucket does not exist.", Map.of());
    }

    private static GoogleError invalid(String message) {
        return new GoogleError(400, "INVALID_ARGUMENT", "invalid", message, Map.of());
    }

    /** GCS's bucket naming rules (https://cloud.google.com/storage/docs/buckets#naming). */
    static void checkName(String name) {
        boolean dotted = name.contains(".");
        boolean ok = name.matches("[a-z0-9][a-z0-9._-]*[a-z0-9]") && name.length() >= 3 && name.length() <= (dotted ? 222 : 63)
            && !name.startsWith("goog") && !name.contains("google") && !name.contains("g00gle") && !IP.matcher(name).matches()
            && !name.contains("..");
        if (ok && dotted) {
            for (String part : name.split("\\.")) ok &= part.length() <= 63 && !part.isEmpty();
        }
        if (!ok) throw invalid("Invalid bucket name: '" + name + "'");
    }

    synchronized Bucket insert(String project, String body) {
        if (project == null || project.isBlank()) throw invalid("Required parameter: project");
        Bucket want = Json.parseModel(body, Bucket.class);
        if (want.getName() == null) throw invalid("Required field: name");
        String name = want.getName();
        checkName(name);
        Stored existing = buckets.get(name);
        if (existing != null) {
            throw new GoogleError(409, "ALREADY_EXISTS", "conflict", existing.project().equals(project)
                ? "Your previous request to create the named bucket succeeded and you already own it."
                : "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
                    + "Please select a different name and try again.", Map.of());
        }
        Bucket b = want.clone();
        String location = want.getLocation() == null ? "US" : want.getLocation().toUpperCase(Locale.ROOT);
        b.setLocation(location);
        b.setLocationType(locationType(location));
        if (b.getStorageClass() == null) b.setStorageClass("STANDARD");
        if (b.getIamConfiguration() == null) b.setIamConfiguration(new Bucket.IamConfiguration());
        Bucket.IamConfiguration iam = b.getIamConfiguration();
        boolean ubla = iam.getUniformBucketLevelAccess() != null && Boolean.TRUE.equals(iam.getUniformBucketLevelAccess().getEnabled())
            || iam.getBucketPolicyOnly() != null && Boolean.TRUE.equals(iam.getBucketPolicyOnly().getEnabled());
        if (iam.getPublicAccessPrevention() == null) iam.setPublicAccessPrevention("inherited");
        DateTime now = new DateTime(clock.addAndGet(1000));
        b.setId(name).setKind("storage#bucket").setSelfLink("https://www.googleapis.com/storage/v1/b/" + name)
            .setProjectNumber(projectNumber(project)).setTimeCreated(now).setUpdated(now).setMetageneration(1L);
        setUbla(b, ubla, now);
        validate(b);
        b.setEtag(etag());
        buckets.put(name, new Stored(project, b, defaultPolicy(project, name, ubla), 0));
        return b.clone();
    }

    private static void setUbla(Bucket b, boolean enabled, DateTime now) {
        Bucket.IamConfiguration iam = b.getIamConfiguration();
        DateTime locked = enabled ? new DateTime(now.getValue() + 90L * 24 * 3600 * 1000) : null;
        iam.setUniformBucketLevelAccess(new Bucket.IamConfiguration.UniformBucketLevelAccess().setEnabled(enabled).setLockedTime(locked));
        iam.setBucketPolicyOnly(new Bucket.IamConfiguration.BucketPolicyOnly().setEnabled(enabled).setLockedTime(locked));
    }

    private static String locationType(String location) {
        String l = location.toLowerCase(Locale.ROOT);
        if (REGIONS.contains(l)) return "region";
        if (MULTI_REGIONS.contains(l)) return "multi-region";
        if (DUAL_REGIONS.contains(l)) return "dual-region";
        throw invalid("The specified location constraint is not valid.");
    }

    private static BigInteger projectNumber(String project) {
        return new BigInteger(GcpFakes.projectNumber(project));
    }

    private String etag() {
        return Base64.getEncoder().encodeToString(("CA" + etags.incrementAndGet()).getBytes(StandardCharsets.UTF_8));
    }

    /** What GCS checks of a bucket's settings on insert, patch and update. */
    private static void validate(Bucket b) {
        String sc = b.getStorageClass();
        if (!CLASSES.contains(sc) && !LEGACY_CLASSES.contains(sc)) throw invalid("Invalid argument: storage class '" + sc + "' is not valid.");
        if (b.getLabels() != null) {
            if (b.getLabels().size() > 64) throw invalid("A bucket can have at most 64 labels.");
            b.getLabels().forEach((k, v) -> {
                if (!LABEL_KEY.matcher(k).matches()) throw invalid("Invalid argument: label key '" + k + "' is not valid.");
                if (v == null || !LABEL_VALUE.matcher(v).matches()) throw invalid("Invalid argument: label value '" + v + "' of key '" + k + "' is not valid.");
            });
        }
        String pap = b.getIamConfiguration().getPublicAccessPrevention();
        if (!Set.of("enforced", "inherited", "unspecified").contains(pap)) {
            throw invalid("Invalid argument: publicAccessPrevention must be 'enforced' or 'inherited', not '" + pap + "'.");
        }
        if (b.getEncryption() != null && b.getEncryption().getDefaultKmsKeyName() != null) {
            Matcher m = KMS_KEY.matcher(b.getEncryption().getDefaultKmsKeyName());
            if (!m.matches()) throw invalid("Invalid argument: '" + b.getEncryption().getDefaultKmsKeyName() + "' is not a Cloud KMS key name.");
            if (!m.group(1).equalsIgnoreCase(b.getLocation())) {
                throw invalid("The Cloud KMS key " + b.getEncryption().getDefaultKmsKeyName() + " is in location " + m.group(1)
                    + ", but the bucket is in " + b.getLocation() + ": a bucket's default key must be in the bucket's location.");
            }
        }
        if (b.getLifecycle() != null && b.getLifecycle().getRule() != null) {
            List<Bucket.Lifecycle.Rule> rules = b.getLifecycle().getRule();
            if (rules.size() > 100) throw invalid("A bucket can have at most 100 lifecycle rules.");
            for (Bucket.Lifecycle.Rule r : rules) checkRule(r);
        }
    }

    private static void checkRule(Bucket.Lifecycle.Rule r) {
        if (r.getAction() == null || r.getAction().getType() == null) throw invalid("Invalid argument: a lifecycle rule needs an action type.");
        Bucket.Lifecycle.Rule.Condition c = r.getCondition();
        if (c == null || c.isEmpty()) throw invalid("Invalid argument: a lifecycle rule needs at least one condition.");
        String type = r.getAction().getType();
        String target = r.getAction().getStorageClass();
        switch (type) {
            case "Delete" -> {
                if (target != null) throw invalid("Invalid argument: storageClass is only valid with the SetStorageClass action.");
            }
            case "SetStorageClass" -> {
                if (target == null || !CLASSES.contains(target) && !LEGACY_CLASSES.contains(target)) {
                    throw invalid("Invalid argument: SetStorageClass needs a valid storageClass, not '" + target + "'.");
                }
                if (c.getMatchesStorageClass() != null) {
                    for (String from : c.getMatchesStorageClass()) {
                        int i = CLASSES.indexOf(from);
                        if (i >= 0 && CLASSES.contains(target) && i >= CLASSES.indexOf(target)) {
                            throw invalid("Invalid argument: objects cannot move from " + from + " to " + target + ".");
                        }
                    }
                }
            }
            case "AbortIncompleteMultipartUpload" -> {
                if (c.getIsLive() != null || c.getNumNewerVersions() != null || c.getDaysSinceNoncurrentTime() != null || c.getMatchesStorageClass() != null) {
                    throw invalid("Invalid argument: AbortIncompleteMultipartUpload takes only age, matchesPrefix and matchesSuffix conditions.");
                }
            }
            default -> throw invalid("Invalid argument: unknown lifecycle action type '" + type + "'.");
        }
        for (Integer n : new Integer[] {c.getAge(), c.getDaysSinceNoncurrentTime(), c.getNumNewerVersions(), c.getDaysSinceCustomTime()}) {
            if (n != null && n < 0) throw invalid("Invalid argument: a lifecycle condition's number of days or versions cannot be negative.");
        }
        if (c.getMatchesStorageClass() != null) {
            for (String s : c.getMatchesStorageClass()) if (!CLASSES.contains(s) && !LEGACY_CLASSES.contains(s)) throw invalid("Invalid storage class '" + s + "'.");
        }
    }

    private Policy defaultPolicy(String project, String bucket, boolean ubla) {
        List<Policy.Bindings> b = new ArrayList<>();
        b.add(new Policy.Bindings().setRole("roles/storage.legacyBucketOwner").setMembers(new ArrayList<>(List.of("projectEditor:" + project, "projectOwner:" + project))));
        b.add(new Policy.Bindings().setRole("roles/storage.legacyBucketReader").setMembers(new ArrayList<>(List.of("projectViewer:" + project))));
        if (ubla) {
            b.add(new Policy.Bindings().setRole("roles/storage.legacyObjectOwner").setMembers(new ArrayList<>(List.of("projectEditor:" + project, "projectOwner:" + project))));
            b.add(new Policy.Bindings().setRole("roles/storage.legacyObjectReader").setMembers(new ArrayList<>(List.of("projectViewer:" + project))));
        }
        return new Policy().setKind("storage#policy").setResourceId("projects/_/buckets/" + bucket).setVersion(1).setBindings(b).setEtag(etag());
    }

    private Stored stored(String name) {
        Stored s = buckets.get(name);
        if (s == null) throw noSuchBucket();
        return s;
    }

    private static void checkMetageneration(Stored s, Map<String, String> query) {
        String m = query.get("ifMetagenerationMatch");
        if (m != null && Long.parseLong(m) != s.bucket().getMetageneration()) {
            throw new GoogleError(412, "FAILED_PRECONDITION", "conditionNotMet", "Precondition Failed", Map.of());
        }
        String n = query.get("ifMetagenerationNotMatch");
        if (n != null && Long.parseLong(n) == s.bucket().getMetageneration()) {
            throw new GoogleError(304, "FAILED_PRECONDITION", "notModified", "Not Modified", Map.of());
        }
    }

    synchronized Bucket get(String name, Map<String, String> query) {
        Stored s = stored(name);
        checkMetageneration(s, query);
        return s.bucket().clone();
    }

    synchronized Buckets list(Map<String, String> query) {
        String project = query.get("project");
        if (project == null || project.isBlank()) throw invalid("Required parameter: project");
        int max = Integer.parseInt(query.getOrDefault("maxResults", "1000"));
        if (max <= 0) throw invalid("Invalid argument: maxResults must be positive.");
        max = Math.min(max, 1000);
        String prefix = query.getOrDefault("prefix", "");
        String after = query.containsKey("pageToken") ? new String(Base64.getUrlDecoder().decode(query.get("pageToken")), StandardCharsets.UTF_8) : "";
        List<Bucket> items = new ArrayList<>();
        String last = null;
        boolean more = false;
        for (Stored s : buckets.values()) {
            String n = s.bucket().getName();
            if (!s.project().equals(project) || !n.startsWith(prefix) || n.compareTo(after) <= 0) continue;
            if (items.size() == max) {
                more = true;
                break;
            }
            items.add(s.bucket().clone());
            last = n;
        }
        Buckets out = new Buckets().setKind("storage#buckets").setItems(items);
        if (more) out.setNextPageToken(Base64.getUrlEncoder().encodeToString(last.getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    /** A patch (only the fields given change; a null clears one; labels merge key by key) or, with {@code replace}, an update. */
    synchronized Bucket patch(String name, Map<String, String> query, String body, boolean replace) {
        Stored s = stored(name);
        checkMetageneration(s, query);
        Json.parseModel(body, Bucket.class); // unknown fields refused
        JsonObject change = JsonParser.parseString(body == null || body.isBlank() ? "{}" : body).getAsJsonObject();
        Bucket current = s.bucket();
        for (String immutable : List.of("name", "location", "projectNumber", "locationType", "id")) {
            if (change.has(immutable) && !change.get(immutable).isJsonNull() && !sameValue(immutable, change.get(immutable), current)) {
                throw invalid("Invalid argument: the bucket's " + immutable + " cannot be changed.");
            }
        }
        JsonObject base = JsonParser.parseString(Json.printModel(current)).getAsJsonObject();
        JsonObject merged;
        if (replace) {
            merged = change.deepCopy();
            for (String keep : List.of("name", "location", "locationType", "projectNumber", "id", "kind", "selfLink", "timeCreated", "metageneration", "etag")) {
                if (base.has(keep)) merged.add(keep, base.get(keep));
            }
        } else {
            merged = base.deepCopy();
            merge(merged, change);
        }
        Bucket b = Json.parseModel(merged.toString(), Bucket.class);
        if (b.getStorageClass() == null) b.setStorageClass("STANDARD");
        if (b.getIamConfiguration() == null) b.setIamConfiguration(new Bucket.IamConfiguration());
        Bucket.IamConfiguration iam = b.getIamConfiguration();
        if (iam.getPublicAccessPrevention() == null) iam.setPublicAccessPrevention("inherited");
        boolean wasUbla = Boolean.TRUE.equals(current.getIamConfiguration().getUniformBucketLevelAccess().getEnabled());
        boolean ubla = uniform(change, wasUbla, replace);
        DateTime now = new DateTime(clock.addAndGet(1000));
        if (ubla != wasUbla) {
            if (!ubla && s.policy().getBindings().stream().anyMatch(x -> x.getCondition() != null)) {
                throw invalid("Uniform bucket-level access cannot be disabled while the bucket's IAM policy has conditions.");
            }
            setUbla(b, ubla, now);
        } else {
            iam.setUniformBucketLevelAccess(current.getIamConfiguration().getUniformBucketLevelAccess().clone());
            iam.setBucketPolicyOnly(current.getIamConfiguration().getBucketPolicyOnly().clone());
        }
        validate(b);
        b.setUpdated(now).setMetageneration(current.getMetageneration() + 1).setEtag(etag());
        buckets.put(name, new Stored(s.project(), b, s.policy(), s.objects()));
        return b.clone();
    }

    private static boolean sameValue(String field, JsonElement v, Bucket current) {
        return switch (field) {
            case "location" -> v.getAsString().equalsIgnoreCase(current.getLocation());
            case "projectNumber" -> v.getAsString().equals(String.valueOf(current.getProjectNumber()));
            default -> v.getAsString().equals(String.valueOf(current.get(field)));
        };
    }

    /** Whether uniform bucket-level access is on after a change (either of its two names may carry it). */
    private static boolean uniform(JsonObject change, boolean was, boolean replace) {
        if (!change.has("iamConfiguration") || change.get("iamConfiguration").isJsonNull()) return replace ? false : was;
        JsonObject iam = change.getAsJsonObject("iamConfiguration");
        for (String k : List.of("uniformBucketLevelAccess", "bucketPolicyOnly")) {
            if (iam.has(k) && iam.get(k).isJsonObject() && iam.getAsJsonObject(k).has("enabled")) {
                return iam.getAsJsonObject(k).get("enabled").getAsBoolean();
            }
        }
        return replace ? false : was;
    }

    /** JSON patch semantics as GCS applies them: objects merge field by field, null removes, anything else replaces. */
    private static void merge(JsonObject into, JsonObject change) {
        for (Map.Entry<String, JsonElement> e : change.entrySet()) {
            JsonElement v = e.getValue();
            if (v.isJsonNull()) {
                into.remove(e.getKey());
            } else if (v.isJsonObject() && into.has(e.getKey()) && into.get(e.getKey()).isJsonObject()) {
                merge(into.getAsJsonObject(e.getKey()), v.getAsJsonObject());
            } else {
                into.add(e.getKey(), v.deepCopy());
            }
        }
    }

    synchronized void delete(String name, Map<String, String> query) {
        Stored s = stored(name);
        checkMetageneration(s, query);
        if (s.objects() > 0) throw new GoogleError(409, "FAILED_PRECONDITION", "conflict", "The bucket you tried to delete is not empty.", Map.of());
        buckets.remove(name);
    }

    synchronized Policy getIamPolicy(String name, int requestedVersion) {
        Stored s = stored(name);
        if (requestedVersion != 1 && requestedVersion != 3) throw invalid("Invalid argument: optionsRequestedPolicyVersion must be 1 or 3.");
        Policy p = s.policy().clone();
        if (requestedVersion < 3 && p.getBindings().stream().anyMatch(b -> b.getCondition() != null)) {
            throw invalid("The bucket's IAM policy has conditions: request it with optionsRequestedPolicyVersion=3.");
        }
        return p;
    }

    synchronized Policy setIamPolicy(String name, String body) {
        Stored s = stored(name);
        Policy want = Json.parseModel(body, Policy.class);
        if (want.getEtag() != null && !want.getEtag().equals(s.policy().getEtag())) {
            throw new GoogleError(412, "FAILED_PRECONDITION", "conditionNotMet", "Precondition Failed", Map.of());
        }
        int version = want.getVersion() == null ? 1 : want.getVersion();
        List<com.google.iam.v1.Binding> in = new ArrayList<>();
        boolean ubla = Boolean.TRUE.equals(s.bucket().getIamConfiguration().getUniformBucketLevelAccess().getEnabled());
        for (Policy.Bindings b : want.getBindings() == null ? List.<Policy.Bindings>of() : want.getBindings()) {
            com.google.iam.v1.Binding.Builder x = com.google.iam.v1.Binding.newBuilder().setRole(b.getRole() == null ? "" : b.getRole())
                .addAllMembers(b.getMembers() == null ? List.of() : b.getMembers());
            if (b.getCondition() != null) {
                if (!ubla) throw invalid("IAM conditions need uniform bucket-level access to be enabled on the bucket.");
                Expr c = b.getCondition();
                x.setCondition(com.google.type.Expr.newBuilder().setTitle(nz(c.getTitle())).setDescription(nz(c.getDescription()))
                    .setExpression(nz(c.getExpression())));
            }
            in.add(x.build());
        }
        List<com.google.iam.v1.Binding> checked = ResourceManagerFake.checkBindings(fakes, version, in, true);
        List<Policy.Bindings> out = new ArrayList<>();
        for (com.google.iam.v1.Binding b : checked) {
            Policy.Bindings y = new Policy.Bindings().setRole(b.getRole()).setMembers(new ArrayList<>(b.getMembersList()));
            if (b.hasCondition()) {
                y.setCondition(new Expr().setTitle(b.getCondition().getTitle()).setExpression(b.getCondition().getExpression())
                    .setDescription(b.getCondition().getDescription().isEmpty() ? null : b.getCondition().getDescription()));
            }
            out.add(y);
        }
        boolean conditions = checked.stream().anyMatch(com.google.iam.v1.Binding::hasCondition);
        Policy p = new Policy().setKind("storage#policy").setResourceId("projects/_/buckets/" + name)
            .setVersion(conditions ? 3 : 1).setBindings(out).setEtag(etag());
        buckets.put(name, new Stored(s.project(), s.bucket(), p, s.objects()));
        return p.clone();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    synchronized void accountDeleted(String email, String uniqueId) {
        Map<String, Stored> next = new HashMap<>();
        buckets.forEach((n, s) -> {
            boolean touched = false;
            List<Policy.Bindings> out = new ArrayList<>();
            for (Policy.Bindings b : s.policy().getBindings()) {
                List<String> members = new ArrayList<>();
                for (String m : b.getMembers()) {
                    if (m.equals("serviceAccount:" + email)) {
                        members.add("deleted:serviceAccount:" + email + "?uid=" + uniqueId);
                        touched = true;
                    } else {
                        members.add(m);
                    }
                }
                out.add(b.clone().setMembers(members));
            }
            if (touched) next.put(n, new Stored(s.project(), s.bucket(), s.policy().clone().setBindings(out).setEtag(etag()), s.objects()));
        });
        buckets.putAll(next);
    }

    /** Whether the bucket exists (Vertex reads models from gs:// URIs). */
    public synchronized boolean hasBucket(String bucket) {
        return buckets.containsKey(bucket);
    }

    /** For tests: the bucket as GCS would answer a get. */
    public synchronized Optional<Bucket> bucket(String name) {
        return Optional.ofNullable(buckets.get(name)).map(s -> s.bucket().clone());
    }

    /** For tests: the project a bucket belongs to. */
    public synchronized Optional<String> projectOf(String name) {
        return Optional.ofNullable(buckets.get(name)).map(Stored::project);
    }

    /** For tests: the bucket's IAM policy as it stands. */
    public synchronized Policy policy(String name) {
        return stored(name).policy().clone();
    }

    /** For tests: how many objects the bucket holds (a bucket holding any cannot be deleted). */
    public synchronized void setObjectCount(String name, int objects) {
        Stored s = stored(name);
        buckets.put(name, new Stored(s.project(), s.bucket(), s.policy(), objects));
    }

    /** Names of every bucket, all projects. */
    public synchronized List<String> names() {
        return new ArrayList<>(buckets.keySet());
    }

    /** For tests: create, patch or read as another person would through the JSON API, without HTTP. */
    public Bucket insertAs(String project, String json) {
        return insert(project, json);
    }

    public Bucket patchAs(String name, String json) {
        return patch(name, new LinkedHashMap<>(), json, false);
    }

    public Policy setPolicyAs(String name, String json) {
        return setIamPolicy(name, json);
    }
}
