package io.mlctl.cost;

import java.time.LocalDate;
import java.util.Objects;

/**
 * One price: what it prices ({@code kind}, {@code name}), where ({@code region}, {@code *} for every region
 * without a row of its own), in USD, and where and when it was taken. Hourly kinds carry
 * {@code onDemandPerHour} and, when the cloud sells it, {@code spotPerHour}; storage carries {@code perGbMonth}.
 * A spot price from another source than the on-demand one (AWS: the Price List has no spot prices) says so in
 * {@code spotSource} and {@code spotDate}.
 */
public record PriceRow(PriceKind kind, String name, String region, Double onDemandPerHour, Double spotPerHour, Double perGbMonth,
                       String source, LocalDate date, String spotSource, LocalDate spotDate) {
    public static final String ANY_REGION = "*";

    public PriceRow {
        Objects.requireNonNull(kind, "kind");
        if (name == null || name.isBlank()) throw new IllegalArgumentException("a price row needs a name");
        if (region == null || region.isBlank()) throw new IllegalArgumentException("price of " + name + " needs a region ('*' for the default)");
        if (source == null || source.isBlank()) throw new IllegalArgumentException("price of " + name + " needs a source");
        Objects.requireNonNull(date, "price of " + name + " needs a date");
        if (kind.hourly() && onDemandPerHour == null) throw new IllegalArgumentException(kind.id() + " " + name + " needs onDemandPerHour");
        if (!kind.hourly() && perGbMonth == null) throw new IllegalArgumentException("storage " + name + " needs perGbMonth");
        for (Double d : new Double[] {onDemandPerHour, spotPerHour, perGbMonth}) {
            if (d != null && (d < 0 || d.isNaN() || d.isInfinite())) throw new IllegalArgumentException("price of " + name + " must be a non-negative number");
        }
        if ((spotSource == null) != (spotDate == null)) throw new IllegalArgumentException("price of " + name + ": spotSource and spotDate go together");
    }

    /** An hourly price (on-demand, and spot when known) taken from one source. */
    public static PriceRow hourly(PriceKind kind, String name, String region, double onDemand, Double spot, String source, LocalDate date) {
        return new PriceRow(kind, name, region, onDemand, spot, null, source, date, null, null);
    }

    public static PriceRow storage(String name, String region, double perGbMonth, String source, LocalDate date) {
        return new PriceRow(PriceKind.STORAGE, name, region, null, null, perGbMonth, source, date, null, null);
    }

    /** The identity of a row in its provider's file: one price per kind, name and region. */
    public Key key() {
        return new Key(kind, name, region);
    }

    public record Key(PriceKind kind, String name, String region) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = kind.compareTo(o.kind);
            if (c == 0) c = name.compareTo(o.name);
            return c != 0 ? c : region.compareTo(o.region);
        }

        @Override
        public String toString() {
            return kind.id() + " " + name + (ANY_REGION.equals(region) ? "" : " in " + region);
        }
    }

    /** Where the spot price came from: its own source when it has one, else the row's. */
    public String spotSourceOrSource() {
        return spotSource != null ? spotSource : source;
    }

    public LocalDate spotDateOrDate() {
        return spotDate != null ? spotDate : date;
    }

    /** This row with a spot price kept from an older row (a source without spot prices), which keeps its own source and date. */
    public PriceRow withSpotFrom(PriceRow older) {
        if (older == null || older.spotPerHour() == null) return this;
        return new PriceRow(kind, name, region, onDemandPerHour, older.spotPerHour(), perGbMonth, source, date,
            older.spotSourceOrSource(), older.spotDateOrDate());
    }
}
