package io.mlctl.util;

import java.util.Collection;
import java.util.Comparator;
import java.util.Locale;
import java.util.Optional;

/** Names a person probably meant: the closest known one by edit distance. */
public final class Typos {
    private Typos() {
    }

    /** The known name closest to {@code given} (case ignored, ties by name), whatever the distance. */
    public static Optional<String> closest(String given, Collection<String> known) {
        String g = given.toLowerCase(Locale.ROOT);
        return known.stream().min(Comparator.comparingInt((String k) -> distance(g, k.toLowerCase(Locale.ROOT))).thenComparing(k -> k));
    }

    /**
     * The known name {@code given} is probably a typo of: the closest one, if it is close enough (at most two edits, or a third
     * of the name's length for long names); empty when nothing is, so that a wild guess is never offered as a suggestion.
     */
    public static Optional<String> suggestion(String given, Collection<String> known) {
        String g = given.toLowerCase(Locale.ROOT);
        // Short names are all close to one another ('-t' is two edits from '-V'): allow one edit for them, and none past the dashes.
        String bare = g.replaceFirst("^-+", "");
        int allowed = bare.length() <= 1 ? 0 : bare.length() <= 3 ? 1 : Math.max(2, bare.length() / 3);
        return closest(given, known).filter(k -> distance(g, k.toLowerCase(Locale.ROOT)) <= allowed);
    }

    /** " (did you mean 'x'?)" for {@link #suggestion}, or "" when there is none. */
    public static String didYouMean(String given, Collection<String> known) {
        return suggestion(given, known).map(k -> " (did you mean '" + k + "'?)").orElse("");
    }

    /** Levenshtein distance. */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
