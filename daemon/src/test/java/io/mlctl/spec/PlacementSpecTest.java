package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** machineType: auto in a spec: it needs an accelerator the provider offers, in a count a machine has; typos get a did-you-mean. */
class PlacementSpecTest {
    @TempDir
    Path dir;

    static String env(String provider, String region, String zone, String resource) {
        return """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
            spec:
              provider: %s
              region: %s
              resources:
                - type: network
                  name: net
                  cidr: 10.0.0.0/16
                  subnets:
                    - {name: train, cidr: 10.0.1.0/24, zone: %s}
            %s""".formatted(provider, region, zone, resource.indent(4));
    }

    private List<String> errors(String yaml) {
        Fixtures.write(dir, "env.yaml", yaml);
        try {
            Specs.load(dir.resolve("env.yaml"));
            return List.of();
        } catch (SpecException e) {
            return e.errors().stream().map(SpecError::toString).map(s -> s.substring(s.indexOf("env.yaml"))).toList();
        }
    }

    static String instance(String rest) {
        return "- type: instance\n  name: t\n  subnet: net/train\n  machineType: auto\n" + rest;
    }

    static Stream<Arguments> badSpecs() {
        return Stream.of(
            Arguments.of("auto without an accelerator", "aws", instance(""),
                "env.yaml:17:20: machineType: auto places the resource by its accelerator: add accelerator: {type: nvidia-v100, count: 1} (or name a machine type)"),
            Arguments.of("a typo in the accelerator type", "aws", instance("  accelerator: {type: nvidia-v10}\n"),
                "env.yaml:18:27: unknown accelerator type 'nvidia-v10' for aws (did you mean 'nvidia-v100'?) (known: nvidia-a100, nvidia-a10g, nvidia-t4, nvidia-v100)"),
            Arguments.of("a GPU the provider does not offer", "azure", instance("  accelerator: {type: nvidia-l4}\n"),
                "env.yaml:18:27: unknown accelerator type 'nvidia-l4' for azure (did you mean 'nvidia-t4'?) (known: nvidia-a100, nvidia-t4, nvidia-v100)"),
            Arguments.of("more than any machine has", "aws", instance("  accelerator: {type: nvidia-v100, count: 16}\n"),
                "env.yaml:18:47: no aws machine type has 16× nvidia-v100 (at most 8)"),
            Arguments.of("more than GCP attaches", "gcp", instance("  accelerator: {type: nvidia-t4, count: 8}\n"),
                "env.yaml:18:45: no gcp machine type has 8× nvidia-t4 (at most 4)"),
            Arguments.of("a node pool's typo", "aws", """
                - type: kubernetes_cluster
                  name: ml
                  version: "1.30"
                  subnet: net/train
                  nodePools:
                    - {name: gpu, machineType: auto, accelerator: {type: nvida-v100}, min: 0, max: 1}
                """, "env.yaml:19:62: unknown accelerator type 'nvida-v100' for aws (did you mean 'nvidia-v100'?) (known: nvidia-a100, nvidia-a10g, nvidia-t4, nvidia-v100)"),
            Arguments.of("an endpoint GPU the endpoint types lack", "aws", """
                - type: inference_endpoint
                  name: serve
                  modelUri: s3://m/x/
                  machineType: auto
                  accelerator: {type: nvidia-a100}
                  image: x
                """, "env.yaml:18:27: unknown accelerator type 'nvidia-a100' for aws endpoints (did you mean 'nvidia-a10g'?) (known: nvidia-a10g, nvidia-t4, nvidia-v100)"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void badSpecs(String name, String provider, String resource, String error) {
        String[] where = switch (provider) {
            case "aws" -> new String[] {"us-east-1", "us-east-1a"};
            case "gcp" -> new String[] {"us-central1", "us-central1-a"};
            default -> new String[] {"eastus", "\"1\""};
        };
        assertThat(errors(env(provider, where[0], where[1], resource))).contains(error);
    }

    @Test
    void autoWithAnAcceleratorIsValidOnEveryProviderAndKeepsItsRequestUntilPlanned() {
        assertThat(errors(env("aws", "us-east-1", "us-east-1a", instance("  accelerator: {type: nvidia-v100}\n")))).isEmpty();
        assertThat(errors(env("azure", "eastus", "\"1\"", instance("  accelerator: {type: nvidia-v100, count: 2}\n")))).isEmpty();
        // GCP's own accelerator name is accepted as well as the cross-cloud one.
        assertThat(errors(env("gcp", "us-central1", "us-central1-a", instance("  accelerator: {type: nvidia-tesla-v100, count: 3}\n")))).isEmpty();
        Environment e = Specs.env(env("aws", "us-east-1", "us-east-1a", instance("  accelerator: {type: nvidia-v100}\n")));
        // The spec says what was asked; resolution to a machine type happens before planning.
        assertThat(e.resources().get(1).attributes()).containsEntry("machineType", "auto")
            .containsEntry("accelerator", java.util.Map.of("type", "nvidia-v100", "count", 1L));
    }

    @Test
    void aNamedMachineTypeIsStillCheckedAsBefore() {
        assertThat(errors(env("aws", "us-east-1", "us-east-1a", "- {type: instance, name: t, subnet: net/train, machineType: p3.2xlarg}\n")))
            .anyMatch(s -> s.contains("unknown machine type 'p3.2xlarg' for aws (did you mean 'p3.2xlarge'?)"));
        assertThat(errors(env("aws", "us-east-1", "us-east-1a",
            "- {type: instance, name: t, subnet: net/train, machineType: p3.2xlarge, accelerator: {type: nvidia-v100}}\n")))
            .anyMatch(s -> s.contains("aws attaches GPUs through the machine type"));
    }
}
