package io.mlctl.apply;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One apply at a time per environment: an OS file lock on {@code <state>/<env>/lock}. The OS drops it
 * when the holder dies, even by kill -9, so a crash never leaves a stale lock. The file also says who
 * holds it, for the error the second comer sees.
 */
public final class EnvironmentLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private EnvironmentLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    public static EnvironmentLock acquire(Path environmentStateDir, String environment, String purpose, Instant now) {
        Path file = environmentStateDir.resolve("lock");
        FileChannel ch;
        try {
            Files.createDirectories(environmentStateDir);
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new MlctlException("cannot open lock file " + file + ": " + e.getMessage(), e);
        }
        FileLock l;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null; // held by this very process (another thread, e.g. the daemon)
        } catch (IOException e) {
            closeQuietly(ch);
            throw new MlctlException("cannot lock " + file + ": " + e.getMessage(), e);
        }
        if (l == null) {
            String holder;
            try {
                holder = Files.readString(file, StandardCharsets.UTF_8).trim();
            } catch (IOException e) {
                holder = "";
            }
            closeQuietly(ch);
            throw new LockedException(environment, holder.isEmpty() ? "another process" : holder);
        }
        try {
            ch.truncate(0);
            String who = purpose + " (pid " + ProcessHandle.current().pid() + " on " + host() + ", since " + now + ")";
            ch.write(ByteBuffer.wrap(who.getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
        } catch (IOException e) {
            // The lock itself is held; a missing holder description only makes the other side's error vaguer.
        }
        return new EnvironmentLock(ch, l);
    }

    private static String host() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) return h;
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing; the original error matters more
        }
    }

    @Override
    public void close() {
        try {
            channel.truncate(0);
            lock.release();
        } catch (IOException ignored) {
            // closing the channel below releases the lock regardless
        }
        closeQuietly(channel);
    }
}
