package io.mlctl.gitops;

import io.mlctl.MlctlException;
import io.mlctl.plan.Summary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Published plans: one Markdown and one JSON file per branch and environment, in a directory (and,
 * when asked, committed to a plans branch of the config repository) and served over HTTP.
 */
public final class PlanStore {
    public record Entry(String branch, String environment, String commit, Summary summary, Instant time) {
    }

    private final Path dir;
    private final Map<String, Entry> index = new ConcurrentHashMap<>();

    public PlanStore(Path dir) {
        this.dir = dir;
    }

    static String file(String branch, String env, String ext) {
        return "plans/" + branch + "/" + env + "." + ext;
    }

    public void put(Entry e, String markdown, String json) {
        write(file(e.branch(), e.environment(), "md"), markdown);
        write(file(e.branch(), e.environment(), "json"), json);
        index.put(e.branch() + "/" + e.environment(), e);
    }

    private void write(String rel, String text) {
        try {
            Path f = dir.resolve(rel).normalize();
            if (!f.startsWith(dir)) throw new MlctlException("refusing to write a plan outside " + dir + ": " + rel);
            Files.createDirectories(f.getParent());
            Path tmp = Files.createTempFile(f.getParent(), ".plan-", ".tmp");
            Files.writeString(tmp, text);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new MlctlException("cannot write plan " + rel + ": " + e.getMessage(), e);
        }
    }

    public List<Entry> entries() {
        List<Entry> out = new ArrayList<>(index.values());
        out.sort(java.util.Comparator.comparing(Entry::branch).thenComparing(Entry::environment));
        return out;
    }

    /** The stored file for "branch/env.md" or "branch/env.json", if there is one. */
    public Optional<String> read(String relative) {
        Path f = dir.resolve("plans").resolve(relative).normalize();
        if (!f.startsWith(dir.resolve("plans")) || !Files.isRegularFile(f)) return Optional.empty();
        try {
            return Optional.of(Files.readString(f));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
