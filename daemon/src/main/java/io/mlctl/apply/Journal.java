package io.mlctl.apply;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The apply journal: one JSON line per event, forced to disk before the cloud call it announces.
 * An apply killed at any instant leaves a journal without an {@code end} record; the next apply reads
 * it, reuses the idempotency tokens of creates that may have gone through, and re-plans against live
 * inventory, so nothing is created twice and nothing is left behind.
 */
public final class Journal implements AutoCloseable {
    public static final String FILE = "journal.jsonl";
    public static final String LAST = "last-apply.jsonl";

    /**
     * A cloud call announced but not known to have finished. For a create: {@code sent} once the
     * call that makes the resource may have gone out (before that, nothing in the cloud can be its
     * work), {@code cloudId} and {@code createdAt} once the cloud returned an id.
     */
    public record Pending(String op, String address, String token, String cloudId, boolean sent, String createdAt) {
        public Pending(String op, String address, String token, String cloudId) {
            this(op, address, token, cloudId, false, null);
        }
    }

    /** What an interrupted apply left: its run id, when it started, and its unfinished calls. */
    public record Interrupted(String runId, String startedAt, List<Pending> pending) {
        public Interrupted {
            pending = List.copyOf(pending);
        }

        /** The create of {@code address} that may have gone through, with the cloud id it reported if it got that far. */
        public Optional<Pending> pendingCreate(String address) {
            return pending.stream().filter(p -> p.op().equals("create") && p.address().equals(address)).findFirst();
        }
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder().build();
    private final Path dir;
    private FileChannel channel;

    public Journal(Path environmentStateDir) {
        this.dir = environmentStateDir;
    }

    /** The unfinished apply the journal records, if the last one did not end. */
    public Optional<Interrupted> interrupted() {
        Path f = dir.resolve(FILE);
        if (!Files.exists(f)) return Optional.empty();
        try {
            return parse(Files.readAllLines(f, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Optional<Interrupted> parse(List<String> lines) {
        String runId = "unknown";
        String started = "";
        boolean ended = false;
        Map<String, Pending> open = new LinkedHashMap<>();
        for (String line : lines) {
            JsonNode n;
            try {
                n = MAPPER.readTree(line);
            } catch (RuntimeException e) {
                continue; // a torn last line from a kill mid-write: the call it announced was never sent
            }
            String key = n.path("op").asString() + " " + n.path("address").asString();
            switch (n.path("event").asString("")) {
                case "begin" -> {
                    runId = n.path("run").asString();
                    started = n.path("time").asString();
                    ended = false;
                }
                case "intent" -> open.merge(key, new Pending(n.path("op").asString(), n.path("address").asString(), n.path("token").asString(null),
                    n.path("cloudId").asString(null)), (was, now) -> Objects.equals(was.token(), now.token())
                    // The same create again (a resumed run): what the earlier attempts got to still holds.
                    ? new Pending(now.op(), now.address(), now.token(), now.cloudId() != null ? now.cloudId() : was.cloudId(), was.sent(), was.createdAt())
                    : now);
                case "sent" -> open.computeIfPresent(key, (k, p) -> new Pending(p.op(), p.address(), p.token(), p.cloudId(), true, p.createdAt()));
                case "created" -> open.computeIfPresent(key,
                    (k, p) -> new Pending(p.op(), p.address(), p.token(), n.path("cloudId").asString(null), true, n.path("time").asString(null)));
                case "done" -> open.remove(key);
                // A create that failed after the cloud gave it an id left something behind: still pending.
                case "failed" -> open.computeIfPresent(key, (k, p) -> p.op().equals("create") && p.cloudId() != null ? p : null);
                case "end" -> ended = true;
                default -> { }
            }
        }
        if (ended) return Optional.empty();
        return Optional.of(new Interrupted(runId, started, new ArrayList<>(open.values())));
    }

    public synchronized void begin(String runId, String time, String environment, String planFingerprint) {
        try {
            Files.createDirectories(dir);
            // Read and append cannot be combined: one writer (the lock holder) appends by positioning at the end.
            channel = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            long size = channel.size();
            channel.position(size);
            // A kill mid-write leaves a torn last line; start on a fresh one so this run's records stay readable.
            if (size > 0) {
                ByteBuffer last = ByteBuffer.allocate(1);
                channel.read(last, size - 1);
                if (last.get(0) != '\n') channel.write(ByteBuffer.wrap(new byte[] {'\n'}));
            }
        } catch (IOException e) {
            throw new MlctlException("cannot open apply journal in " + dir + ": " + e.getMessage(), e);
        }
        write(record("begin").put("run", runId).put("time", time).put("environment", environment).put("plan", planFingerprint));
    }

    public void intent(String op, String address, String token, String cloudId) {
        write(record("intent").put("op", op).put("address", address).put("token", token).put("cloudId", cloudId));
    }

    /** The call that makes {@code address} is about to go out: from now on the cloud may hold its work. */
    public void sent(String address) {
        write(record("sent").put("op", "create").put("address", address));
    }

    /** The cloud returned an id for a create still in progress: recorded before the create's next call. */
    public void created(String address, String cloudId, String time) {
        write(record("created").put("op", "create").put("address", address).put("cloudId", cloudId).put("time", time));
    }

    public void done(String op, String address, String cloudId) {
        write(record("done").put("op", op).put("address", address).put("cloudId", cloudId));
    }

    public void failed(String op, String address, String error) {
        write(record("failed").put("op", op).put("address", address).put("error", error));
    }

    /**
     * Closes the run; its journal is kept as {@code last-apply.jsonl}. A run that failed after the
     * cloud gave a create its id, without finishing it, stays open instead: the next apply resumes
     * that create by its id rather than meeting a half-made resource it cannot tell from a stranger's.
     */
    public synchronized void end(String outcome) {
        if ("failed".equals(outcome) && createdButUnfinished()) {
            write(record("stopped").put("outcome", outcome));
            closeChannel();
            return;
        }
        write(record("end").put("outcome", outcome));
        closeChannel();
        try {
            Files.move(dir.resolve(FILE), dir.resolve(LAST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private boolean createdButUnfinished() {
        try {
            return parse(Files.readAllLines(dir.resolve(FILE), StandardCharsets.UTF_8)).orElseThrow().pending().stream()
                .anyMatch(p -> p.op().equals("create") && p.cloudId() != null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private ObjectNode record(String event) {
        return MAPPER.createObjectNode().put("event", event);
    }

    private synchronized void write(ObjectNode n) {
        if (channel == null) throw new IllegalStateException("journal not begun");
        byte[] bytes = (MAPPER.writeValueAsString(n) + "\n").getBytes(StandardCharsets.UTF_8);
        try {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) channel.write(buf);
            // On disk before the cloud hears of it: that is the whole point of the journal.
            channel.force(false);
        } catch (IOException e) {
            throw new MlctlException("cannot write apply journal: " + e.getMessage(), e);
        }
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing left to lose: every record was forced when written
            }
            channel = null;
        }
    }

    @Override
    public synchronized void close() {
        closeChannel();
    }
}
