package io.mlctl.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DurationsTest {
    static Stream<Arguments> cases() {
        return Stream.of(
            Arguments.of(Duration.ZERO, "0s"),
            Arguments.of(Duration.ofMillis(500), "500ms"),
            Arguments.of(Duration.ofMillis(1500), "1500ms"),
            Arguments.of(Duration.ofSeconds(2), "2s"),
            Arguments.of(Duration.ofSeconds(90), "90s"),
            Arguments.of(Duration.ofMinutes(5), "5m"),
            Arguments.of(Duration.ofMinutes(90), "90m"),
            Arguments.of(Duration.ofHours(1), "1h"),
            Arguments.of(Duration.ofHours(48), "48h"),
            Arguments.of(Duration.ofSeconds(-5), "-5s"),
            Arguments.of(Duration.ofNanos(500), "PT0.0000005S"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("cases")
    void theLargestExactUnit(Duration d, String text) {
        assertThat(Durations.format(d)).isEqualTo(text);
    }
}
