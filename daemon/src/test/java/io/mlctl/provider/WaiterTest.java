package io.mlctl.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaiterTest {
    private final List<Duration> slept = new ArrayList<>();
    private final Waiter waiter = new Waiter(Duration.ofSeconds(15), Duration.ofHours(1), slept::add);

    @Test
    void waitsThroughPendingStatesUntilReady() {
        Iterator<Waiter.Status> states = List.of(Waiter.Status.pending("Creating"), Waiter.Status.pending("Creating"),
            Waiter.Status.ready("InService")).iterator();
        assertThat(waiter.until("endpoint dev-ep", states::next).state()).isEqualTo("InService");
        assertThat(slept).hasSize(2);
    }

    @Test
    void aTerminalFailureIsOneErrorWithTheCloudsReasonNeverRetried() {
        Iterator<Waiter.Status> states = List.of(Waiter.Status.pending("Creating"),
            Waiter.Status.failed("Failed", "image not found")).iterator();
        assertThatThrownBy(() -> waiter.until("SageMaker endpoint dev-ep", states::next))
            .isInstanceOfSatisfying(DriverException.class, e -> assertThat(e.retryable()).isFalse())
            .hasMessage("SageMaker endpoint dev-ep is Failed: image not found");
    }

    @Test
    void aTimeoutNamesTheResourceAndItsLastState() {
        Waiter quick = new Waiter(Duration.ofMillis(1), Duration.ZERO, d -> { });
        assertThatThrownBy(() -> quick.until("node group gpu", () -> Waiter.Status.pending("CREATING")))
            .isInstanceOfSatisfying(DriverException.class, e -> assertThat(e.retryable()).isFalse())
            .hasMessageContaining("waiting for node group gpu (last state CREATING)");
    }
}
