package io.mlctl.util;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BuildInfoTest {
    /** Built by Maven in a clone, the build knows its commit; elsewhere it says unknown rather than guess. */
    @Test
    void theCommitIsTheCheckoutsHead() throws Exception {
        BuildInfo build = BuildInfo.current();
        if (!Files.exists(Fixtures.repoRoot().resolve(".git"))) {
            assertThat(build.commit()).isEqualTo(BuildInfo.UNKNOWN);
            return;
        }
        Process git = new ProcessBuilder("git", "rev-parse", "--short=7", "HEAD").directory(Fixtures.repoRoot().toFile()).start();
        assertThat(git.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String head = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(build.commit()).isEqualTo(head);
    }
}
