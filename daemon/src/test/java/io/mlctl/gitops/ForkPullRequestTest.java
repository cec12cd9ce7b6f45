package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.testing.GitRepos;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.transport.RefSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Pull-request heads ({@code refs/pull/N/head}, forks included) are neither fetched nor planned unless the operator
 * opts in: anyone who can open a pull request would otherwise read live cloud ids through the published plan.
 */
class ForkPullRequestTest {
    @TempDir
    Path dir;
    GitRepos git;
    DaemonHarness h;
    ObjectId pullRequest;

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir.resolve("git"));
        String dev = DaemonHarness.autoEnv("dev");
        git.write("envs/dev.yaml", dev).commit("dev");
        git.push("main");
        git.checkout("feature/bigger-disk", true);
        git.write("envs/dev.yaml", dev.replace("versioning: true", "versioning: false")).commit("a branch of the repository itself");
        git.push("feature/bigger-disk");
        git.checkout("main", false);
        git.checkout("fork", true);
        pullRequest = git.write("envs/dev.yaml", dev + "    - type: instance\n      name: gpu-2\n      machineType: p3.8xlarge\n"
            + "      subnet: net/train\n").commit("from a fork");
        pushPullRequest();
        h = new DaemonHarness(dir);
    }

    @AfterEach
    void tearDown() {
        h.close();
        git.close();
    }

    /** What a forge does when a fork opens pull request 1: the fork's commit appears as refs/pull/1/head of this repository. */
    private void pushPullRequest() throws Exception {
        try (Git work = Git.open(git.workDir().toFile())) {
            work.push().setRemote("origin").setForce(true).setRefSpecs(new RefSpec("+HEAD:refs/pull/1/head")).call();
        }
    }

    @Test
    void byDefaultOnlyBranchesOfTheRepositoryArePlanned() throws Exception {
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        assertThat(branchesPlanned()).containsExactlyInAnyOrder("main", "feature/bigger-disk");
        assertNotFetchedNorServed();
        h.flushEvents();
        assertThat(h.events).noneMatch(e -> e.contains("pull/1") || e.contains(pullRequest.name()));
    }

    @Test
    void pullRequestsArePlannedWhenAskedAndNoLongerOnceTheOptionIsTurnedOff() throws Exception {
        // One reconciler thread: concurrent reviews share one checkout directory in Reconciler.review (reported to the lead),
        // and one could read the other's files; this test is about which refs are planned, not about that.
        Reconciler r = h.start(h.config(git.url()).planPullRequests(true));
        r.tick();
        assertThat(branchesPlanned()).as(h.logs.toString()).containsExactlyInAnyOrder("main", "feature/bigger-disk", "pull/1");
        assertThat(h.get("/api/plans/pull/1/dev.md").body()).contains("instance.gpu-2");
        assertThat(cachedRefs()).contains("refs/pull/1/head");
        h.flushEvents();
        assertThat(h.events("plan")).anyMatch(e -> e.path("branch").asString().equals("pull/1"));

        // The operator turns it off and restarts the daemon on the same state directory; the fork pushes again.
        r = h.start(h.config(git.url()));
        pullRequest = git.write("envs/dev.yaml", read() + "    - type: bucket\n      name: exfil\n").commit("the fork again");
        pushPullRequest();
        r.tick();
        assertThat(branchesPlanned()).containsExactlyInAnyOrder("main", "feature/bigger-disk");
        assertNotFetchedNorServed();
    }

    private String read() throws java.io.IOException {
        return java.nio.file.Files.readString(git.workDir().resolve("envs/dev.yaml"));
    }

    private void assertNotFetchedNorServed() throws Exception {
        assertThat(cachedRefs()).noneMatch(ref -> ref.startsWith("refs/pull/"));
        try (Git cache = Git.open(h.stateDir().resolve(".daemon/repo.git").toFile())) {
            assertThat(cache.getRepository().getObjectDatabase().has(pullRequest)).as("the fork's commit is not even fetched").isFalse();
        }
        assertThat(h.get("/api/plans").body()).doesNotContain("pull/1");
        assertThat(h.get("/api/plans/pull/1/dev.md").status()).isEqualTo(404);
        assertThat(h.get("/api/plans/pull/1/dev.json").status()).isEqualTo(404);
    }

    private List<String> branchesPlanned() {
        JsonNode plans = h.get("/api/plans").json();
        return plans.valueStream().map(p -> p.path("branch").asString()).distinct().toList();
    }

    private List<String> cachedRefs() throws Exception {
        try (Git cache = Git.open(h.stateDir().resolve(".daemon/repo.git").toFile())) {
            return cache.getRepository().getRefDatabase().getRefs().stream().map(org.eclipse.jgit.lib.Ref::getName).toList();
        }
    }
}
