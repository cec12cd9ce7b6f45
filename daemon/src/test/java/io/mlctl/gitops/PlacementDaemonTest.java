package io.mlctl.gitops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.inventory.InventoryReader;
import io.mlctl.spec.Address;
import io.mlctl.testing.GitRepos;
import io.mlctl.testing.Specs;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon resolves machineType: auto as the CLI does, and a drift check leaves the machine type it chose alone. */
class PlacementDaemonTest {
    @TempDir
    Path dir;
    GitRepos git;
    DaemonHarness h;

    @BeforeEach
    void setUp() throws Exception {
        git = new GitRepos(dir.resolve("git"));
        h = new DaemonHarness(dir);
    }

    @AfterEach
    void tearDown() {
        h.close();
        git.close();
    }

    @Test
    void aCommitWithMachineTypeAutoIsAppliedOnTheCheapestCarrierAndStaysSynced() throws Exception {
        String yaml = DaemonHarness.autoEnv("dev").replace("machineType: g4dn.xlarge", "machineType: auto\n      accelerator: {type: nvidia-v100}");
        assertThat(yaml).contains("machineType: auto");
        git.write("envs/dev.yaml", yaml).commit("a V100 wherever it is cheapest");
        git.push("main");
        Reconciler r = h.start(h.config(git.url()));
        r.tick();
        assertThat(r.statuses()).singleElement().extracting(EnvironmentStatus::status).as(h.logs.toString()).isEqualTo(EnvironmentStatus.Status.SYNCED);
        assertThat(new InventoryReader(h.sandbox).read(Specs.env(yaml)).get(Address.parse("instance.gpu-1")).orElseThrow().attributes())
            .containsEntry("machineType", "p3.2xlarge").doesNotContainKey("accelerator");

        h.clock.advance(Duration.ofMinutes(11));
        r.tick();
        assertThat(r.statuses().get(0).status()).as("the drift check finds nothing to do").isEqualTo(EnvironmentStatus.Status.SYNCED);
        h.flushEvents();
        assertThat(h.events("apply")).as("applied once").hasSize(1);
        assertThat(h.events("error")).isEmpty();
    }
}
