package io.mlctl.util;

import java.time.Duration;

/** Durations as people write them in flags and config files: {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}. */
public final class Durations {
    private Durations() {
    }

    /**
     * The largest whole unit that says {@code d} exactly ({@code 90s}, not {@code 1.5m}), so the text parses
     * back to the same duration. Below a millisecond there is no such unit: ISO-8601 ({@code PT0.0000005S}).
     */
    public static String format(Duration d) {
        if (d.isZero()) return "0s";
        if (d.getNano() % 1_000_000 != 0) return d.toString();
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
        if (ms % 60_000 == 0) return ms / 60_000 + "m";
        if (ms % 1000 == 0) return ms / 1000 + "s";
        return ms + "ms";
    }
}
