package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.Cli;
import io.mlctl.testing.Fixtures;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A state directory the daemon cannot write is an error at start-up that names it, not an unready daemon. */
class DaemonStateDirTest {
    @TempDir
    Path dir;

    /**
     * Runs the daemon with its listen address already taken, so that a daemon past the state-directory check stops at the
     * next step ("cannot listen on ...") instead of running on.
     */
    private Cli.Result daemon(Path stateDir) throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return new Cli(dir).run("daemon", "--repo", "file:///nowhere", "--state-dir", stateDir.toString(),
                "--listen", "127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void aReadOnlyStateDirectoryStopsTheDaemonNamingIt() throws IOException {
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            // root writes through permission bits; /proc refuses new files to everyone.
            Path target = Files.isWritable(readOnly) ? Path.of("/proc") : readOnly;
            Cli.Result r = daemon(target);
            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.err().strip()).as(r.toString())
                .startsWith("Error: the state directory " + target + " is not writable by user " + System.getProperty("user.name") + " (")
                .contains("write access to it, or choose another with --state-dir")
                .doesNotContain("\n").doesNotContain("Exception");
        } finally {
            Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void aStateDirectoryThatCannotBeCreatedStopsTheDaemonNamingIt() throws IOException {
        Path file = Fixtures.write(dir, "not-a-dir", "x");
        Cli.Result under = daemon(file.resolve("state"));
        assertThat(under.exitCode()).as(under.toString()).isEqualTo(1);
        assertThat(under.err()).as(under.toString()).contains("cannot create the state directory " + file.resolve("state") + " (not a directory): create it");

        Cli.Result itself = daemon(file);
        assertThat(itself.exitCode()).as(itself.toString()).isEqualTo(1);
        assertThat(itself.err()).as(itself.toString())
            .contains("cannot create the state directory " + file + " (a file, not a directory, is in the way)");
    }

    @Test
    void aMissingStateDirectoryIsCreatedBeforeAnythingElse() throws IOException {
        Path missing = dir.resolve("new/nested/state");
        Cli.Result r = daemon(missing);
        // Past the check: it stopped at the next step, the listen address this test holds.
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).as(r.toString()).contains("cannot listen on 127.0.0.1:").doesNotContain("state directory");
        assertThat(missing).isDirectory();
        try (var left = Files.list(missing)) {
            assertThat(left).as("the write check cleans up after itself").noneMatch(p -> p.getFileName().toString().startsWith(".write-check"));
        }
    }
}
