package io.mlctl.gitops.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.mlctl.MlctlException;
import io.mlctl.apply.LockService;
import io.mlctl.locks.KubernetesLeaseLocks;
import io.mlctl.locks.Leases;
import io.mlctl.gitops.SyncRecords;
import io.mlctl.testing.KubeApi;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LeaseSyncRecordsTest {
    final KubeApi api = new KubeApi();

    @AfterEach
    void tearDown() {
        api.close();
    }

    Lease lease() {
        return api.lease("mlctl-env-dev").orElseThrow();
    }

    @Test
    void theAppliedSpecLivesOnTheEnvironmentsLeaseForWhoeverOwnsItNext() {
        SyncRecords mine = new LeaseSyncRecords(api.client(), KubeApi.NAMESPACE);
        SyncRecords theNextOwners = new LeaseSyncRecords(api.client(), KubeApi.NAMESPACE);
        assertThat(mine.applied("dev")).isEmpty();

        mine.applied("dev", "sha256:1111");
        assertThat(theNextOwners.applied("dev")).contains("sha256:1111");
        assertThat(lease().getMetadata().getAnnotations()).containsEntry("mlctl.io/applied-spec", "sha256:1111");
        assertThat(lease().getMetadata().getLabels()).containsEntry("app.kubernetes.io/component", "environment-lock");
        // Recording does not take the lock.
        assertThat(Leases.holder(lease())).isEmpty();
        LockService locks = new KubernetesLeaseLocks(api.client(), KubeApi.NAMESPACE, "replica-b", Duration.ofSeconds(15));
        locks.acquire("dev", Path.of("unused"), "mlctl daemon replica-b", Instant.now()).close();
        // Taking and releasing the lock keeps the record.
        assertThat(theNextOwners.applied("dev")).contains("sha256:1111");

        theNextOwners.applied("dev", "sha256:2222");
        assertThat(mine.applied("dev")).contains("sha256:2222");
        assertThat(mine.applied("prod")).isEmpty();
    }

    @Test
    void recordingWhileTheHolderRenewsKeepsBoth() throws Exception {
        SyncRecords records = new LeaseSyncRecords(api.client(), KubeApi.NAMESPACE);
        LockService locks = new KubernetesLeaseLocks(api.client(), KubeApi.NAMESPACE, "replica-a", Duration.ofSeconds(3));
        try (LockService.Held held = locks.acquire("dev", Path.of("unused"), "mlctl daemon replica-a", Instant.now())) {
            String holder = Leases.holder(lease()).orElseThrow();
            long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            int n = 0;
            // Renewals (every 600 ms, a fifth of the lease) and records race on one Lease; neither may undo the other. The
            // holder counts on two thirds of a lease (2 s) after each renewal: the flood of records must not starve them.
            while (System.nanoTime() < until) records.applied("dev", "sha256:" + ++n);
            assertThat(records.applied("dev")).contains("sha256:" + n);
            assertThat(Leases.holder(lease())).contains(holder);
            held.check();
        }
    }

    @Test
    void anUnreachableClusterIsAnErrorOnReadAndOnWrite() {
        var client = api.client();
        api.stop();
        SyncRecords records = new LeaseSyncRecords(client, KubeApi.NAMESPACE);
        // Unknown is not "never applied" (which would re-apply and correct drift selfHeal leaves alone): the reconciler waits.
        assertThatThrownBy(() -> records.applied("dev")).isInstanceOf(MlctlException.class)
            .hasMessageStartingWith("cannot read the applied spec of environment dev from its Lease")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        assertThatThrownBy(() -> records.applied("dev", "sha256:1111")).isInstanceOf(MlctlException.class)
            .hasMessageStartingWith("cannot record the applied spec of environment dev on Lease mlctl/mlctl-env-dev: cannot reach http://127.0.0.1:")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
