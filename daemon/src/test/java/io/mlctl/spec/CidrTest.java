package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {
    @ParameterizedTest
    @CsvSource({
        "10.0.0.0/16, 10.0.1.0/24, true, true",
        "10.0.0.0/16, 10.1.0.0/24, false, false",
        "10.0.0.0/23, 10.0.1.0/24, true, true",
        "10.0.0.0/24, 10.0.0.0/16, false, true",
        "0.0.0.0/0, 192.168.1.0/24, true, true"})
    void containsAndOverlaps(String outer, String inner, boolean contains, boolean overlaps) {
        Cidr a = Cidr.parse(outer);
        Cidr b = Cidr.parse(inner);
        assertThat(a.contains(b)).isEqualTo(contains);
        assertThat(a.overlaps(b)).isEqualTo(overlaps);
        assertThat(b.overlaps(a)).isEqualTo(overlaps);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10.0.0.0      | is not a CIDR block (expected a.b.c.d/n)",
        "10.0.0/8      | is not a CIDR block (expected a.b.c.d/n)",
        "10.0.0.256/24 | octet 256 is out of range",
        "10.0.0.0/33   | has prefix length 33",
        "10.0.0.1/24   | has host bits set (did you mean 10.0.0.0/24?)",
        "a.b.c.d/8     | bad octet 'a'"})
    void rejects(String text, String message) {
        assertThatThrownBy(() -> Cidr.parse(text)).hasMessageContaining(message);
    }
}
