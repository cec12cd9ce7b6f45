package io.mlctl.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Which build is running: the version from the jar's manifest and the commit the Maven build recorded
 * in {@code io/mlctl/commit} (pom.xml, profile git-commit). Either is {@value #UNKNOWN} when not known:
 * a build outside a clone has no commit, classes run from target/classes have no manifest.
 */
public record BuildInfo(String version, String commit) {
    public static final String UNKNOWN = "unknown";

    public static BuildInfo current() {
        String version = BuildInfo.class.getPackage().getImplementationVersion();
        String commit = null;
        try (InputStream in = BuildInfo.class.getResourceAsStream("/io/mlctl/commit")) {
            if (in != null) commit = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            // A build without its commit still runs; the commit reads as unknown.
        }
        // Whatever else git wrote there (an error, for a repository without commits) is not a commit.
        if (commit != null && !commit.matches("[0-9a-f]{7,40}")) commit = null;
        return new BuildInfo(orUnknown(version), orUnknown(commit));
    }

    private static String orUnknown(String s) {
        return s == null || s.isBlank() ? UNKNOWN : s.trim();
    }
}
