package io.mlctl.spec;

import java.util.Locale;

/** The clouds mlctl drives. */
public enum Provider {
    AWS, GCP, AZURE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Provider of(String id) {
        return valueOf(id.toUpperCase(Locale.ROOT));
    }
}
