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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * The config repository as the daemon sees it: a bare cache fetched with JGit (force-updated refs,
 * so a force-push simply moves a branch), commits read straight from the object store into a
 * checkout directory, and plans committed to a branch of their own and pushed. A user and password
 * in an HTTP(S) URL ({@code https://TOKEN@host/…}) become the credentials of each fetch and are
 * written nowhere: the cache's config keeps the URL redacted, and errors name it redacted.
 */
public final class GitSource implements AutoCloseable {
    /** scheme://userinfo@ of an HTTP(S) URL: userinfo runs to the last @ before the path, query or fragment. */
    private static final Pattern HTTP_USERINFO = Pattern.compile("(?i)^(https?://)([^/?#]*)@");
    /** The URL JGit talks to, without user info (that goes to the credentials); kept in memory only, never written. */
    private final String url;
    private final Path cache;
    private final GitCredentials credentials;
    private Git git;

    public GitSource(String url, Path cache, GitCredentials credentials) {
        Matcher m = HTTP_USERINFO.matcher(url);
        if (m.find()) {
            String userInfo = m.group(2);
            int colon = userInfo.indexOf(':');
            this.url = m.group(1) + url.substring(m.end());
            this.credentials = credentials.orUserInfo(decode(colon < 0 ? userInfo : userInfo.substring(0, colon)),
                colon < 0 ? "" : decode(userInfo.substring(colon + 1)));
        } else {
            this.url = url;
            this.credentials = credentials;
        }
        this.cache = cache;
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
                    forgetSecrets(git.getRepository().getConfig());
                } else {
                    Files.createDirectories(cache);
                    git = Git.init().setBare(true).setDirectory(cache.toFile()).call();
                    // For a person looking at the cache; fetches use the URL in memory, so the stored one needs no secret.
                    git.getRepository().getConfig().setString("remote", "origin", "url", redact(url));
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
            throw failure("cannot fetch " + redact(url), e);
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
            throw failure("cannot publish plans to branch " + branch + " of " + redact(url), e);
        }
    }

    /** A URL fit for logs: no user info or secret query parameters (they may hold a token). */
    public static String redact(String url) {
        return io.mlctl.util.Redaction.text(url);
    }

    /**
     * A one-line error without secrets ({@code what} is already redacted). JGit starts its messages with the URL
     * it talked to (the query, token and all), which {@code what} already names; and the JGit exception is not
     * kept as the cause, since its message, printed by any stack trace, is the unredacted one.
     */
    private static MlctlException failure(String what, Exception e) {
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
        why = why.replaceFirst("^(?i)[a-z][a-z0-9+.-]*://\\S*?: ", "");
        return new MlctlException(what + ": " + io.mlctl.util.Redaction.text(why));
    }

    /**
     * A cache written by an older mlctl kept the repository URL as given, token included: rewrite every remote's
     * URLs redacted. (Fetches never read them.)
     */
    private static void forgetSecrets(StoredConfig config) throws IOException {
        boolean changed = false;
        for (String remote : config.getSubsections("remote")) {
            for (String key : List.of("url", "pushurl")) {
                String[] values = config.getStringList("remote", remote, key);
                String[] clean = java.util.Arrays.stream(values).map(GitSource::redact).toArray(String[]::new);
                if (!java.util.Arrays.equals(values, clean)) {
                    config.setStringList("remote", remote, key, List.of(clean));
                    changed = true;
                }
            }
        }
        if (changed) config.save();
    }

    /** Percent-decoding of a URL's user or password (not form decoding: a + stays a +). */
    private static String decode(String s) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < s.length(); ) {
            if (s.charAt(i) == '%' && i + 2 < s.length() && isHex(s.charAt(i + 1)) && isHex(s.charAt(i + 2))) {
                out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 3;
            } else {
                int cp = s.codePointAt(i);
                out.writeBytes(Character.toString(cp).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                i += Character.charCount(cp);
            }
        }
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static boolean isHex(char c) {
        return Character.digit(c, 16) >= 0;
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
