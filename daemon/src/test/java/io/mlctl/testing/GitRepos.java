package io.mlctl.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.transport.RefSpec;

/** A real remote (bare, served over file://) and a working clone that commits and pushes to it. */
public final class GitRepos implements AutoCloseable {
    private final Path remote;
    private final Git work;

    public GitRepos(Path dir) {
        try {
            remote = dir.resolve("remote.git");
            Git.init().setBare(true).setInitialBranch("main").setDirectory(remote.toFile()).call().close();
            work = Git.init().setInitialBranch("main").setDirectory(dir.resolve("work").toFile()).call();
            work.remoteAdd().setName("origin").setUri(new org.eclipse.jgit.transport.URIish(remote.toUri().toString())).call();
        } catch (GitAPIException | java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    public String url() {
        return remote.toUri().toString();
    }

    public Path remote() {
        return remote;
    }

    public Path workDir() {
        return work.getRepository().getWorkTree().toPath();
    }

    public GitRepos write(String file, String text) {
        try {
            Path f = workDir().resolve(file);
            Files.createDirectories(f.getParent());
            Files.writeString(f, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    public ObjectId commit(String message) {
        try {
            work.add().addFilepattern(".").call();
            work.add().addFilepattern(".").setUpdate(true).call();
            return work.commit().setMessage(message).setAuthor("dev", "dev@example.com").setCommitter("dev", "dev@example.com").call().getId();
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    public void push(String branch) {
        try {
            work.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+HEAD:refs/heads/" + branch)).call();
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    public void checkout(String branch, boolean create) {
        try {
            work.checkout().setName(branch).setCreateBranch(create).call();
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Rewrites the last commit (for force-push tests). */
    public ObjectId amend(String message) {
        try {
            work.add().addFilepattern(".").call();
            return work.commit().setAmend(true).setMessage(message).setAuthor("dev", "dev@example.com").setCommitter("dev", "dev@example.com").call().getId();
        } catch (GitAPIException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The content of a file on a branch of the remote, if there is one. */
    public java.util.Optional<String> remoteFile(String branch, String path) {
        try (Git g = Git.open(remote.toFile())) {
            var repo = g.getRepository();
            ObjectId head = repo.resolve("refs/heads/" + branch);
            if (head == null) return java.util.Optional.empty();
            try (var walk = new org.eclipse.jgit.revwalk.RevWalk(repo);
                 var tw = org.eclipse.jgit.treewalk.TreeWalk.forPath(repo, path, walk.parseCommit(head).getTree())) {
                if (tw == null) return java.util.Optional.empty();
                return java.util.Optional.of(new String(repo.open(tw.getObjectId(0)).getBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        work.close();
    }
}
