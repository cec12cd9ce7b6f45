package io.mlctl.cost.update;

import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.time.LocalDate;
import java.util.List;

/** A cloud's public price list, read over HTTP. */
public interface PriceSource {
    Provider provider();

    /** The name rows carry as their {@code source}, e.g. "Azure Retail Prices API". */
    String name();

    /** Checks what can fail before anything is downloaded (GCP's credentials), so a refresh fails fast. */
    default void prepare() {
    }

    /**
     * Today's prices of what is wanted, each row for an explicit region (never {@code *}); what the source
     * has no price for is simply absent. Unreachable or unreadable: a {@link PriceSourceException}.
     */
    List<PriceRow> fetch(Wanted wanted, LocalDate today);
}
