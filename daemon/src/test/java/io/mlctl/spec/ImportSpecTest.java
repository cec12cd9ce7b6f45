package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** spec.import: each entry names a declared resource once, with a cloud id; mistakes are reported at their position. */
class ImportSpecTest {
    private static final String SPEC = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata:
          name: dev
        spec:
          provider: aws
          region: us-east-1
          resources:
            - type: bucket
              name: data
            - type: bucket
              name: models
          import:
        """;

    @TempDir
    Path dir;

    @Test
    void entriesAreReadWithTheirAddressIdAndPosition() {
        Environment env = Specs.load(Fixtures.write(dir, "env.yaml", SPEC + """
                - to: bucket.data
                  id: legacy-data
                - {to: bucket.models, id: legacy-models}
            """)).environments().get(0);
        assertThat(env.imports()).extracting(i -> i.to() + "=" + i.id()).containsExactly("bucket.data=legacy-data", "bucket.models=legacy-models");
        // Errors about the id (nothing has it, someone else manages it) point at the id.
        assertThat(env.imports().get(0).position().line()).isEqualTo(15);
        assertThat(env.imports().get(0).position().column()).isEqualTo(11);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "undeclared address | '    - {to: bucket.dat, id: x}' | env.yaml:14:12: import target bucket.dat is not a resource of this environment; declare it in spec.resources (did you mean 'bucket.data'?)",
        "imported twice | '    - {to: bucket.data, id: x}\n    - {to: bucket.data, id: y}' | env.yaml:15:12: bucket.data is imported twice (first at env.yaml:14:7)",
        "no id | '    - {to: bucket.data}' | env.yaml:14:7: missing required field 'id' in spec.import[0]",
        "not an address | '    - {to: data, id: x}' | env.yaml:14:12: ",
        "unknown key | '    - {to: bucket.data, id: x, name: y}' | env.yaml:14:32: unknown field 'name' in spec.import[0]",
    })
    void mistakesAreOneErrorAtTheirPosition(String why, String entries, String expected) {
        Path f = Fixtures.write(dir, "env.yaml", SPEC + entries.replace("\\n", "\n") + "\n");
        assertThatThrownBy(() -> new ConfigLoader(new YamlLoader(), Specs.SCHEMA, Specs.CATALOG, dir).load(List.of(f)))
            .isInstanceOfSatisfying(SpecException.class, e -> assertThat(e.errors()).hasSize(1)
                .first().extracting(SpecError::toString).asString().startsWith(expected));
    }
}
