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
    public record MachineType(String name, int vcpus, double memoryGb, int gpus, String gpu, double pricePerHour) {
    }

    public record Accelerator(String name, String gpu, double pricePerHour, List<String> machineFamilies) {
        public Accelerator {
            machineFamilies = List.copyOf(machineFamilies);
        }
    }

    public record ProviderCatalog(
        Provider provider,
        Map<String, List<String>> regions,
        Map<String, MachineType> machineTypes,
        Map<String, MachineType> endpointMachineTypes,
        Map<String, Accelerator> accelerators,
        List<String> kubernetesVersions,
        List<String> modelUriSchemes) {
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
            accelerators.put(e.getKey(), new Accelerator(e.getKey(), e.getValue().path("gpu").asString(""),
                e.getValue().path("pricePerHour").asDouble(0), families));
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
