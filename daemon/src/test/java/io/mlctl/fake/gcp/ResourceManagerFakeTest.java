package io.mlctl.fake.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The project IAM policy as Resource Manager v3 keeps it: etags, version 3 for conditions, existing roles and members. */
class ResourceManagerFakeTest {
    static final String P = "mlctl-test-project";
    GcpFakes fakes;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        fakes = GcpFakes.start();
        fakes.iam().createServiceAccount(P, "runner-one", "", "");
    }

    @AfterEach
    void stop() {
        fakes.close();
    }

    HttpResponse<String> post(String verb, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + "/v3/projects/" + P + ":" + verb))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    String etag() {
        return java.util.Base64.getEncoder().encodeToString(fakes.resourceManager().policy(P).getEtag().toByteArray());
    }

    static final String RUNNER = "serviceAccount:runner-one@" + P + ".iam.gserviceaccount.com";

    @Test
    void aPolicyIsReadAndWrittenWithItsEtag() throws Exception {
        assertThat(post("getIamPolicy", "{\"options\": {\"requestedPolicyVersion\": 3}}").body()).contains("roles/owner");
        String binding = "{\"role\": \"roles/compute.viewer\", \"members\": [\"" + RUNNER + "\"]}";
        HttpResponse<String> ok = post("setIamPolicy", "{\"policy\": {\"etag\": \"" + etag() + "\", \"bindings\": [" + binding + "]}}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        HttpResponse<String> stale = post("setIamPolicy", "{\"policy\": {\"etag\": \"QndZZmFrZTE=\", \"bindings\": [" + binding + "]}}");
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(stale.body()).contains("ABORTED").contains("concurrent policy changes");
    }

    @Test
    void unknownFieldsRolesAndMembersAreRefused() throws Exception {
        assertThat(post("getIamPolicy", "{\"options\": {\"version\": 3}}").statusCode()).isEqualTo(400);
        assertThat(post("setIamPolicy", "{\"policy\": {\"bindings\": [{\"role\": \"roles/made.up\", \"members\": [\"" + RUNNER + "\"]}]}}").statusCode())
            .isEqualTo(400);
        HttpResponse<String> ghost = post("setIamPolicy", "{\"policy\": {\"bindings\": [{\"role\": \"roles/compute.viewer\", "
            + "\"members\": [\"serviceAccount:ghost-one@" + P + ".iam.gserviceaccount.com\"]}]}}");
        assertThat(ghost.statusCode()).isEqualTo(400);
        assertThat(ghost.body()).contains("does not exist");
        assertThat(post("setIamPolicy", "{\"policy\": {\"bindings\": [{\"role\": \"roles/viewer\", \"members\": [\"allUsers\"]}]}}").statusCode())
            .isEqualTo(400);
        assertThat(post("setIamPolicy", "{\"policy\": {\"bindings\": [{\"role\": \"projects/" + P + "/roles/noSuchRole\", \"members\": [\""
            + RUNNER + "\"]}]}}").statusCode()).isEqualTo(400);
    }

    @Test
    void conditionsNeedVersionThreeATitleAndAnExpression() throws Exception {
        String cond = "{\"role\": \"roles/compute.viewer\", \"members\": [\"" + RUNNER + "\"], \"condition\": {\"title\": \"one\", "
            + "\"expression\": \"resource.name.endsWith('/instances/a')\"}}";
        assertThat(post("setIamPolicy", "{\"policy\": {\"version\": 1, \"bindings\": [" + cond + "]}}").statusCode()).isEqualTo(400);
        assertThat(post("setIamPolicy", "{\"policy\": {\"version\": 3, \"bindings\": [" + cond.replace("\"one\"", "\"\"") + "]}}").statusCode())
            .isEqualTo(400);
        HttpResponse<String> ok = post("setIamPolicy", "{\"policy\": {\"version\": 3, \"bindings\": [" + cond + "]}}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
        // Read at version 1, a conditional binding shows as Google shows it: role suffixed, no condition.
        assertThat(post("getIamPolicy", "{}").body()).contains("roles/compute.viewer_withcond_").doesNotContain("endsWith");
        assertThat(post("getIamPolicy", "{\"options\": {\"requestedPolicyVersion\": 3}}").body()).contains("endsWith");
    }

    @Test
    void aDeletedAccountsBindingsStayNamingItDeleted() throws Exception {
        post("setIamPolicy", "{\"policy\": {\"bindings\": [{\"role\": \"roles/compute.viewer\", \"members\": [\"" + RUNNER + "\"]}]}}");
        String email = "runner-one@" + P + ".iam.gserviceaccount.com";
        String uid = fakes.iam().serviceAccount(email).orElseThrow().getUniqueId();
        fakes.iam().delete(com.google.iam.admin.v1.DeleteServiceAccountRequest.newBuilder().setName("projects/" + P + "/serviceAccounts/" + email).build());
        assertThat(fakes.resourceManager().policy(P).getBindingsList()).anySatisfy(b ->
            assertThat(b.getMembersList()).contains("deleted:serviceAccount:" + email + "?uid=" + uid));
    }

    @Test
    void aProjectIsReadByIdOrNumberAndNamedByTheNumberEveryFakeGivesIt() throws Exception {
        String number = GcpFakes.projectNumber(P);
        HttpResponse<String> byId = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + "/v3/projects/" + P)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(byId.statusCode()).isEqualTo(200);
        assertThat(byId.body()).contains("\"name\":\"projects/" + number + "\"", "\"projectId\":\"" + P + "\"", "ACTIVE");
        assertThat(fakes.vertex().projectNumber(P)).isEqualTo(number);
        assertThat(fakes.storage().insertAs(P, "{\"name\":\"rm-fake-bucket\"}").getProjectNumber()).hasToString(number);
        HttpResponse<String> byNumber = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + "/v3/projects/" + number))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(byNumber.body()).contains("\"name\":\"projects/" + number + "\"");
        HttpResponse<String> bad = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort() + "/v3/projects/Bad_Project")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(bad.statusCode()).isEqualTo(400);
    }
}
