package io.mlctl.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RedactionTest {
    /** Text with a secret in it, what it must become, and why. */
    static Stream<Arguments> secrets() {
        return Stream.of(
            Arguments.of("token as the user name (GitHub takes it)", "https://ghp_SECRET1@github.com/org/repo.git",
                "https://***@github.com/org/repo.git"),
            Arguments.of("user and password", "https://deploy:SECRET1@git.example.com/org/repo.git", "https://***@git.example.com/org/repo.git"),
            Arguments.of("an unencoded @ in the password runs to the last @", "https://deploy:SE@CRET1@host/repo.git", "https://***@host/repo.git"),
            Arguments.of("percent-encoded user and password", "https://me%40corp:SE%3ACRET1@host:8443/r.git", "https://***@host:8443/r.git"),
            Arguments.of("userinfo with a port and no path", "http://x-access-token:SECRET1@127.0.0.1:8080", "http://***@127.0.0.1:8080"),
            Arguments.of("inside an error line", "cannot fetch https://SECRET1@host/r.git: not authorized",
                "cannot fetch https://***@host/r.git: not authorized"),
            Arguments.of("two URLs on one line", "from https://a:SECRET1@h1/x to https://SECRET2@h2/y", "from https://***@h1/x to https://***@h2/y"),
            Arguments.of("in JSON, the quotes stay", "{\"repo\":\"https://SECRET1@h/r.git\",\"mail\":\"a@b.c\"}",
                "{\"repo\":\"https://***@h/r.git\",\"mail\":\"a@b.c\"}"),
            Arguments.of("ssh user (masked: simpler, and costs nothing)", "ssh://git@github.com/org/repo.git", "ssh://***@github.com/org/repo.git"),
            Arguments.of("upper-case scheme", "HTTPS://SECRET1@HOST/R.GIT", "HTTPS://***@HOST/R.GIT"),
            Arguments.of("access_token in the query", "https://host/r.git?access_token=SECRET1", "https://host/r.git?access_token=***"),
            Arguments.of("private_token after another parameter", "https://host/r.git?ref=main&private_token=SECRET1&x=1",
                "https://host/r.git?ref=main&private_token=***&x=1"),
            Arguments.of("query token followed by JGit's colon", "https://host/r.git?access_token=SECRET1: 500 Internal Server Error",
                "https://host/r.git?access_token=*** 500 Internal Server Error"),
            Arguments.of("a presigned URL's signature and credential", "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=SECRET1",
                "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***"),
            Arguments.of("an Azure SAS signature", "https://a.blob.core.windows.net/c?sv=2024&sig=SECRET1%3D", "https://a.blob.core.windows.net/c?sv=2024&sig=***"),
            Arguments.of("userinfo and query together", "https://u:SECRET1@h/r.git?token=SECRET2", "https://***@h/r.git?token=***"),
            Arguments.of("a percent-encoded URL inside a parameter", "https://sso/login?next=https%3A%2F%2FSECRET1%40git.example.com%2Forg",
                "https://sso/login?next=https%3A%2F%2F***%40git.example.com%2Forg"),
            Arguments.of("an Authorization header", "sent Authorization: Bearer SECRET1 to the hook", "sent Authorization: Bearer *** to the hook"),
            Arguments.of("a Basic Authorization header", "authorization=Basic U0VDUkVUMQ==", "authorization=Basic ***"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("secrets")
    void masksSecrets(String why, String text, String expected) {
        String out = Redaction.text(text);
        assertThat(out).as(why).isEqualTo(expected).doesNotContain("SECRET1").doesNotContain("SECRET2");
        assertThat(Redaction.text(out)).as("redacting twice changes nothing").isEqualTo(out);
    }

    /** Text that carries no secret and must come out exactly as it went in. */
    static Stream<Arguments> harmless() {
        return Stream.of(
            Arguments.of("a plain HTTPS URL", "https://github.com/org/repo.git"),
            Arguments.of("the scp form has a user, never a secret", "git@github.com:org/repo.git"),
            Arguments.of("an e-mail address", "reviewed by dev@example.com on main"),
            Arguments.of("an ssh URL without a user", "ssh://github.com:22/org/repo.git"),
            Arguments.of("a file URL", "file:///srv/git/config.git"),
            Arguments.of("an @ after the path is not userinfo", "https://host/users/@me?tab=repos"),
            Arguments.of("harmless query parameters", "http://127.0.0.1:8080/api/plans?branch=main&keyboard=1&monkey=2&tokens=3"),
            Arguments.of("key=value outside a query", "mlctl daemon started repo=https://github.com/org/r.git branch=main key=value"),
            Arguments.of("a timestamp and a duration", "failing since 2026-01-01T00:00:00Z for PT5M"),
            Arguments.of("an s3 lock URL", "s3://bucket/prefix"),
            Arguments.of("the words basic and bearer", "basic authentication with a bearer token is required"),
            Arguments.of("an already masked URL", "https://***@github.com/org/repo.git"),
            Arguments.of("an already masked query, and the colon after it", "cannot fetch https://h/r.git?access_token=***: Invalid remote"),
            Arguments.of("empty", ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("harmless")
    void leavesTextWithoutSecretsAlone(String why, String text) {
        assertThat(Redaction.text(text)).as(why).isEqualTo(text);
    }
}
