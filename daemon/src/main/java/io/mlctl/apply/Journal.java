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

    /** A cloud call announced but not known to have finished. */
    public record Pending(String op, String address, String token, String cloudId) {
    }

    /** What an interrupted apply left: its run id, when it started, and its unfinished calls. */
    public record Interrupted(String runId, String startedAt, List<Pending> pending) {
        public Interrupted {
            pending = List.copyOf(pending);
        }

        public Optional<String> createToken(String address) {
            return pendingCreate(address).map(Pending::token);
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
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
            switch (n.path("event").asString("")) {
                case "begin" -> {
                    runId = n.path("run").asString();
                    started = n.path("time").asString();
                    ended = false;
                }
                case "intent" -> open.put(n.path("op").asString() + " " + n.path("address").asString(),
                    new Pending(n.path("op").asString(), n.path("address").asString(), n.path("token").asString(null), n.path("cloudId").asString(null)));
                case "created" -> open.computeIfPresent("create " + n.path("address").asString(),
                    (k, p) -> new Pending(p.op(), p.address(), p.token(), n.path("cloudId").asString(null)));
                case "done" -> open.remove(n.path("op").asString() + " " + n.path("address").asString());
                // A create that failed after the cloud gave it an id left something behind: still pending.
                case "failed" -> open.computeIfPresent(n.path("op").asString() + " " + n.path("address").asString(),
                    (k, p) -> p.op().equals("create") && p.cloudId() != null ? p : null);
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

    /** The cloud returned an id for a create still in progress: recorded before the create's next call. */
    public void created(String address, String cloudId) {
        write(record("created").put("op", "create").put("address", address).put("cloudId", cloudId));
    }

    public void done(String op, String address, String cloudId) {
        write(record("done").put("op", op).put("address", address).put("cloudId", cloudId));
    }

    public void failed(String op, String address, String error) {
        write(record("failed").put("op", op).put("address", address).put("error", error));
    }

    /** Closes the run; a complete run's journal is kept as {@code last-apply.jsonl}. */
    public synchronized void end(String outcome) {
        write(record("end").put("outcome", outcome));
        closeChannel();
        try {
            Files.move(dir.resolve(FILE), dir.resolve(LAST), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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
