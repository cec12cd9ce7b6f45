package io.mlctl.plan;

import io.mlctl.spec.Address;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * How one {@code machineType: auto} was resolved: the machine type chosen for {@code path} ({@code machineType}, or
 * {@code nodePools[gpu].machineType}) of {@code address}, why, and the other machine types that carry the accelerator, with
 * their monthly prices, cheapest first. Prices are for one {@code unit} (an instance, a node, a replica), on-demand or
 * {@code spot} as the resource asks. For people; apply never decides on it.
 */
public record Placement(Address address, String path, Choice choice, Option chosen, boolean spot, String unit, String reason,
                        List<Option> alternatives) {
    public Placement {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(choice, "choice");
        Objects.requireNonNull(chosen, "chosen");
        alternatives = List.copyOf(alternatives);
    }

    /** Why this machine type: the cheapest; the one the resource already runs on; or the cheapest because a person asked to re-place it. */
    public enum Choice {
        CHEAPEST, KEPT, REPLACED;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Choice of(String id) {
            return valueOf(id.toUpperCase(Locale.ROOT));
        }
    }

    /**
     * A machine type that gives {@code count} GPUs of the cross-cloud {@code accelerator} type: by itself, or with the provider's
     * accelerator {@code attached} (GCP). {@code monthly} is empty when the prices have none for it.
     */
    public record Option(String machineType, Optional<String> attached, String accelerator, int count, Optional<Double> monthly) {
        public Option {
            Objects.requireNonNull(attached, "attached");
            Objects.requireNonNull(monthly, "monthly");
        }

        /** "p3.2xlarge", "n1-standard-4 + 1× nvidia-tesla-v100". */
        public String describe() {
            return attached.map(a -> machineType + " + " + count + "× " + a).orElse(machineType);
        }
    }
}
