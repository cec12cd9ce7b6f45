package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.apply.ApplyListener;
import io.mlctl.plan.Action;
import io.mlctl.spec.Address;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

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
}
