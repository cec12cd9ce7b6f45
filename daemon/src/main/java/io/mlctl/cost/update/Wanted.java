package io.mlctl.cost.update;

import io.mlctl.catalog.Catalog;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a refresh asks a price source for: the provider's catalog (machine types with their shapes,
 * endpoint types, accelerators, regions) and the names the current prices have (storage classes, disk
 * types, control plane tiers, which no catalog lists). {@code defaultRegion}'s prices become the rows for
 * every region ({@code *}); {@code pricedRegions} are the regions that already have rows of their own.
 */
public record Wanted(Provider provider, String defaultRegion, List<String> regions, Set<String> pricedRegions,
                     Map<String, Catalog.MachineType> machines, Map<String, Catalog.MachineType> endpoints,
                     Map<String, Catalog.Accelerator> accelerators, Set<String> storage, Set<String> clusters) {
    public Wanted {
        regions = List.copyOf(regions);
        pricedRegions = Set.copyOf(pricedRegions);
        machines = Map.copyOf(machines);
        endpoints = Map.copyOf(endpoints);
        accelerators = Map.copyOf(accelerators);
        storage = Set.copyOf(storage);
        clusters = Set.copyOf(clusters);
    }

    /** The region whose prices are each provider's defaults: the shipped {@code *} rows are taken there. */
    public static String defaultRegion(Provider p) {
        return switch (p) {
            case AWS -> "us-east-1";
            case GCP -> "us-central1";
            case AZURE -> "eastus";
        };
    }

    public static Wanted of(Provider p, Catalog catalog, PriceCatalog current) {
        Catalog.ProviderCatalog cat = catalog.of(p);
        Set<String> storage = new TreeSet<>();
        Set<String> clusters = new TreeSet<>();
        Set<String> priced = new TreeSet<>();
        for (PriceRow r : current.rows(p)) {
            if (r.kind() == PriceKind.STORAGE) storage.add(r.name());
            if (r.kind() == PriceKind.CLUSTER) clusters.add(r.name());
            if (!r.region().equals(PriceRow.ANY_REGION)) priced.add(r.region());
        }
        List<String> regions = new ArrayList<>(new LinkedHashSet<>(cat.regions().keySet()));
        String dflt = defaultRegion(p);
        regions.remove(dflt);
        regions.add(0, dflt);
        return new Wanted(p, dflt, regions, priced, cat.machineTypes(), cat.endpointMachineTypes(), cat.accelerators(), storage, clusters);
    }
}
