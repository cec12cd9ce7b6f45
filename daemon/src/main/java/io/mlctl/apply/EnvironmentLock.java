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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One apply at a time per environment: an OS file lock on {@code <state>/<env>/lock}. The OS drops it
 * when the holder dies, even by kill -9, so a crash never leaves a stale lock. The file also says who
 * holds it, for the error the second comer sees.
 *
 * <p>Within one JVM a map of held files is checked first: POSIX locks belong to the process, and
 * opening and closing a second descriptor on a file this process has locked would release the lock
 * (the JDK's {@link FileLock} documentation warns of it), so a second thread never touches the file.
 */
public final class EnvironmentLock implements LockService.Held {
    /** Lock files this JVM holds → who holds them. */
    private static final Map<Path, String> HELD = new ConcurrentHashMap<>();
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private EnvironmentLock(Path file, FileChannel channel, FileLock lock) {
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    public static EnvironmentLock acquire(String environment, Path environmentStateDir, String purpose, Instant now) {
        return acquire(environmentStateDir, environment, purpose, now);
    }

    public static EnvironmentLock acquire(Path environmentStateDir, String environment, String purpose, Instant now) {
        Path file = environmentStateDir.resolve("lock").toAbsolutePath().normalize();
        String who = purpose + " (pid " + ProcessHandle.current().pid() + " on " + host() + ", since " + now + ")";
        String other = HELD.putIfAbsent(file, who);
        if (other != null) throw new LockedException(environment, other);
        try {
            return lockFile(file, environment, who);
        } catch (RuntimeException e) {
            HELD.remove(file, who);
            throw e;
        }
    }

    private static EnvironmentLock lockFile(Path file, String environment, String who) {
        Path environmentStateDir = file.getParent();
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
            l = null; // cannot happen past the HELD map, but is never a reason to close a descriptor of a held lock
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
            ch.write(ByteBuffer.wrap(who.getBytes(StandardCharsets.UTF_8)), 0);
            ch.force(false);
        } catch (IOException e) {
            // The lock itself is held; a missing holder description only makes the other side's error vaguer.
        }
        return new EnvironmentLock(file, ch, l);
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
        HELD.remove(file);
    }
}
