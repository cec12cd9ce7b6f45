package io.mlctl.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EnvironmentLockTest {
    static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    @TempDir
    Path dir;

    /**
     * Whether another process can take the POSIX (fcntl) lock the JVM's FileLock uses: python's lockf is the same
     * kind of lock, so this sees exactly what a second mlctl process would.
     */
    boolean anotherProcessCanLock(Path file) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", """
            import fcntl, sys
            f = open(sys.argv[1], 'r+')
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                print('locked')
            except OSError:
                print('busy')
            """, file.toString()).redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        assertThat(out).isIn("locked", "busy");
        return out.equals("locked");
    }

    @Test
    void aSecondAcquireInTheSameJvmIsRefusedAndLeavesTheFirstHeld() throws Exception {
        Path env = dir.resolve("dev");
        try (EnvironmentLock held = EnvironmentLock.acquire(env, "dev", "mlctl daemon", NOW)) {
            assertThat(anotherProcessCanLock(env.resolve("lock"))).as("held against other processes").isFalse();
            assertThatThrownBy(() -> EnvironmentLock.acquire(env, "dev", "mlctl apply", NOW)).isInstanceOf(LockedException.class)
                .hasMessageContaining("environment dev is locked by mlctl daemon (pid " + ProcessHandle.current().pid());
            // The refused second acquire must not have opened and closed a descriptor (which would drop the POSIX lock).
            assertThat(anotherProcessCanLock(env.resolve("lock"))).as("still held after a refused acquire in this JVM").isFalse();
        }
        assertThat(anotherProcessCanLock(env.resolve("lock"))).as("released on close").isTrue();
        try (EnvironmentLock again = EnvironmentLock.acquire(env, "dev", "mlctl apply", NOW)) {
            assertThat(anotherProcessCanLock(env.resolve("lock"))).isFalse();
        }
    }

    @Test
    void theSameFileReachedByAnotherPathIsTheSameLock() {
        Path env = dir.resolve("dev");
        try (EnvironmentLock held = EnvironmentLock.acquire(env, "dev", "mlctl daemon", NOW)) {
            assertThatThrownBy(() -> EnvironmentLock.acquire(dir.resolve("x/../dev"), "dev", "mlctl apply", NOW)).isInstanceOf(LockedException.class);
        }
    }

    @Test
    void lockServiceFilesIsTheFileLock() {
        try (LockService.Held held = LockService.files().acquire("dev", dir.resolve("dev"), "mlctl daemon", NOW)) {
            assertThatThrownBy(() -> LockService.files().acquire("dev", dir.resolve("dev"), "mlctl apply", NOW))
                .isInstanceOf(LockedException.class).hasMessageContaining("mlctl daemon");
        }
    }
}
