package io.mlctl.apply;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {
    @TempDir
    Path dir;

    @Test
    void anUnfinishedRunIsReportedWithTheCallsStillInFlight() {
        try (Journal j = new Journal(dir)) {
            j.begin("run-1", "2026-01-01T00:00:00Z", "dev", "fp");
            j.intent("create", "bucket.a", "tok-a", null);
            j.done("create", "bucket.a", "a");
            j.intent("create", "instance.b", "tok-b", null);
            j.intent("delete", "network.old", null, "vpc-1");
            j.failed("delete", "network.old", "in use");
        }
        Journal.Interrupted i = new Journal(dir).interrupted().orElseThrow();
        assertThat(i.runId()).isEqualTo("run-1");
        assertThat(i.pending()).extracting(Journal.Pending::address).containsExactly("instance.b");
        assertThat(i.pendingCreate("instance.b").map(Journal.Pending::token)).contains("tok-b");
        assertThat(i.pendingCreate("bucket.a")).isEmpty();
    }

    @Test
    void aTornLastLineDoesNotSwallowTheNextRunsRecords() throws Exception {
        try (Journal j = new Journal(dir)) {
            j.begin("run-1", "t1", "dev", "fp");
            j.intent("create", "instance.b", "tok-b", null);
        }
        Files.writeString(dir.resolve(Journal.FILE), "{\"event\":\"intent\",\"op\":\"cre", java.nio.file.StandardOpenOption.APPEND);
        try (Journal j = new Journal(dir)) {
            j.begin("run-2", "t2", "dev", "fp");
            j.intent("create", "bucket.c", "tok-c", null);
        }
        Journal.Interrupted i = new Journal(dir).interrupted().orElseThrow();
        assertThat(i.runId()).isEqualTo("run-2");
        assertThat(i.pending()).extracting(Journal.Pending::address).containsExactly("instance.b", "bucket.c");
    }

    @Test
    void aCompleteRunLeavesNothingToResume() {
        try (Journal j = new Journal(dir)) {
            j.begin("run-1", "t", "dev", "fp");
            j.intent("create", "bucket.a", "tok", null);
            j.done("create", "bucket.a", "a");
            j.end("complete");
        }
        assertThat(new Journal(dir).interrupted()).isEmpty();
        assertThat(dir.resolve(Journal.LAST)).exists();
        assertThat(dir.resolve(Journal.FILE)).doesNotExist();
    }

    @Test
    void aCreateThatGotItsIdAndThenFailedStaysOpenForTheNextApplyWithThatId() {
        try (Journal j = new Journal(dir)) {
            j.begin("run-1", "t", "dev", "fp");
            j.intent("create", "network.net", "tok-n", null);
            j.sent("network.net");
            j.created("network.net", "vpc-1", "2026-01-01T00:00:00Z");
            j.failed("create", "network.net", "subnet clash");
            j.intent("create", "bucket.b", "tok-b", null);
            j.failed("create", "bucket.b", "name taken");
            j.intent("create", "bucket.c", "tok-c", null);
            j.done("create", "bucket.c", "c");
            j.end("failed");
        }
        // Not archived: the half-made network must be finished by its id, not met later as a stranger.
        assertThat(dir.resolve(Journal.FILE)).exists();
        Journal.Interrupted i = new Journal(dir).interrupted().orElseThrow();
        assertThat(i.pendingCreate("network.net")).hasValueSatisfying(p -> {
            assertThat(p.token()).isEqualTo("tok-n");
            assertThat(p.cloudId()).isEqualTo("vpc-1");
            assertThat(p.sent()).isTrue();
            assertThat(p.createdAt()).isEqualTo("2026-01-01T00:00:00Z");
        });
        assertThat(i.pendingCreate("bucket.b")).isEmpty(); // failed before the cloud made anything
    }

    @Test
    void aSecondInterruptionKeepsWhatTheFirstOneLearned() {
        try (Journal j = new Journal(dir)) {
            j.begin("run-1", "t1", "dev", "fp");
            j.intent("create", "network.net", "tok-n", null);
            j.sent("network.net");
            j.created("network.net", "vpc-1", "2026-01-01T00:00:00Z");
        }
        try (Journal j = new Journal(dir)) {
            j.begin("run-2", "t2", "dev", "fp");
            j.intent("create", "network.net", "tok-n", null); // the resumed create, killed again before it learned more
            j.intent("create", "bucket.b", "tok-b", null);     // a create that never got as far as sending
        }
        Journal.Interrupted i = new Journal(dir).interrupted().orElseThrow();
        assertThat(i.runId()).isEqualTo("run-2");
        assertThat(i.pendingCreate("network.net")).hasValueSatisfying(p -> {
            assertThat(p.cloudId()).isEqualTo("vpc-1");
            assertThat(p.sent()).isTrue();
        });
        assertThat(i.pendingCreate("bucket.b")).hasValueSatisfying(p -> assertThat(p.sent()).isFalse());
    }

    @Test
    void aRunThatFailedWithoutHalfMadeResourcesIsArchived() {
        try (Journal j = new Journal(dir)) {
            j.begin("run-1", "t", "dev", "fp");
            j.intent("create", "bucket.b", "tok-b", null);
            j.sent("bucket.b");
            j.failed("create", "bucket.b", "denied");
            j.end("failed");
        }
        assertThat(new Journal(dir).interrupted()).isEmpty();
        assertThat(dir.resolve(Journal.LAST)).exists();
    }
}
