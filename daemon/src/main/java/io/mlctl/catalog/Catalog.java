package io.mlctl.catalog;

import io.mlctl.MlctlException;
import io.mlctl.spec.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * What each cloud offers: regions and zones, machine types (with GPUs and on-demand prices),
 * endpoint machine types, attachable accelerators, Kubernetes versions. Shipped as data files under
 * {@code catalog/} so they can be updated without code changes.
 */
public final class Catalog {
    /** The machine type that asks mlctl for the cheapest one carrying the resource's accelerator (see {@link ProviderCatalog#gpuMachines}). */
    public static final String AUTO = "auto";

    public record MachineType(String name, int vcpus, double memoryGb, int gpus, String gpu, double pricePerHour) {
    }

    /**
     * An accelerator attached to a machine (GCP): the machine families it attaches to and, per count it can be attached in, the
     * most vCPUs a machine may have with that many ({@code maxVcpusByCount}, sorted by count; empty when the catalog does not say).
     */
    public record Accelerator(String name, String gpu, double pricePerHour, List<String> machineFamilies, java.util.SortedMap<Integer, Integer> maxVcpusByCount) {
        public Accelerator {
            machineFamilies = List.copyOf(machineFamilies);
            maxVcpusByCount = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(maxVcpusByCount));
        }

        public Accelerator(String name, String gpu, double pricePerHour, List<String> machineFamilies) {
            this(name, gpu, pricePerHour, machineFamilies, new java.util.TreeMap<>());
        }

        /** Whether it attaches to {@code machineType}. */
        public boolean attachesTo(String machineType) {
            return machineFamilies.stream().anyMatch(machineType::startsWith);
        }
    }

    /**
     * One way to get GPUs of a type on a provider, the cross-cloud view {@code machineType: auto} chooses from: a machine type
     * that carries them (AWS p3.2xlarge, Azure Standard_NC6s_v3, GCP a2-highgpu-1g), or a machine type with {@code count} of
     * the provider's accelerator {@code attached} (GCP n1-standard-8 + nvidia-tesla-v100).
     *
     * @param acceleratorType the cross-cloud name of the GPU ({@code nvidia-v100}), see {@link #acceleratorType(String)}
     */
    public record GpuMachine(String machineType, String acceleratorType, int count, java.util.Optional<String> attached, int vcpus, double memoryGb) {
        /** "p3.2xlarge (1× nvidia-v100, 8 vCPU, 61 GB)", "n1-standard-8 + 1× nvidia-tesla-v100 (8 vCPU, 30 GB)". */
        public String describe() {
            String shape = vcpus > 0 ? vcpus + " vCPU, " + (memoryGb == Math.rint(memoryGb) ? Long.toString((long) memoryGb) : Double.toString(memoryGb)) + " GB" : "";
            return attached.map(a -> machineType + " + " + count + "× " + a + (shape.isEmpty() ? "" : " (" + shape + ")"))
                .orElse(machineType + " (" + count + "× " + acceleratorType + (shape.isEmpty() ? "" : ", " + shape) + ")");
        }
    }

    /** The cross-cloud name of a GPU model the catalogs name in {@code gpu}: V100 is {@code nvidia-v100}, A10G {@code nvidia-a10g}. */
    public static String acceleratorType(String gpu) {
        return "nvidia-" + gpu.toLowerCase(java.util.Locale.ROOT);
    }

    public record ProviderCatalog(
        Provider provider,
        Map<String, List<String>> regions,
        Map<String, MachineType> machineTypes,
        Map<String, MachineType> endpointMachineTypes,
        Map<String, Accelerator> accelerators,
        List<String> kubernetesVersions,
        List<String> modelUriSchemes) {

        /**
         * The cross-cloud accelerator types this provider offers, for machines or (with {@code endpoint}) inference endpoints,
         * sorted; the provider's own accelerator names (GCP's {@code nvidia-tesla-v100}) are accepted too, see {@link #gpuModel}.
         */
        public java.util.SortedSet<String> acceleratorTypes(boolean endpoint) {
            java.util.SortedSet<String> out = new java.util.TreeSet<>();
            (endpoint ? endpointMachineTypes : machineTypes).values().stream().filter(m -> m.gpus() > 0 && !m.gpu().isEmpty())
                .forEach(m -> out.add(acceleratorType(m.gpu())));
            accelerators.values().forEach(a -> out.add(acceleratorType(a.gpu())));
            return out;
        }

        /** The GPU model ({@code V100}) an accelerator type names, cross-cloud ({@code nvidia-v100}) or the provider's own; empty when unknown. */
        public java.util.Optional<String> gpuModel(String type, boolean endpoint) {
            if (accelerators.containsKey(type)) return java.util.Optional.of(accelerators.get(type).gpu());
            java.util.Set<String> known = acceleratorTypes(endpoint);
            if (!known.contains(type)) return java.util.Optional.empty();
            java.util.stream.Stream<String> gpus = java.util.stream.Stream.concat(
                (endpoint ? endpointMachineTypes : machineTypes).values().stream().map(MachineType::gpu), accelerators.values().stream().map(Accelerator::gpu));
            return gpus.filter(g -> !g.isEmpty() && acceleratorType(g).equals(type)).findFirst();
        }

        /**
         * Every machine type (for endpoints, endpoint machine type) that gives at least {@code count} GPUs of {@code type}: those
         * that carry them, and those an accelerator of that GPU attaches to, with the fewest of it that is at least {@code count}
         * and that the machine's vCPUs allow. In catalog order; empty for an unknown type.
         */
        public List<GpuMachine> gpuMachines(String type, int count, boolean endpoint) {
            java.util.Optional<String> gpu = gpuModel(type, endpoint);
            if (gpu.isEmpty()) return List.of();
            String canonical = acceleratorType(gpu.get());
            Map<String, MachineType> machines = endpoint ? endpointMachineTypes : machineTypes;
            List<GpuMachine> out = new ArrayList<>();
            for (MachineType m : machines.values()) {
                // Endpoint types list no shape of their own; a machine type of the same name has it.
                MachineType shape = m.vcpus() > 0 ? m : machineTypes.getOrDefault(m.name(), m);
                if (m.gpus() > 0) {
                    if (m.gpu().equals(gpu.get()) && m.gpus() >= count) {
                        out.add(new GpuMachine(m.name(), canonical, m.gpus(), java.util.Optional.empty(), shape.vcpus(), shape.memoryGb()));
                    }
                    continue;
                }
                for (Accelerator a : accelerators.values()) {
                    if (!a.gpu().equals(gpu.get()) || !a.attachesTo(m.name())) continue;
                    java.util.Optional<Integer> n = a.maxVcpusByCount().isEmpty() ? java.util.Optional.of(count)
                        : a.maxVcpusByCount().entrySet().stream().filter(e -> e.getKey() >= count && (shape.vcpus() == 0 || shape.vcpus() <= e.getValue()))
                            .map(Map.Entry::getKey).findFirst();
                    n.ifPresent(c -> out.add(new GpuMachine(m.name(), canonical, c, java.util.Optional.of(a.name()), shape.vcpus(), shape.memoryGb())));
                }
            }
            return List.copyOf(out);
        }

        /** The most GPUs of {@code type} one machine (or endpoint machine) can have here: 0 when none. */
        public int maxGpus(String type, boolean endpoint) {
            int most = gpuMachines(type, 1, endpoint).stream().mapToInt(GpuMachine::count).max().orElse(0);
            java.util.Optional<String> gpu = gpuModel(type, endpoint);
            for (Accelerator a : accelerators.values()) {
                if (gpu.isPresent() && a.gpu().equals(gpu.get()) && !a.maxVcpusByCount().isEmpty()) most = Math.max(most, a.maxVcpusByCount().lastKey());
            }
            return most;
        }
    }

    /**
     * Where a provider's catalog came from and the day its data was last checked against the cloud
     * (the file's {@code date}, updated with the data), for {@code mlctl version}.
     */
    public record Info(Provider provider, String source, java.time.LocalDate date) {
    }

    private final Map<Provider, ProviderCatalog> catalogs;
    private final List<Info> infos;

    private Catalog(Map<Provider, ProviderCatalog> catalogs, List<Info> infos) {
        this.catalogs = catalogs;
        this.infos = List.copyOf(infos);
    }

    public static Catalog loadDefault() {
        ObjectMapper mapper = JsonMapper.builder().build();
        Map<Provider, ProviderCatalog> m = new EnumMap<>(Provider.class);
        List<Info> infos = new ArrayList<>();
        for (Provider p : Provider.values()) {
            String resource = "/catalog/" + p.id() + ".json";
            try (InputStream in = Catalog.class.getResourceAsStream(resource)) {
                if (in == null) throw new MlctlException("catalog " + resource + " is missing from the build");
                JsonNode root = mapper.readTree(in);
                m.put(p, parse(p, root));
                infos.add(new Info(p, "built-in:catalog/" + p.id() + ".json", date(resource, root)));
            } catch (IOException e) {
                throw new MlctlException("cannot read catalog " + resource + ": " + e.getMessage(), e);
            }
        }
        return new Catalog(m, infos);
    }

    /** Each catalog's source and date, in provider order. */
    public List<Info> infos() {
        return infos;
    }

    private static java.time.LocalDate date(String resource, JsonNode root) {
        String d = root.path("date").asString("");
        try {
            return java.time.LocalDate.parse(d);
        } catch (java.time.format.DateTimeParseException e) {
            throw new MlctlException("catalog " + resource + " has no valid date (YYYY-MM-DD): '" + d + "'");
        }
    }

    public ProviderCatalog of(Provider p) {
        return catalogs.get(p);
    }

    private static ProviderCatalog parse(Provider p, JsonNode root) {
        Map<String, List<String>> regions = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.get("regions").properties()) {
            List<String> zones = new ArrayList<>();
            e.getValue().forEach(z -> zones.add(z.asString()));
            regions.put(e.getKey(), List.copyOf(zones));
        }
        Map<String, Accelerator> accelerators = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.path("accelerators").properties()) {
            List<String> families = new ArrayList<>();
            e.getValue().path("machineFamilies").forEach(f -> families.add(f.asString()));
            java.util.SortedMap<Integer, Integer> maxVcpus = new java.util.TreeMap<>();
            e.getValue().path("maxVcpusByCount").properties().forEach(c -> maxVcpus.put(Integer.parseInt(c.getKey()), c.getValue().asInt()));
            accelerators.put(e.getKey(), new Accelerator(e.getKey(), e.getValue().path("gpu").asString(""),
                e.getValue().path("pricePerHour").asDouble(0), families, maxVcpus));
        }
        List<String> versions = new ArrayList<>();
        root.path("kubernetesVersions").forEach(v -> versions.add(v.asString()));
        List<String> schemes = new ArrayList<>();
        root.path("modelUriSchemes").forEach(v -> schemes.add(v.asString()));
        return new ProviderCatalog(p, java.util.Collections.unmodifiableMap(regions), machines(root.get("machineTypes")),
            machines(root.get("endpointMachineTypes")), java.util.Collections.unmodifiableMap(accelerators), List.copyOf(versions), List.copyOf(schemes));
    }

    private static Map<String, MachineType> machines(JsonNode node) {
        Map<String, MachineType> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            JsonNode v = e.getValue();
            m.put(e.getKey(), new MachineType(e.getKey(), v.path("vcpus").asInt(0), v.path("memoryGb").asDouble(0),
                v.path("gpus").asInt(0), v.path("gpu").asString(""), v.path("pricePerHour").asDouble(0)));
        }
        return java.util.Collections.unmodifiableMap(m);
    }
}
