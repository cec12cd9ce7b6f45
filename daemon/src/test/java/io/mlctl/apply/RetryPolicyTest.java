package io.mlctl.apply;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.provider.DriverException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    final List<Duration> slept = new ArrayList<>();
    final RetryPolicy policy = new RetryPolicy(4, Duration.ofMillis(100), Duration.ofMillis(250), slept::add, new Random(1));

    @Test
    void delaysGrowExponentiallyUnderTheCapWithJitter() {
        for (int attempt = 1; attempt <= 6; attempt++) {
            long ceiling = Math.min(250, 100L << (attempt - 1));
            for (int i = 0; i < 200; i++) assertThat(policy.delay(attempt).toMillis()).isBetween(0L, ceiling);
        }
        long distinct = java.util.stream.IntStream.range(0, 50).mapToObj(i -> policy.delay(3)).distinct().count();
        assertThat(distinct).as("jitter").isGreaterThan(10);
    }

    @Test
    void retriesRetryableErrorsUpToTheLimit() {
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> policy.run(() -> {
            calls.incrementAndGet();
            throw new DriverException("Throttling", true);
        }, (a, d, e) -> { })).hasMessage("Throttling");
        assertThat(calls.get()).isEqualTo(4);
        assertThat(slept).hasSize(3);
    }

    @Test
    void succeedsAfterTransientErrorsAndNeverRetriesPermanentOnes() {
        AtomicInteger calls = new AtomicInteger();
        String r = policy.run(() -> {
            if (calls.incrementAndGet() < 3) throw new DriverException("503", true);
            return "ok";
        }, (a, d, e) -> { });
        assertThat(r).isEqualTo("ok");
        AtomicInteger denied = new AtomicInteger();
        assertThatThrownBy(() -> policy.run(() -> {
            denied.incrementAndGet();
            throw new DriverException("AccessDenied", false);
        }, (a, d, e) -> { })).hasMessage("AccessDenied");
        assertThat(denied.get()).isEqualTo(1);
    }
}
