package io.mlctl.cost.update;

import io.mlctl.MlctlException;
import io.mlctl.catalog.Catalog;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceFile;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code mlctl prices update}: asks each provider's price source for today's prices of everything the
 * catalogs and the current prices know, and writes one file per provider in the format the jar ships.
 * Every source is read before any file is written, and each file replaces the old one in one atomic
 * move, so a failure (offline, an unreadable answer) leaves the directory as it was.
 */
public final class PricesUpdater {
    /** What a refresh did for one provider: the rows taken today, and the ones kept from before because the source had no price for them. */
    public record Result(Provider provider, String source, Path file, int updated, List<PriceRow.Key> kept) {
        public Result {
            kept = List.copyOf(kept);
        }
    }

    private final Catalog catalog;
    private final PriceCatalog current;
    private final Map<Provider, PriceSource> sources;

    public PricesUpdater(Catalog catalog, PriceCatalog current, Map<Provider, PriceSource> sources) {
        this.catalog = catalog;
        this.current = current;
        this.sources = Map.copyOf(sources);
    }

    public List<Result> update(List<Provider> providers, Path dir, LocalDate today) {
        Map<Provider, List<PriceRow>> files = new LinkedHashMap<>();
        List<Result> results = new ArrayList<>();
        for (Provider p : providers) Objects.requireNonNull(sources.get(p), "no price source for " + p.id()).prepare();
        for (Provider p : providers) {
            PriceSource source = sources.get(p);
            Wanted wanted = Wanted.of(p, catalog, current);
            List<PriceRow> fetched = source.fetch(wanted, today);
            if (fetched.isEmpty()) {
                throw new PriceSourceException(source.name(), "no prices found in the answer (has its format changed?); nothing was written");
            }
            List<PriceRow.Key> kept = new ArrayList<>();
            files.put(p, merge(wanted, fetched, current.rows(p), kept));
            results.add(new Result(p, source.name(), dir.resolve(p.id() + ".json"), fetched.size(), kept));
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new MlctlException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        for (Map.Entry<Provider, List<PriceRow>> f : files.entrySet()) {
            writeAtomically(dir.resolve(f.getKey().id() + ".json"), PriceFile.write(f.getKey(), f.getValue()));
        }
        return results;
    }

    /**
     * Today's rows over the current ones: the default region's prices become the {@code *} rows; another
     * region gets a row only where its prices differ from those. A spot price the source does not sell
     * (AWS's Price List has none) is kept from the current row with its own source and date, and a region
     * that would get a row without the spot price the default row has is left to the default row. A current
     * row the source had nothing for is kept as it was, and listed in {@code kept}.
     */
    static List<PriceRow> merge(Wanted wanted, List<PriceRow> fetched, List<PriceRow> currentRows, List<PriceRow.Key> kept) {
        Map<PriceRow.Key, PriceRow> old = new TreeMap<>();
        currentRows.forEach(r -> old.put(r.key(), r));
        List<PriceRow> ordered = new ArrayList<>(fetched);
        // Defaults first: a regional row is compared with the default row of its name.
        ordered.sort((a, b) -> Boolean.compare(!a.region().equals(wanted.defaultRegion()), !b.region().equals(wanted.defaultRegion())));
        Map<PriceRow.Key, PriceRow> out = new TreeMap<>();
        Set<PriceRow.Key> covered = new TreeSet<>();
        for (PriceRow r : ordered) {
            boolean dflt = r.region().equals(wanted.defaultRegion());
            PriceRow.Key key = dflt ? new PriceRow.Key(r.kind(), r.name(), PriceRow.ANY_REGION) : r.key();
            covered.add(key);
            PriceRow row = dflt ? at(r, PriceRow.ANY_REGION) : r;
            if (row.kind().hourly() && row.spotPerHour() == null) row = row.withSpotFrom(old.get(key));
            if (!dflt) {
                PriceRow base = out.get(new PriceRow.Key(r.kind(), r.name(), PriceRow.ANY_REGION));
                if (base != null && samePrices(row, base)) continue;
                if (base != null && base.spotPerHour() != null && row.spotPerHour() == null && !old.containsKey(key)) continue;
            }
            out.put(key, row);
        }
        for (PriceRow r : currentRows) {
            if (covered.contains(r.key())) continue;
            out.put(r.key(), r);
            kept.add(r.key());
        }
        return List.copyOf(out.values());
    }

    private static boolean samePrices(PriceRow a, PriceRow b) {
        return Objects.equals(a.onDemandPerHour(), b.onDemandPerHour()) && Objects.equals(a.spotPerHour(), b.spotPerHour())
            && Objects.equals(a.perGbMonth(), b.perGbMonth());
    }

    private static PriceRow at(PriceRow r, String region) {
        return new PriceRow(r.kind(), r.name(), region, r.onDemandPerHour(), r.spotPerHour(), r.perGbMonth(), r.source(), r.date(),
            r.spotSource(), r.spotDate());
    }

    /** A temporary file beside the target, forced to disk, then moved over it in one step: readers see the old file or the new one. */
    static void writeAtomically(Path target, String text) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ch.write(StandardCharsets.UTF_8.encode(text));
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new MlctlException("cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the error above is the one to report
                }
            }
        }
    }
}
