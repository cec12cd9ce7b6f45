package io.mlctl.fake.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each rule of Cloud Storage's bucket API the fake enforces: a request GCS would refuse is refused, with GCS's status. */
class StorageFakeTest {
    static final String P = "mlctl-test-project";
    GcpFakes fakes;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        fakes = GcpFakes.start();
    }

    @AfterEach
    void stop() {
        fakes.close();
    }

    record Answer(int status, String body) {
    }

    Answer send(String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + path)).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body());
    }

    Answer insert(String project, String json) throws Exception {
        return send("POST", "/storage/v1/b?project=" + project, json);
    }

    @Test
    void aBucketIsMadeAndReadAsGcsShowsIt() throws Exception {
        Answer a = insert(P, "{\"name\": \"ok-bucket\", \"location\": \"us-central1\", \"labels\": {\"team\": \"ml\"}}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        Answer get = send("GET", "/storage/v1/b/ok-bucket", null);
        assertThat(get.body()).contains("\"location\":\"US-CENTRAL1\"").contains("\"locationType\":\"region\"").contains("\"storageClass\":\"STANDARD\"")
            .contains("\"metageneration\":\"1\"");
        assertThat(send("GET", "/storage/v1/b?project=" + P, null).body()).contains("\"kind\":\"storage#buckets\"").contains("ok-bucket");
        assertThat(send("GET", "/storage/v1/b?project=other-project", null).body()).doesNotContain("ok-bucket");
        assertThat(fakes.storage().hasBucket("ok-bucket")).isTrue();
        assertThat(fakes.storage().hasBucket("nope-bucket")).isFalse();
    }

    @Test
    void aFieldTheApiDoesNotHaveIsRefused() throws Exception {
        Answer a = insert(P, "{\"name\": \"ok-bucket\", \"location\": \"us-central1\", \"publicAccess\": false}");
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.body()).contains("publicAccess");
        Answer nested = insert(P, "{\"name\": \"ok-bucket\", \"versioning\": {\"on\": true}}");
        assertThat(nested.status()).isEqualTo(400);
    }

    @Test
    void bucketNamesFollowGcsRules() throws Exception {
        for (String bad : new String[] {"ab", "Upper-case", "-dash-first", "goog-bucket", "my-google-data", "192.168.1.1", "a".repeat(64), "under_", "x..y"}) {
            assertThat(insert(P, "{\"name\": \"" + bad + "\"}").status()).as(bad).isEqualTo(400);
        }
        assertThat(insert(P, "{\"name\": \"dots.are.fine\"}").status()).isEqualTo(200);
        assertThat(insert(P, "{\"location\": \"us\"}").status()).isEqualTo(400);
        assertThat(send("POST", "/storage/v1/b", "{\"name\": \"no-project\"}").status()).isEqualTo(400);
    }

    @Test
    void bucketNamesAreGlobal() throws Exception {
        assertThat(insert(P, "{\"name\": \"taken-name\"}").status()).isEqualTo(200);
        Answer mine = insert(P, "{\"name\": \"taken-name\"}");
        assertThat(mine.status()).isEqualTo(409);
        assertThat(mine.body()).contains("you already own it");
        Answer theirs = insert("another-project", "{\"name\": \"taken-name\"}");
        assertThat(theirs.status()).isEqualTo(409);
        assertThat(theirs.body()).contains("The bucket namespace is shared by all users of the system");
    }

    @Test
    void locationsStorageClassesLabelsAndKeysAreChecked() throws Exception {
        assertThat(insert(P, "{\"name\": \"b-1\", \"location\": \"moon-east1\"}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-2\", \"storageClass\": \"GLACIER\"}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-3\", \"labels\": {\"Team\": \"ml\"}}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-4\", \"labels\": {\"team\": \"M.L\"}}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-5\", \"iamConfiguration\": {\"publicAccessPrevention\": \"sometimes\"}}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-6\", \"location\": \"us-central1\", \"encryption\": {\"defaultKmsKeyName\": "
            + "\"projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k\"}}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-7\", \"location\": \"us-central1\", \"encryption\": {\"defaultKmsKeyName\": \"my-key\"}}").status()).isEqualTo(400);
        assertThat(insert(P, "{\"name\": \"b-8\", \"location\": \"us-central1\", \"encryption\": {\"defaultKmsKeyName\": "
            + "\"projects/p/locations/us-central1/keyRings/r/cryptoKeys/k\"}}").status()).isEqualTo(200);
    }

    @Test
    void lifecycleRulesMustHaveAnActionGcsKnowsAndAConditionThatFitsIt() throws Exception {
        String[] bad = {
            "{\"action\": {\"type\": \"SetStorageClass\"}, \"condition\": {\"age\": 3}}",
            "{\"action\": {\"type\": \"SetStorageClass\", \"storageClass\": \"GLACIER\"}, \"condition\": {\"age\": 3}}",
            "{\"action\": {\"type\": \"Delete\", \"storageClass\": \"COLDLINE\"}, \"condition\": {\"age\": 3}}",
            "{\"action\": {\"type\": \"Delete\"}, \"condition\": {}}",
            "{\"action\": {\"type\": \"Delete\"}}",
            "{\"action\": {\"type\": \"Expire\"}, \"condition\": {\"age\": 3}}",
            "{\"action\": {\"type\": \"Delete\"}, \"condition\": {\"age\": -1}}",
            "{\"action\": {\"type\": \"SetStorageClass\", \"storageClass\": \"NEARLINE\"}, \"condition\": {\"age\": 3, \"matchesStorageClass\": [\"COLDLINE\"]}}",
            "{\"action\": {\"type\": \"Delete\"}, \"condition\": {\"ageDays\": 3}}"};
        for (String rule : bad) {
            assertThat(insert(P, "{\"name\": \"lc-bucket\", \"lifecycle\": {\"rule\": [" + rule + "]}}").status()).as(rule).isEqualTo(400);
        }
        assertThat(insert(P, "{\"name\": \"lc-bucket\", \"lifecycle\": {\"rule\": [{\"action\": {\"type\": \"Delete\"}, "
            + "\"condition\": {\"daysSinceNoncurrentTime\": 7, \"matchesPrefix\": [\"logs/\"]}}]}}").status()).isEqualTo(200);
    }

    @Test
    void patchChangesOnlyWhatItNamesAndLabelsMergeKeyByKey() throws Exception {
        insert(P, "{\"name\": \"pb-bucket\", \"location\": \"us-central1\", \"labels\": {\"a\": \"1\", \"b\": \"2\"}, \"versioning\": {\"enabled\": true}}");
        Answer a = send("PATCH", "/storage/v1/b/pb-bucket", "{\"labels\": {\"a\": null, \"c\": \"3\"}}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(fakes.storage().bucket("pb-bucket").orElseThrow().getLabels()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("b", "2", "c", "3"));
        assertThat(fakes.storage().bucket("pb-bucket").orElseThrow().getVersioning().getEnabled()).isTrue();
        assertThat(fakes.storage().bucket("pb-bucket").orElseThrow().getMetageneration()).isEqualTo(2L);
        assertThat(send("PATCH", "/storage/v1/b/pb-bucket", "{\"location\": \"EU\"}").status()).isEqualTo(400);
        assertThat(send("PATCH", "/storage/v1/b/pb-bucket?ifMetagenerationMatch=1", "{\"labels\": {\"d\": \"4\"}}").status()).isEqualTo(412);
        assertThat(send("PATCH", "/storage/v1/b/pb-bucket", "{\"labels\": {\"Bad\": \"x\"}}").status()).isEqualTo(400);
        assertThat(send("PATCH", "/storage/v1/b/missing-bucket", "{}").status()).isEqualTo(404);
    }

    @Test
    void aBucketHoldingObjectsCannotBeDeleted() throws Exception {
        insert(P, "{\"name\": \"full-bucket\"}");
        fakes.storage().setObjectCount("full-bucket", 1);
        Answer a = send("DELETE", "/storage/v1/b/full-bucket", null);
        assertThat(a.status()).isEqualTo(409);
        assertThat(a.body()).contains("The bucket you tried to delete is not empty.");
        fakes.storage().setObjectCount("full-bucket", 0);
        assertThat(send("DELETE", "/storage/v1/b/full-bucket", null).status()).isEqualTo(204);
        assertThat(send("DELETE", "/storage/v1/b/full-bucket", null).status()).isEqualTo(404);
    }

    @Test
    void theIamPolicyIsSetWithItsEtagOnlyAndOnlyWithWhatGcsAccepts() throws Exception {
        insert(P, "{\"name\": \"iam-bucket\", \"iamConfiguration\": {\"uniformBucketLevelAccess\": {\"enabled\": true}}}");
        fakes.iam().createServiceAccount(P, "reader-one", "", "");
        String etag = fakes.storage().policy("iam-bucket").getEtag();
        String reader = "{\"role\": \"roles/storage.objectViewer\", \"members\": [\"serviceAccount:reader-one@" + P + ".iam.gserviceaccount.com\"]}";
        Answer stale = send("PUT", "/storage/v1/b/iam-bucket/iam", "{\"etag\": \"Q0E5OTk=\", \"bindings\": [" + reader + "]}");
        assertThat(stale.status()).isEqualTo(412);
        Answer unknownAccount = send("PUT", "/storage/v1/b/iam-bucket/iam", "{\"bindings\": [{\"role\": \"roles/storage.objectViewer\", "
            + "\"members\": [\"serviceAccount:ghost-one@" + P + ".iam.gserviceaccount.com\"]}]}");
        assertThat(unknownAccount.status()).isEqualTo(400);
        assertThat(unknownAccount.body()).contains("does not exist");
        assertThat(send("PUT", "/storage/v1/b/iam-bucket/iam", "{\"bindings\": [{\"role\": \"roles/compute.viewer\", \"members\": [\"allUsers\"]}]}")
            .status()).isEqualTo(400);
        assertThat(send("PUT", "/storage/v1/b/iam-bucket/iam", "{\"bindings\": [{\"role\": \"roles/storage.objectViewer\", \"members\": [\"alice\"]}]}")
            .status()).isEqualTo(400);
        String conditional = "{\"role\": \"roles/storage.objectViewer\", \"members\": [\"allUsers\"], \"condition\": {\"title\": \"t\", "
            + "\"expression\": \"resource.name.startsWith('projects/_/buckets/iam-bucket/objects/public/')\"}}";
        assertThat(send("PUT", "/storage/v1/b/iam-bucket/iam", "{\"version\": 1, \"bindings\": [" + conditional + "]}").status()).isEqualTo(400);
        Answer ok = send("PUT", "/storage/v1/b/iam-bucket/iam", "{\"etag\": \"" + etag + "\", \"version\": 3, \"bindings\": [" + reader + ", " + conditional + "]}");
        assertThat(ok.status()).as(ok.body()).isEqualTo(200);
        assertThat(send("GET", "/storage/v1/b/iam-bucket/iam", null).status()).isEqualTo(400); // conditions need version 3 to read
        assertThat(send("GET", "/storage/v1/b/iam-bucket/iam?optionsRequestedPolicyVersion=3", null).body()).contains("reader-one").contains("\"version\":3");
        // Without uniform bucket-level access a bucket takes no conditions.
        insert(P, "{\"name\": \"acl-bucket\"}");
        assertThat(send("PUT", "/storage/v1/b/acl-bucket/iam", "{\"version\": 3, \"bindings\": [" + conditional + "]}").status()).isEqualTo(400);
    }
}
