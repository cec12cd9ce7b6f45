package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** spec.account: one field, each cloud's own form of account, checked with a position. */
class AccountSpecTest {
    @TempDir
    Path dir;

    private static String spec(String provider, String region, String account) {
        return """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
            spec:
              provider: %s
              region: %s
              account: "%s"
              resources: []
            """.formatted(provider, region, account);
    }

    static Stream<Arguments> valid() {
        return Stream.of(
            Arguments.of("aws account id", "aws", "us-east-1", "123456789012"),
            Arguments.of("gcp project id", "gcp", "us-central1", "ml-platform-prod"),
            Arguments.of("azure subscription", "azure", "eastus", "0b1f6471-1bf0-4dda-aec3-cb9272f09590"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void eachCloudsFormIsAccepted(String why, String provider, String region, String account) {
        Environment env = Specs.load(Fixtures.write(dir, "env.yaml", spec(provider, region, account))).environments().get(0);
        assertThat(env.account()).contains(account);
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
            Arguments.of("aws id too short", "aws", "us-east-1", "12345", "env.yaml:8:12: account '12345' is not an AWS account id (12 digits)"),
            Arguments.of("aws id of letters", "aws", "us-east-1", "ml-platform-prod",
                "env.yaml:8:12: account 'ml-platform-prod' is not an AWS account id (12 digits)"),
            Arguments.of("gcp project given an aws id", "gcp", "us-central1", "123456789012",
                "env.yaml:8:12: account '123456789012' is not a GCP project id (6 to 30 lowercase letters, digits and hyphens, starting with a letter)"),
            Arguments.of("azure subscription given a project", "azure", "eastus", "ml-platform-prod",
                "env.yaml:8:12: account 'ml-platform-prod' is not an Azure subscription id (a UUID)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void anotherFormIsRejectedWithItsPosition(String why, String provider, String region, String account, String expected) {
        Path f = Fixtures.write(dir, "env.yaml", spec(provider, region, account));
        assertThatThrownBy(() -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, dir).load(java.util.List.of(f)))
            .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.errors()).extracting(SpecError::toString).containsExactly(expected));
    }

    @Test
    void anEnvironmentWithoutAccountHasNone() {
        String yaml = spec("aws", "us-east-1", "x").replace("  account: \"x\"\n", "");
        assertThat(Specs.env(yaml).account()).isEqualTo(Optional.empty());
    }
}
