package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.ApplyListener;
import io.mlctl.plan.Action;
import io.mlctl.spec.Address;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConsoleProgressTest {
    @Test
    void aLongStepReportsThatItIsStillRunningUntilItEnds() throws Exception {
        StringWriter out = new StringWriter();
        ApplyListener.Step step = new ApplyListener.Step(Address.parse("kubernetes_cluster.gpu"), Action.CREATE, "create", null);
        try (ConsoleProgress p = new ConsoleProgress(new PrintWriter(out, true), plan -> { }, Clock.systemUTC(), Duration.ofMillis(40))) {
            p.started(step, 1, 1);
            for (int i = 0; i < 100 && !out.toString().contains("Still creating"); i++) Thread.sleep(10);
            p.finished(step, 1, 1, "arn:cluster", Duration.ofMillis(200));
            int lines = out.toString().split("\n").length;
            Thread.sleep(150);
            assertThat(out.toString().split("\n")).as("nothing after the step finished").hasSize(lines);
        }
        assertThat(out.toString()).contains("kubernetes_cluster.gpu: Creating... (1/1)")
            .containsPattern("kubernetes_cluster.gpu: Still creating\\.\\.\\. \\[\\d+s elapsed\\]")
            .contains("kubernetes_cluster.gpu: Creation complete after 0s [id=arn:cluster]");
    }

    /** The Applier's operation, and terraform's words for it when it starts and ends. */
    static Stream<Arguments> operations() {
        return Stream.of(
            Arguments.of(Action.CREATE, "create", null, "bucket.data: Creating... (1/2)", "bucket.data: Creation complete after 3s [id=b-1]"),
            Arguments.of(Action.UPDATE, "update", "b-1", "bucket.data: Modifying... [id=b-1] (1/2)", "bucket.data: Modifications complete after 3s [id=b-1]"),
            Arguments.of(Action.REPLACE, "delete", "b-1", "bucket.data: Destroying... [id=b-1] (1/2)", "bucket.data: Destruction complete after 3s [id=b-1]"),
            Arguments.of(Action.IMPORT, "import", "b-1", "bucket.data: Importing... [id=b-1] (1/2)", "bucket.data: Import complete after 3s [id=b-1]"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("operations")
    void eachOperationSaysWhatItDoes(Action action, String op, String id, String started, String finished) {
        StringWriter out = new StringWriter();
        ApplyListener.Step step = new ApplyListener.Step(Address.parse("bucket.data"), action, op, id);
        // The ticker never fires within the test: only the two lines are written.
        try (ConsoleProgress p = new ConsoleProgress(new PrintWriter(out, true), plan -> { }, Clock.systemUTC(), Duration.ofHours(1))) {
            p.started(step, 1, 2);
            p.finished(step, 1, 2, "b-1", Duration.ofSeconds(3));
        }
        assertThat(out.toString()).isEqualTo(started + "\n" + finished + "\n");
    }
}
