package io.mlctl.fake.azure;

import java.util.List;

/** The fake's ARM types for this service (see {@link ArmType}). */
final class ComputeTypes {
    private ComputeTypes() {
    }

    static List<ArmType> all() {
        return List.of();
    }
}
