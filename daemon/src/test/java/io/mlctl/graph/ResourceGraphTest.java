package io.mlctl.graph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.spec.Address;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ResourceGraphTest {
    private static Address a(String s) {
        return Address.parse(s);
    }

    @Test
    void ordersDependenciesFirstAndDeterministically() {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        deps.put(a("instance.i"), Set.of(a("network.n"), a("identity.id")));
        deps.put(a("identity.id"), Set.of(a("bucket.b")));
        deps.put(a("bucket.b"), Set.of());
        deps.put(a("network.n"), Set.of());
        List<Address> order = new ResourceGraph(deps).topologicalOrder();
        assertThat(order).containsExactly(a("network.n"), a("bucket.b"), a("identity.id"), a("instance.i"));
    }

    @Test
    void namesTheCycle() {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        deps.put(a("identity.x"), Set.of(a("inference_endpoint.e")));
        deps.put(a("inference_endpoint.e"), Set.of(a("identity.x")));
        deps.put(a("bucket.b"), Set.of());
        ResourceGraph g = new ResourceGraph(deps);
        assertThat(g.findCycle()).hasValueSatisfying(c -> assertThat(ResourceGraph.describe(c))
            .isEqualTo("identity.x -> inference_endpoint.e -> identity.x"));
        assertThatThrownBy(g::topologicalOrder).hasMessageContaining("dependency cycle: identity.x -> inference_endpoint.e -> identity.x");
    }

    @Test
    void dotHasEveryNodeAndEdge() {
        Map<Address, Set<Address>> deps = new LinkedHashMap<>();
        deps.put(a("instance.i"), Set.of(a("network.n")));
        deps.put(a("network.n"), Set.of());
        String dot = new ResourceGraph(deps).toDot("dev");
        assertThat(dot).startsWith("digraph \"dev\" {").contains("\"network.n\";").contains("\"instance.i\" -> \"network.n\";").endsWith("}\n");
    }
}
