package io.mlctl.gitops;

import io.mlctl.MlctlException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.dircache.DirCache;
import org.eclipse.jgit.dircache.DirCacheBuilder;
import org.eclipse.jgit.dircache.DirCacheEntry;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * The config repository as the daemon sees it: a bare cache fetched with JGit (force-updated refs,
 * so a force-push simply moves a branch), commits read straight from the object store into a
 * checkout directory, and plans committed to a branch of their own and pushed.
 */
public final class GitSource implements AutoCloseable {
    private final String url;
    private final Path cache;
    private final GitCredentials credentials;
    private Git git;

    public GitSource(String url, Path cache, GitCredentials credentials) {
        this.url = url;
        this.cache = cache;
        this.credentials = credentials;
    }

    /** Fetches and returns every branch and pull-request head: ref name → commit. */
    public Map<String, ObjectId> fetch() {
        return fetch(true);
    }

    /**
     * Fetches and returns every branch head, and pull-request heads ({@code refs/pull/N/head}, which include
     * forks) only when asked: ref name → commit.
     */
    public synchronized Map<String, ObjectId> fetch(boolean pullRequests) {
        try {
            if (git == null) {
                if (Files.exists(cache.resolve("HEAD"))) {
                    git = Git.open(cache.toFile());
                } else {
                    Files.createDirectories(cache);
                    git = Git.init().setBare(true).setDirectory(cache.toFile()).call();
                    git.getRepository().getConfig().setString("remote", "origin", "url", url);
                    git.getRepository().getConfig().save();
                }
            }
            // Shallow: the daemon reads only branch heads, never history.
            List<RefSpec> specs = new java.util.ArrayList<>(List.of(new RefSpec("+refs/heads/*:refs/heads/*")));
            if (pullRequests) specs.add(new RefSpec("+refs/pull/*/head:refs/pull/*/head"));
            // A timeout keeps a hung remote from stalling the loop (and its liveness) forever.
            credentials.apply(git.fetch().setRemote(url).setRemoveDeletedRefs(true).setDepth(1).setTimeout(60).setRefSpecs(specs)).call();
            if (!pullRequests) {
                // Pull-request heads fetched before the operator turned them off are not planned from a stale cache either.
                for (Ref r : git.getRepository().getRefDatabase().getRefsByPrefix("refs/pull/")) {
                    RefUpdate ru = git.getRepository().updateRef(r.getName());
                    ru.setForceUpdate(true);
                    ru.delete();
                }
            }
            Map<String, ObjectId> heads = new TreeMap<>();
            for (Ref r : git.getRepository().getRefDatabase().getRefsByPrefix("refs/")) {
                if (r.getName().startsWith("refs/heads/") || r.getName().matches("refs/pull/[^/]+/head")) heads.put(r.getName(), r.getObjectId());
            }
            return heads;
        } catch (GitAPIException | IOException | RuntimeException e) {
            // Includes JGit's lock contention when another daemon shares the cache: the next tick tries again.
            throw new MlctlException("cannot fetch " + redact(url) + ": " + oneLine(e.getMessage()), e);
        }
    }

    /** Writes the files of {@code commit} under {@code subdir} (or all of them) into {@code dest}. */
    public synchronized Path checkout(ObjectId commit, String subdir, Path dest) {
        try {
            if (Files.exists(dest)) deleteTree(dest);
            Files.createDirectories(dest);
            Repository repo = git.getRepository();
            try (RevWalk walk = new RevWalk(repo); TreeWalk tw = new TreeWalk(repo)) {
                RevCommit c = walk.parseCommit(commit);
                tw.addTree(c.getTree());
                tw.setRecursive(true);
                String prefix = subdir == null || subdir.isBlank() || subdir.equals(".") ? "" : subdir.replaceAll("^/+|/+$", "") + "/";
                while (tw.next()) {
                    String p = tw.getPathString();
                    if (!p.startsWith(prefix) || tw.getFileMode(0) == FileMode.GITLINK) continue;
                    Path out = dest.resolve(p.substring(prefix.length())).normalize();
                    if (!out.startsWith(dest)) continue;
                    Files.createDirectories(out.getParent());
                    ObjectLoader loader = repo.open(tw.getObjectId(0));
                    try (OutputStream os = Files.newOutputStream(out)) {
                        loader.copyTo(os);
                    }
                }
            }
            return dest;
        } catch (IOException | RuntimeException e) {
            throw new MlctlException("cannot check out " + commit.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Commits {@code files} (path → content) onto {@code branch}, keeping its other files, and pushes
     * it. Returns the new commit, or the old one when nothing changed.
     */
    public synchronized ObjectId publish(String branch, Map<String, String> files, String message) {
        Repository repo = git.getRepository();
        String ref = Constants.R_HEADS + branch;
        try (ObjectInserter ins = repo.newObjectInserter(); RevWalk walk = new RevWalk(repo)) {
            ObjectId parent = repo.resolve(ref);
            Map<String, ObjectId> entries = new TreeMap<>();
            if (parent != null) {
                try (TreeWalk tw = new TreeWalk(repo)) {
                    tw.addTree(walk.parseCommit(parent).getTree());
                    tw.setRecursive(true);
                    while (tw.next()) entries.put(tw.getPathString(), tw.getObjectId(0));
                }
            }
            Map<String, ObjectId> before = new LinkedHashMap<>(entries);
            for (Map.Entry<String, String> f : files.entrySet()) {
                entries.put(f.getKey(), ins.insert(Constants.OBJ_BLOB, f.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            if (entries.equals(before) && parent != null) return parent;
            DirCache index = DirCache.newInCore();
            DirCacheBuilder b = index.builder();
            for (Map.Entry<String, ObjectId> e : entries.entrySet()) {
                DirCacheEntry de = new DirCacheEntry(e.getKey());
                de.setFileMode(FileMode.REGULAR_FILE);
                de.setObjectId(e.getValue());
                b.add(de);
            }
            b.finish();
            ObjectId tree = index.writeTree(ins);
            CommitBuilder cb = new CommitBuilder();
            PersonIdent who = new PersonIdent("mlctl", "mlctl@localhost");
            cb.setAuthor(who);
            cb.setCommitter(who);
            cb.setMessage(message);
            cb.setTreeId(tree);
            if (parent != null) cb.setParentId(parent);
            ObjectId commit = ins.insert(cb);
            ins.flush();
            RefUpdate ru = repo.updateRef(ref);
            ru.setNewObjectId(commit);
            ru.setForceUpdate(true);
            ru.update();
            credentials.apply(git.push().setRemote(url).setRefSpecs(new RefSpec("+" + ref + ":" + ref))).call();
            return commit;
        } catch (IOException | GitAPIException | RuntimeException e) {
            throw new MlctlException("cannot publish plans to branch " + branch + " of " + redact(url) + ": " + oneLine(e.getMessage()), e);
        }
    }

    /** A URL fit for logs: no user info or secret query parameters (they may hold a token). */
    public static String redact(String url) {
        return io.mlctl.util.Redaction.text(url);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    @Override
    public synchronized void close() {
        if (git != null) git.close();
    }

}
