package io.mlctl.placement;

import io.mlctl.MlctlException;
import io.mlctl.catalog.Catalog;
import io.mlctl.cost.CostModel;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.Placement;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Resolves {@code machineType: auto} before planning: each instance, node pool or inference endpoint that asks for an accelerator
 * gets the cheapest machine type of the environment's cloud and region that carries at least that many of it (spot or on-demand
 * as the resource asks), from the catalog's GPU machine types and the price catalog. A resource that exists keeps the machine type
 * it runs on while that carries the accelerator (a price change alone never moves it); {@code replace} (a person's
 * {@code --replace-placement}) re-resolves those too. A pure function of catalog, prices, spec and inventory.
 */
public final class Placements {
    private final Catalog catalog;
    private final PriceCatalog prices;

    public Placements(Catalog catalog, PriceCatalog prices) {
        this.catalog = catalog;
        this.prices = prices;
    }

    /** The environment with concrete machine types, and how each was chosen (in the spec's order). */
    public record Resolution(Environment environment, List<Placement> placements) {
        public Resolution {
            placements = List.copyOf(placements);
        }
    }

    /** No machine type of the cloud and region carrying the accelerator has a price: nothing to choose by. */
    public static final class PlacementException extends MlctlException {
        private final Address address;

        public PlacementException(Address address, String message) {
            this(address, null, message);
        }

        /** At the resource's {@code file:line:col} in the spec, when known. */
        public PlacementException(Address address, io.mlctl.spec.SourcePosition at, String message) {
            super((at == null ? "" : at + ": ") + address + ": " + message);
            this.address = address;
        }

        public Address address() {
            return address;
        }
    }

    /** Whether any resource of {@code env} asks for {@code machineType: auto}. */
    public static boolean asks(Environment env) {
        for (ResourceSpec r : env.resources()) {
            if (auto(r.attributes())) return true;
            if (r.attributes().get("nodePools") instanceof List<?> pools && pools.stream().anyMatch(p -> p instanceof Map<?, ?> m && auto(m))) return true;
        }
        return false;
    }

    private static boolean auto(Map<?, ?> attributes) {
        return Catalog.AUTO.equals(attributes.get("machineType"));
    }

    public Resolution resolve(Environment env, Inventory inventory, boolean replace) {
        if (!asks(env)) return new Resolution(env, List.of());
        List<ResourceSpec> resources = new ArrayList<>();
        List<Placement> placements = new ArrayList<>();
        for (ResourceSpec r : env.resources()) {
            Optional<Map<String, Object>> observed = observed(inventory, r.address()).map(ObservedResource::attributes);
            Map<String, Object> attrs = new TreeMap<>(r.attributes());
            switch (r.address().type()) {
                case INSTANCE, INFERENCE_ENDPOINT -> {
                    if (!auto(attrs)) break;
                    boolean endpoint = r.address().type() == ResourceType.INFERENCE_ENDPOINT;
                    Resolved x = choose(env, r.address(), "machineType", attrs, observed, !endpoint && bool(attrs.get("spot")), endpoint,
                        endpoint ? "replica" : "instance", replace);
                    attrs = x.attributes();
                    placements.add(x.placement());
                }
                case KUBERNETES_CLUSTER -> {
                    if (!(attrs.get("nodePools") instanceof List<?> pools)) break;
                    List<Object> out = new ArrayList<>();
                    for (Object o : pools) {
                        if (!(o instanceof Map<?, ?> m) || !auto(m)) {
                            out.add(o);
                            continue;
                        }
                        @SuppressWarnings("unchecked") Map<String, Object> pool = (Map<String, Object>) m;
                        String name = String.valueOf(pool.get("name"));
                        Optional<Map<String, Object>> live = observed.flatMap(a -> pool(a, name));
                        Resolved x = choose(env, r.address(), "nodePools[" + name + "].machineType", pool, live, bool(pool.get("spot")), false, "node", replace);
                        out.add(x.attributes());
                        placements.add(x.placement());
                    }
                    attrs.put("nodePools", out);
                }
                default -> { }
            }
            resources.add(attrs.equals(r.attributes()) ? r : new ResourceSpec(r.address(), attrs, r.dependencies(), r.position()));
        }
        Environment resolved = new Environment(env.name(), env.labels(), env.provider(), env.region(), env.account(), env.resourceGroup(),
            env.applyMode(), env.selfHeal(), env.massDeleteAllowance(), resources, env.imports(), env.position());
        return new Resolution(resolved, placements);
    }

    private record Resolved(Map<String, Object> attributes, Placement placement) {
    }

    /** A resource the environment owns, or one its import list takes over: either runs on a machine type already. */
    private static Optional<ObservedResource> observed(Inventory inventory, Address address) {
        return inventory.get(address).or(() -> Optional.ofNullable(inventory.importing().get(address)));
    }

    @SuppressWarnings("unchecked")
    /** Whether the running machine has the option's accelerator attached, of its type and count. */
    private static boolean attachedAsObserved(Map<String, Object> observed, Placement.Option o) {
        if (!(observed.get("accelerator") instanceof Map<?, ?> a)) return false;
        int count = a.get("count") instanceof Number n ? n.intValue() : 1;
        return String.valueOf(a.get("type")).equals(o.attached().orElseThrow()) && count == o.count();
    }

    private static Optional<Map<String, Object>> pool(Map<String, Object> cluster, String name) {
        if (!(cluster.get("nodePools") instanceof List<?> pools)) return Optional.empty();
        return pools.stream().filter(p -> p instanceof Map<?, ?> m && name.equals(m.get("name"))).map(p -> (Map<String, Object>) p).findFirst();
    }

    private Resolved choose(Environment env, Address address, String path, Map<String, Object> attrs, Optional<Map<String, Object>> observed,
                            boolean spot, boolean endpoint, String unit, boolean replace) {
        Map<?, ?> acc = (Map<?, ?>) attrs.get("accelerator");
        String type = String.valueOf(acc.get("type"));
        int count = acc.get("count") instanceof Number n ? n.intValue() : 1;
        Catalog.ProviderCatalog cat = catalog.of(env.provider());
        List<Placement.Option> options = new ArrayList<>();
        for (Catalog.GpuMachine m : cat.gpuMachines(type, count, endpoint)) {
            options.add(new Placement.Option(m.machineType(), m.attached(), m.acceleratorType(), m.count(),
                monthly(env.provider(), env.region(), m, spot, endpoint)));
        }
        // Cheapest first; at one price, fewer GPUs, then by name, so that the choice never depends on catalog order.
        options.sort(Comparator.comparing((Placement.Option o) -> o.monthly().orElse(Double.MAX_VALUE)).thenComparingInt(Placement.Option::count)
            .thenComparing(Placement.Option::describe));
        List<Placement.Option> priced = options.stream().filter(o -> o.monthly().isPresent()).toList();
        String what = count + "× " + type;
        String where = env.provider().id() + " " + env.region();
        String mode = spot ? "spot" : "on-demand";
        Optional<String> running = observed.map(o -> o.get("machineType")).filter(String.class::isInstance).map(String.class::cast);
        // Kept only when what runs gives what is asked: on GCP the accelerator attached to it counts, not the machine type alone.
        Optional<Placement.Option> current = running.flatMap(t -> options.stream()
            .filter(o -> o.machineType().equals(t) && (o.attached().isEmpty() || attachedAsObserved(observed.get(), o))).findFirst());
        Placement.Option chosen;
        Placement.Choice choice;
        String reason;
        if (current.isPresent() && !replace) {
            chosen = current.get();
            choice = Placement.Choice.KEPT;
            reason = "kept: it runs on " + chosen.machineType() + ", which still gives " + what
                + "; a price change alone does not move it (plan --replace-placement re-resolves)";
        } else {
            if (priced.isEmpty()) {
                throw new PlacementException(address, env.resource(address.resource()).map(io.mlctl.spec.ResourceSpec::position).orElse(null),
                    "machineType: auto found no " + mode + " price for any " + where + " machine type with " + what
                    + (options.isEmpty() ? "" : " (" + String.join(", ", options.stream().map(Placement.Option::describe).toList()) + " have none)"));
            }
            chosen = priced.get(0);
            String cheapest = "the cheapest " + mode + " of " + priced.size() + " " + where + " machine type" + (priced.size() == 1 ? "" : "s")
                + " with " + what;
            if (running.isPresent() && replace) {
                choice = Placement.Choice.REPLACED;
                reason = "re-placed as asked (--replace-placement): " + cheapest;
            } else {
                choice = Placement.Choice.CHEAPEST;
                reason = running.map(t -> t + ", which it runs on, does not give " + what + ": ").orElse("") + cheapest;
            }
        }
        Placement.Option picked = chosen;
        List<Placement.Option> alternatives = priced.stream().filter(o -> !o.equals(picked)).toList();
        Map<String, Object> out = new TreeMap<>(attrs);
        out.put("machineType", chosen.machineType());
        // The cloud gets its own accelerator name where one is attached (GCP); elsewhere the GPU comes with the machine type.
        if (chosen.attached().isPresent()) out.put("accelerator", Map.of("type", chosen.attached().get(), "count", (long) chosen.count()));
        else out.remove("accelerator");
        return new Resolved(out, new Placement(address, path, choice, chosen, spot, unit, reason, alternatives));
    }

    /** One machine (with what is attached to it) for a month, as {@link CostModel} prices it; empty without a price. */
    private Optional<Double> monthly(Provider provider, String region, Catalog.GpuMachine m, boolean spot, boolean endpoint) {
        Optional<Double> machine = hourly(provider, endpoint ? PriceKind.ENDPOINT : PriceKind.MACHINE, m.machineType(), region, spot);
        if (machine.isEmpty()) return Optional.empty();
        double perHour = machine.get();
        if (m.attached().isPresent()) {
            // Vertex AI bills an endpoint's accelerators as endpoint prices of their own (as CostModel does).
            Optional<Double> acc = hourly(provider, endpoint ? PriceKind.ENDPOINT : PriceKind.ACCELERATOR, m.attached().get(), region, spot);
            if (acc.isEmpty()) return Optional.empty();
            perHour += acc.get() * m.count();
        }
        return Optional.of(Math.round(perHour * CostModel.HOURS_PER_MONTH * 100) / 100.0);
    }

    private Optional<Double> hourly(Provider provider, PriceKind kind, String name, String region, boolean spot) {
        Optional<PriceRow> row = prices.find(provider, kind, name, region);
        return row.map(r -> spot ? r.spotPerHour() : r.onDemandPerHour());
    }

    private static boolean bool(Object o) {
        return Boolean.TRUE.equals(o);
    }
}
