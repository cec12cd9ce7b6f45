package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Frozen values compare as the maps and lists they hold, however they were built. */
class ValuesTest {
    @Test
    void frozenMapsEqualWhatHoldsTheSameEntries() {
        Map<String, Object> a = Values.freezeMap(Map.of("b", 1, "a", List.of(Map.of("x", 2L)), "c", "s"));
        Map<String, Object> b = Values.freezeMap(new TreeMap<>(Map.of("c", "s", "a", List.of(Map.of("x", 2)), "b", 1L)));
        Map<String, Object> plain = new HashMap<>(Map.of("b", 1L, "a", new ArrayList<>(List.of(Map.of("x", 2L))), "c", "s"));
        assertThat(a).isEqualTo(b).isEqualTo(plain).hasSameHashCodeAs(plain);
        assertThat(plain).isEqualTo(a);
        assertThat(a).isNotEqualTo(Values.freezeMap(Map.of("b", 1, "a", List.of(Map.of("x", 3L)), "c", "s")));
        assertThat(a).isNotEqualTo(Values.freezeMap(Map.of("b", 1, "a", List.of(Map.of("x", 2L)), "d", "s")));
        assertThat(a).isNotEqualTo(Values.freezeMap(Map.of("b", 1, "a", List.of(Map.of("x", 2L)))));
        assertThat(Values.freeze(List.of(1, "x"))).isEqualTo(List.of(1L, "x")).isNotEqualTo(Values.freeze(List.of(1, "y")))
            .hasSameHashCodeAs(List.of(1L, "x"));
    }

    @Test
    void plainValuesNeedNoConversion() {
        assertThat(Values.isPlain(Values.freezeMap(Map.of("a", List.of(1, 2.5, "x", true), "b", Map.of("c", 1))))).isTrue();
        assertThat(Values.isPlain(Values.freezeMap(Map.of("a", List.of((short) 1))))).isFalse();
        assertThat(Values.isPlain(Values.freezeMap(Map.of("a", Map.of("b", 1.5f))))).isFalse();
        assertThat(Values.isPlain(Map.of("a", 1L))).isFalse();
        assertThat(Values.isPlain("x")).isTrue();
    }
}
