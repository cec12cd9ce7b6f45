package io.mlctl.cost;

import io.mlctl.MlctlException;
import io.mlctl.spec.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The prices of every provider: the files shipped in the jar ({@code prices/<provider>.json}), or the
 * file {@code mlctl prices update} wrote for a provider, with the jar's rows that are newer than it or
 * price something it does not know. A price is looked up by provider, kind, name and region, falling back
 * to the row for every region ({@code *}).
 */
public final class PriceCatalog {
    /** Where a provider's prices came from: the jar, or the jar and an override file, and the oldest and newest row dates. */
    public record Info(Provider provider, String origin, LocalDate oldest, LocalDate newest, int rows) {
    }

    private final Map<Provider, Map<PriceRow.Key, PriceRow>> rows;
    /** The same rows hashed, for {@link #find} (a plan looks up a price or two per resource). */
    private final Map<Provider, Map<PriceRow.Key, PriceRow>> byKey;
    private final List<Info> infos;

    private PriceCatalog(Map<Provider, Map<PriceRow.Key, PriceRow>> rows, Map<Provider, String> origins) {
        this.rows = rows;
        Map<Provider, Map<PriceRow.Key, PriceRow>> hashed = new EnumMap<>(Provider.class);
        rows.forEach((p, m) -> hashed.put(p, Map.copyOf(m)));
        this.byKey = hashed;
        List<Info> out = new ArrayList<>();
        for (Provider p : Provider.values()) {
            Map<PriceRow.Key, PriceRow> m = rows.getOrDefault(p, Map.of());
            LocalDate oldest = m.values().stream().map(PriceRow::date).min(Comparator.naturalOrder()).orElse(null);
            LocalDate newest = m.values().stream().map(PriceRow::date).max(Comparator.naturalOrder()).orElse(null);
            out.add(new Info(p, origins.getOrDefault(p, "none"), oldest, newest, m.size()));
        }
        this.infos = List.copyOf(out);
    }

    /** The prices shipped in the jar alone. */
    public static PriceCatalog shipped() {
        Map<Provider, String> origins = new EnumMap<>(Provider.class);
        Map<Provider, List<PriceRow>> m = new EnumMap<>(Provider.class);
        for (Provider p : Provider.values()) {
            m.put(p, shippedRows(p));
            origins.put(p, "built-in:" + resource(p).substring(1));
        }
        return new PriceCatalog(index(m), origins);
    }

    /** The shipped prices with the files in {@code overrideDir} over them (a missing directory or file overrides nothing). */
    public static PriceCatalog load(Path overrideDir) {
        if (overrideDir == null) return shipped();
        Map<Provider, Map<PriceRow.Key, PriceRow>> merged = new EnumMap<>(Provider.class);
        Map<Provider, String> origins = new EnumMap<>(Provider.class);
        for (Provider p : Provider.values()) {
            List<PriceRow> shipped = shippedRows(p);
            Map<PriceRow.Key, PriceRow> m = new TreeMap<>();
            String origin = "built-in:" + resource(p).substring(1);
            Path file = overrideDir.resolve(p.id() + ".json");
            if (Files.isRegularFile(file)) {
                String text;
                try {
                    text = Files.readString(file, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new MlctlException("cannot read prices file " + file + ": " + e.getMessage(), e);
                }
                List<PriceRow> refreshed = PriceFile.read(p, text, file.toString());
                refreshed.forEach(r -> m.put(r.key(), r));
                LocalDate refreshedOn = refreshed.stream().map(PriceRow::date).max(Comparator.naturalOrder()).orElse(LocalDate.MIN);
                java.util.Set<String> names = new java.util.HashSet<>();
                refreshed.forEach(r -> names.add(r.kind() + " " + r.name()));
                for (PriceRow s : shipped) {
                    PriceRow o = m.get(s.key());
                    // The file is the whole picture as of its refresh (a regional row it dropped stays dropped); the jar
                    // still wins with a newer price, and prices what the file does not know at all (a newer machine type).
                    boolean newer = o != null ? s.date().isAfter(o.date()) : s.date().isAfter(refreshedOn) || !names.contains(s.kind() + " " + s.name());
                    if (newer) m.put(s.key(), s);
                }
                origin = origin + " + " + file;
            } else {
                shipped.forEach(r -> m.put(r.key(), r));
            }
            merged.put(p, Collections.unmodifiableMap(m));
            origins.put(p, origin);
        }
        return new PriceCatalog(merged, origins);
    }

    /** Rows given directly (tests, and the updater's view of what it just fetched). */
    public static PriceCatalog of(Map<Provider, List<PriceRow>> rows) {
        Map<Provider, String> origins = new EnumMap<>(Provider.class);
        rows.keySet().forEach(p -> origins.put(p, "given"));
        return new PriceCatalog(index(rows), origins);
    }

    /**
     * Where {@code mlctl prices update} writes and plan reads refreshed prices: {@code $XDG_CONFIG_HOME/mlctl/prices}
     * when that is set, else {@code ~/.config/mlctl/prices}.
     */
    public static Path defaultDir(Map<String, String> env) {
        String xdg = env.get("XDG_CONFIG_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) return Path.of(xdg, "mlctl", "prices");
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".config", "mlctl", "prices");
    }

    /** The price of {@code name} in {@code region}, else its price for every region; empty when there is neither. */
    public Optional<PriceRow> find(Provider provider, PriceKind kind, String name, String region) {
        Map<PriceRow.Key, PriceRow> m = byKey.getOrDefault(provider, Map.of());
        PriceRow r = region == null ? null : m.get(new PriceRow.Key(kind, name, region));
        if (r == null) r = m.get(new PriceRow.Key(kind, name, PriceRow.ANY_REGION));
        return Optional.ofNullable(r);
    }

    /** A provider's rows, sorted by kind, name and region. */
    public List<PriceRow> rows(Provider provider) {
        return List.copyOf(rows.getOrDefault(provider, Map.of()).values());
    }

    /** Per provider (in provider order): where its prices came from and how old they are. */
    public List<Info> infos() {
        return infos;
    }

    static String resource(Provider p) {
        return "/prices/" + p.id() + ".json";
    }

    private static List<PriceRow> shippedRows(Provider p) {
        String resource = resource(p);
        try (InputStream in = PriceCatalog.class.getResourceAsStream(resource)) {
            if (in == null) throw new MlctlException("prices " + resource + " are missing from the build");
            return PriceFile.read(p, new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in:" + resource.substring(1));
        } catch (IOException e) {
            throw new MlctlException("cannot read prices " + resource + ": " + e.getMessage(), e);
        }
    }

    private static Map<Provider, Map<PriceRow.Key, PriceRow>> index(Map<Provider, List<PriceRow>> rows) {
        Map<Provider, Map<PriceRow.Key, PriceRow>> out = new EnumMap<>(Provider.class);
        rows.forEach((p, list) -> {
            Map<PriceRow.Key, PriceRow> m = new TreeMap<>();
            for (PriceRow r : list) {
                if (m.put(r.key(), r) != null) throw new MlctlException(p.id() + " prices list " + r.key() + " twice");
            }
            out.put(p, Collections.unmodifiableMap(m));
        });
        return out;
    }
}
