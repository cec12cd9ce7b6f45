package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.MlctlException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Log lines that logfmt and JSON readers take apart exactly, with types kept and credentials gone. */
class DaemonLogTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

    /**
     * A value, how logfmt writes it, what a logfmt reader gets back (null: the bare word null), and the
     * JSON it becomes.
     */
    static Stream<Arguments> values() {
        return Stream.of(
            Arguments.of("a word", "main", "main", "main", "\"main\""),
            Arguments.of("spaces", "new commit", "\"new commit\"", "new commit", "\"new commit\""),
            Arguments.of("empty", "", "\"\"", "", "\"\""),
            Arguments.of("an equals sign", "a=b", "\"a=b\"", "a=b", "\"a=b\""),
            Arguments.of("quotes", "say \"hi\"", "\"say \\\"hi\\\"\"", "say \"hi\"", "\"say \\\"hi\\\"\""),
            Arguments.of("a backslash", "C:\\tmp", "\"C:\\\\tmp\"", "C:\\tmp", "\"C:\\\\tmp\""),
            Arguments.of("a newline cannot forge a line", "a\nlevel=error msg=forged", "\"a\\nlevel=error msg=forged\"", "a\nlevel=error msg=forged",
                "\"a\\nlevel=error msg=forged\""),
            Arguments.of("a tab and a return", "a\tb\r", "\"a\\tb\\r\"", "a\tb\r", "\"a\\tb\\r\""),
            Arguments.of("another control", "bell\u0007", "\"bell\\u0007\"", "bell\u0007", "\"bell\\u0007\""),
            Arguments.of("a line separator", "a\u2028b", "\"a\\u2028b\"", "a\u2028b", "\"a\u2028b\""),
            Arguments.of("non-ASCII letters", "größe", "größe", "größe", "\"größe\""),
            Arguments.of("a no-break space", "a\u00a0b", "\"a\u00a0b\"", "a\u00a0b", "\"a\u00a0b\""),
            Arguments.of("an int", 42, "42", "42", "42"),
            Arguments.of("a long", 5_000_000_000L, "5000000000", "5000000000", "5000000000"),
            Arguments.of("a negative", -3, "-3", "-3", "-3"),
            Arguments.of("a double", 1.5, "1.5", "1.5", "1.5"),
            Arguments.of("not a number", Double.NaN, "NaN", "NaN", "\"NaN\""),
            Arguments.of("a boolean", true, "true", "true", "true"),
            Arguments.of("null", null, "null", null, "null"),
            Arguments.of("an optional", Optional.of(7), "7", "7", "7"),
            Arguments.of("an empty optional", Optional.empty(), "null", null, "null"),
            Arguments.of("seconds", Duration.ofSeconds(2), "2s", "2s", "\"2s\""),
            Arguments.of("milliseconds", Duration.ofMillis(500), "500ms", "500ms", "\"500ms\""),
            Arguments.of("an hour", Duration.ofHours(1), "1h", "1h", "\"1h\""),
            Arguments.of("ninety seconds", Duration.ofSeconds(90), "90s", "90s", "\"90s\""),
            Arguments.of("an instant", Instant.parse("2026-01-01T10:00:00.250Z"), "2026-01-01T10:00:00.250Z", "2026-01-01T10:00:00.250Z",
                "\"2026-01-01T10:00:00.250Z\""),
            Arguments.of("an enum", EnvironmentStatus.Status.SYNCED, "SYNCED", "SYNCED", "\"SYNCED\""),
            Arguments.of("a token as user name", "https://ghp_s3cret@github.com/o/r.git", "https://***@github.com/o/r.git",
                "https://***@github.com/o/r.git", "\"https://***@github.com/o/r.git\""),
            Arguments.of("a token in the query, then text", "https://h/x?access_token=s3cret then", "\"https://h/x?access_token=*** then\"",
                "https://h/x?access_token=*** then", "\"https://h/x?access_token=*** then\""),
            Arguments.of("an exception naming a URL", new MlctlException("cannot fetch https://u:s3cret@h/r"),
                "\"io.mlctl.MlctlException: cannot fetch https://***@h/r\"", "io.mlctl.MlctlException: cannot fetch https://***@h/r",
                "\"io.mlctl.MlctlException: cannot fetch https://***@h/r\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("values")
    void logfmtQuotesWhatItMustAndReadsBack(String why, Object value, String written, String read, String json) {
        String line = lines(false, l -> l.info("m", "k", value, "after", 1)).get(0);
        assertThat(line).isEqualTo("time=2026-01-01T00:00:00Z level=info msg=m k=" + written + " after=1");
        List<Map.Entry<String, String>> pairs = Logfmt.parse(line);
        assertThat(pairs).extracting(Map.Entry::getKey).containsExactly("time", "level", "msg", "k", "after");
        assertThat(pairs.get(3).getValue()).isEqualTo(read == null ? "null" : read);
        assertThat(line).doesNotContain("s3cret");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("values")
    void jsonKeepsTypes(String why, Object value, String written, String read, String json) {
        String line = lines(true, l -> l.info("m", "k", value)).get(0);
        JsonNode n = JSON.readTree(line);
        assertThat(n.get("k")).isEqualTo(JSON.readTree(json));
        assertThat(n.get("k").getNodeType()).isEqualTo(JSON.readTree(json).getNodeType());
        assertThat(line).doesNotContain("s3cret");
    }

    @Test
    void jsonLinesCarryTimeLevelAndMessageAndNumbersStayNumbers() {
        List<String> lines = lines(true, l -> {
            l.info("commit validated", "commit", "abc1234", "environments", 3);
            l.warn("webhook answered 500", "attempt", 2, "retrying", true, "after", Duration.ofMillis(250));
            l.error("cannot fetch https://x-access-token:s3cret@github.com/o/r.git: timeout");
        });
        assertThat(lines).hasSize(3);
        JsonNode a = JSON.readTree(lines.get(0));
        assertThat(a.get("time").asString()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(a.get("level").asString()).isEqualTo("info");
        assertThat(a.get("msg").asString()).isEqualTo("commit validated");
        assertThat(a.get("environments").isIntegralNumber()).isTrue();
        assertThat(a.get("environments").asInt()).isEqualTo(3);
        JsonNode b = JSON.readTree(lines.get(1));
        assertThat(b.get("level").asString()).isEqualTo("warn");
        assertThat(b.get("attempt").isNumber()).isTrue();
        assertThat(b.get("retrying").isBoolean()).isTrue();
        assertThat(b.get("after").asString()).isEqualTo("250ms");
        JsonNode c = JSON.readTree(lines.get(2));
        assertThat(c.get("level").asString()).isEqualTo("error");
        assertThat(c.get("msg").asString()).isEqualTo("cannot fetch https://***@github.com/o/r.git: timeout");
        assertThat(String.join("\n", lines)).doesNotContain("s3cret");
    }

    @Test
    void messagesAreQuotedAndRedactedInLogfmt() {
        String line = lines(false, l -> l.error("cannot fetch https://ghp_s3cret@github.com/o/r.git: connection refused")).get(0);
        assertThat(line).isEqualTo("time=2026-01-01T00:00:00Z level=error msg=\"cannot fetch https://***@github.com/o/r.git: connection refused\"");
        assertThat(Logfmt.parse(line).get(2).getValue()).isEqualTo("cannot fetch https://***@github.com/o/r.git: connection refused");
    }

    static Stream<Arguments> keys() {
        return Stream.of(
            Arguments.of("kept", "environment", "environment"),
            Arguments.of("dots and dashes are fine", "cloud.request-id", "cloud.request-id"),
            Arguments.of("a space", "in flight", "in_flight"),
            Arguments.of("an equals sign", "a=b", "a_b"),
            Arguments.of("a quote", "say\"", "say_"),
            Arguments.of("a newline", "a\nb", "a_b"),
            Arguments.of("empty", "", "_"),
            Arguments.of("a field named like the time", "time", "_time"),
            Arguments.of("a field named like the message", "msg", "_msg"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("keys")
    void keysAreSafe(String why, String key, String written) {
        String text = lines(false, l -> l.info("m", key, "v")).get(0);
        assertThat(Logfmt.parse(text).get(3)).isEqualTo(Map.entry(written, "v"));
        JsonNode json = JSON.readTree(lines(true, l -> l.info("m", key, "v")).get(0));
        assertThat(json.get(written).asString()).isEqualTo("v");
        assertThat(json.get("time").asString()).isEqualTo("2026-01-01T00:00:00Z");
        assertThat(json.get("msg").asString()).isEqualTo("m");
    }

    @Test
    void aKeyWithoutAValueIsWrittenWithNull() {
        assertThat(lines(false, l -> l.info("m", "a", 1, "dangling")).get(0)).endsWith(" a=1 dangling=null");
        assertThat(JSON.readTree(lines(true, l -> l.info("m", "a", 1, "dangling")).get(0)).get("dangling").isNull()).isTrue();
    }

    /** Whatever the text, a logfmt reader gets exactly it back, on one line. */
    @Test
    void anyTextRoundTrips() {
        Random random = new Random(10);
        String alphabet = "ab Z09=\"\\\n\r\t\u0000\u0001\u001f\u007f\u00a0\u2028é€ -_.";
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            StringBuilder b = new StringBuilder();
            for (int n = random.nextInt(12); n > 0; n--) b.append(alphabet.charAt(random.nextInt(alphabet.length())));
            texts.add(b.toString());
        }
        List<String> lines = lines(false, l -> texts.forEach(t -> l.info(t, "v", t)));
        assertThat(lines).hasSize(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            List<Map.Entry<String, String>> pairs = Logfmt.parse(lines.get(i));
            assertThat(pairs.get(2).getValue()).as(lines.get(i)).isEqualTo(texts.get(i));
            assertThat(pairs.get(3).getValue()).as(lines.get(i)).isEqualTo(texts.get(i));
        }
    }

    @Test
    void theStrictReaderRejectsWhatLogfmtReadersChokeOn() {
        assertThatThrownBy(() -> Logfmt.parse("msg=two words")).hasMessageContaining("expected '='");
        assertThatThrownBy(() -> Logfmt.parse("k=")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Logfmt.parse("k=\"open")).hasMessageContaining("unterminated");
        assertThatThrownBy(() -> Logfmt.parse("k=a\"b")).hasMessageContaining("unquoted");
        assertThatThrownBy(() -> Logfmt.parse("k=\"\\q\"")).hasMessageContaining("escape");
        assertThatThrownBy(() -> Logfmt.parse("a=1  b=2")).hasMessageContaining("key");
    }

    private static List<String> lines(boolean json, java.util.function.Consumer<DaemonLog> writes) {
        StringWriter out = new StringWriter();
        writes.accept(new DaemonLog(new PrintWriter(out), json, CLOCK));
        return out.toString().lines().toList();
    }

    /**
     * A strict logfmt reader: {@code key=value} pairs separated by one space; a key of anything but space,
     * '=', '"' and controls; a value either bare (no space, '=', '"', '\' or control; not empty) or in
     * double quotes with only the escapes \" \\ \n \r \t \\uXXXX.
     */
    static final class Logfmt {
        static List<Map.Entry<String, String>> parse(String line) {
            List<Map.Entry<String, String>> pairs = new ArrayList<>();
            int i = 0;
            int n = line.length();
            while (i < n) {
                if (!pairs.isEmpty()) {
                    if (line.charAt(i) != ' ') throw new IllegalArgumentException("expected ' ' at " + i + ": " + line);
                    i++;
                }
                int start = i;
                while (i < n && line.charAt(i) > ' ' && line.charAt(i) != '=' && line.charAt(i) != '"' && line.charAt(i) != 0x7f) i++;
                if (i == start) throw new IllegalArgumentException("empty key at " + i + ": " + line);
                String key = line.substring(start, i);
                if (i >= n || line.charAt(i) != '=') throw new IllegalArgumentException("expected '=' after key " + key + ": " + line);
                i++;
                StringBuilder v = new StringBuilder();
                if (i < n && line.charAt(i) == '"') {
                    i++;
                    while (true) {
                        if (i >= n) throw new IllegalArgumentException("unterminated quoted value of " + key + ": " + line);
                        char c = line.charAt(i++);
                        if (c == '"') break;
                        if (c < ' ' || c == 0x7f) throw new IllegalArgumentException("raw control character in the value of " + key);
                        if (c != '\\') {
                            v.append(c);
                            continue;
                        }
                        if (i >= n) throw new IllegalArgumentException("unterminated escape in " + key);
                        char e = line.charAt(i++);
                        switch (e) {
                            case '"' -> v.append('"');
                            case '\\' -> v.append('\\');
                            case 'n' -> v.append('\n');
                            case 'r' -> v.append('\r');
                            case 't' -> v.append('\t');
                            case 'u' -> {
                                v.append((char) Integer.parseInt(line.substring(i, i + 4), 16));
                                i += 4;
                            }
                            default -> throw new IllegalArgumentException("unknown escape \\" + e + " in " + key);
                        }
                    }
                } else {
                    while (i < n && line.charAt(i) != ' ') {
                        char c = line.charAt(i++);
                        if (c == '=' || c == '"' || c == '\\' || c < ' ' || c == 0x7f || Character.isSpaceChar(c)) {
                            throw new IllegalArgumentException("unquoted '" + c + "' in the value of " + key + ": " + line);
                        }
                        v.append(c);
                    }
                    if (v.length() == 0) throw new IllegalArgumentException("empty bare value of " + key + ": " + line);
                }
                pairs.add(Map.entry(key, v.toString()));
            }
            return pairs;
        }
    }
}
