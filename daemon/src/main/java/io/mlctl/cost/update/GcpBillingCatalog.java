package io.mlctl.cost.update;

import io.mlctl.catalog.Catalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GCP's Cloud Billing Catalog API ({@code https://cloudbilling.googleapis.com/v1/services/{id}/skus}, pages
 * through {@code nextPageToken}). Compute Engine bills a machine type as vCPUs and memory of its family plus
 * its GPUs, on demand and Spot ({@code usageType} Preemptible), so machine prices are composed from the
 * catalog's shapes; Vertex AI prices prediction nodes the same way; Cloud Storage by class per region;
 * GKE a fee per regional cluster. The API wants a key ({@code MLCTL_GCP_API_KEY}) or OAuth credentials:
 * either travels in a header, never in a URL, and never in a message.
 */
public final class GcpBillingCatalog implements PriceSource {
    public static final String NAME = "GCP Cloud Billing Catalog";
    public static final String DEFAULT_BASE = "https://cloudbilling.googleapis.com/v1";
    public static final String BASE_PROPERTY = "mlctl.prices.gcp.url";
    static final String COMPUTE = "6F81-5844-456A";
    static final String VERTEX = "C7E2-9256-1C43";
    static final String GKE = "CCD8-9BF1-090E";
    static final String STORAGE = "95FF-2EF5-5EA1";
    static final int MAX_PAGES = 500;

    private static final Pattern CORE_RAM = Pattern.compile("^(?:Spot Preemptible |Preemptible )?([A-Z][A-Z0-9]*)(?: Predefined)? Instance (Core|Ram) running in ");
    private static final Pattern GPU = Pattern.compile("^Nvidia (?:Tesla )?([A-Z0-9]+) GPU (?:attached to Spot Preemptible VMs )?running in ");
    private static final Pattern PREDICTION_CORE_RAM = Pattern.compile("Prediction\\b.*?\\b([A-Z][A-Z0-9]*)(?: Predefined)? Instance (Core|Ram) running in ");
    private static final Pattern PREDICTION_GPU = Pattern.compile("Prediction\\b.*?Nvidia (?:Tesla )?([A-Z0-9]+) GPU running in ");
    private static final Map<String, String> GCS_CLASSES = Map.of("RegionalStorage", "STANDARD", "NearlineStorage", "NEARLINE",
        "ColdlineStorage", "COLDLINE", "ArchiveStorage", "ARCHIVE");
    // Predefined shapes of endpoint-only machine types the compute catalog does not list: GB of memory per vCPU.
    private static final Pattern SHAPE = Pattern.compile("^(e2|n1|n2)-(standard|highmem)-(\\d+)$");

    private final URI base;
    private final Supplier<Map<String, String>> auth;
    private final PriceHttp http;
    private Map<String, String> headers;

    /** Against Google, with the key from {@code MLCTL_GCP_API_KEY} or Application Default Credentials. */
    public GcpBillingCatalog(Map<String, String> env) {
        this(URI.create(System.getProperty(BASE_PROPERTY, DEFAULT_BASE)), GcpAuth.fromEnvironment(env));
    }

    /** {@code auth} gives the request headers that authenticate (asked for once per refresh). */
    public GcpBillingCatalog(URI base, Supplier<Map<String, String>> auth) {
        this.base = base;
        this.auth = auth;
        this.http = new PriceHttp(false, Duration.ofMinutes(1));
    }

    @Override
    public Provider provider() {
        return Provider.GCP;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Unit prices by (usage type, what, region): what is "core:N1", "ram:N1", "gpu:V100", "storage:STANDARD", ... */
    private record Unit(String usage, String what, String region) {
    }

    @Override
    public synchronized void prepare() {
        if (headers == null) headers = auth.get();
    }

    @Override
    public List<PriceRow> fetch(Wanted w, LocalDate today) {
        prepare();
        Map<Unit, Double> compute = new HashMap<>();
        Map<Unit, Double> vertex = new HashMap<>();
        List<PriceRow> rows = new ArrayList<>();
        each(COMPUTE, headers, s -> {
            Matcher m;
            String usage = s.usageType();
            if ((m = CORE_RAM.matcher(s.description())).find() && hourly(s)) {
                put(compute, w, s, usage, m.group(2).toLowerCase(Locale.ROOT) + ":" + m.group(1));
            } else if ((m = GPU.matcher(s.description())).find() && hourly(s)) {
                put(compute, w, s, usage, "gpu:" + m.group(1));
            } else if (s.description().startsWith("Balanced PD Capacity") && usage.equals("OnDemand") && s.usageUnit().equals("GiBy.mo")) {
                for (String r : w.regions()) if (s.serviceRegions().contains(r)) rows.add(PriceRow.storage("pd-balanced", r, s.usd(), NAME, today));
            }
        });
        each(VERTEX, headers, s -> {
            Matcher m;
            if (!s.usageType().equals("OnDemand") || !hourly(s)) return;
            if ((m = PREDICTION_CORE_RAM.matcher(s.description())).find()) put(vertex, w, s, "OnDemand", m.group(2).toLowerCase(Locale.ROOT) + ":" + m.group(1));
            else if ((m = PREDICTION_GPU.matcher(s.description())).find()) put(vertex, w, s, "OnDemand", "gpu:" + m.group(1));
        });
        each(GKE, headers, s -> {
            if (s.description().startsWith("Regional Kubernetes Clusters") && s.usageType().equals("OnDemand") && w.clusters().contains("gke-standard")) {
                for (String r : w.regions()) {
                    if (s.serviceRegions().contains(r) || s.serviceRegions().contains("global")) {
                        rows.add(PriceRow.hourly(PriceKind.CLUSTER, "gke-standard", r, s.usd(), null, NAME, today));
                    }
                }
            }
        });
        each(STORAGE, headers, s -> {
            String cls = GCS_CLASSES.get(s.resourceGroup());
            // One region: a multi- or dual-region bucket is priced otherwise.
            if (cls == null || !w.storage().contains(cls) || !s.usageType().equals("OnDemand") || !s.usageUnit().equals("GiBy.mo")
                || s.serviceRegions().size() != 1 || !w.regions().contains(s.serviceRegions().get(0))) return;
            rows.add(PriceRow.storage(cls, s.serviceRegions().get(0), s.usd(), NAME, today));
        });
        for (String r : w.regions()) {
            w.machines().values().forEach(mt -> {
                Double od = machine(compute, "OnDemand", mt, r);
                if (od != null) rows.add(PriceRow.hourly(PriceKind.MACHINE, mt.name(), r, od, machine(compute, "Preemptible", mt, r), NAME, today));
            });
            w.accelerators().values().forEach(a -> {
                Double od = compute.get(new Unit("OnDemand", "gpu:" + a.gpu(), r));
                if (od != null) rows.add(PriceRow.hourly(PriceKind.ACCELERATOR, a.name(), r, od, compute.get(new Unit("Preemptible", "gpu:" + a.gpu(), r)), NAME, today));
                Double ep = vertex.get(new Unit("OnDemand", "gpu:" + a.gpu(), r));
                if (ep != null) rows.add(PriceRow.hourly(PriceKind.ENDPOINT, a.name(), r, ep, null, NAME, today));
            });
            w.endpoints().values().forEach(e -> {
                Catalog.MachineType shape = shape(e, w);
                Double p = shape == null ? null : machine(vertex, "OnDemand", shape, r);
                if (p != null) rows.add(PriceRow.hourly(PriceKind.ENDPOINT, e.name(), r, p, null, NAME, today));
            });
        }
        Map<PriceRow.Key, PriceRow> unique = new LinkedHashMap<>();
        rows.forEach(row -> unique.putIfAbsent(row.key(), row));
        return List.copyOf(unique.values());
    }

    private static boolean hourly(GcpSkuParser.Sku s) {
        return s.usageUnit().equals("h") || s.usageUnit().equals("GiBy.h");
    }

    private static void put(Map<Unit, Double> m, Wanted w, GcpSkuParser.Sku s, String usage, String what) {
        for (String r : w.regions()) if (s.serviceRegions().contains(r)) m.putIfAbsent(new Unit(usage, what, r), s.usd());
    }

    /** vCPUs × the family's core price + GB × its memory price + GPUs × the GPU's price; null when a part is missing. */
    private static Double machine(Map<Unit, Double> units, String usage, Catalog.MachineType mt, String region) {
        String family = mt.name().substring(0, mt.name().indexOf('-')).toUpperCase(Locale.ROOT);
        Double core = units.get(new Unit(usage, "core:" + family, region));
        Double ram = units.get(new Unit(usage, "ram:" + family, region));
        if (core == null || ram == null || mt.vcpus() == 0) return null;
        double price = mt.vcpus() * core + mt.memoryGb() * ram;
        if (mt.gpus() > 0) {
            Double gpu = units.get(new Unit(usage, "gpu:" + mt.gpu(), region));
            if (gpu == null) return null;
            price += mt.gpus() * gpu;
        }
        return Math.round(price * 1e6) / 1e6;
    }

    /** An endpoint type's shape: the compute catalog's, else a predefined shape read from its name. */
    private static Catalog.MachineType shape(Catalog.MachineType endpoint, Wanted w) {
        Catalog.MachineType m = w.machines().get(endpoint.name());
        if (m != null) return m;
        Matcher s = SHAPE.matcher(endpoint.name());
        if (!s.matches()) return null;
        int vcpus = Integer.parseInt(s.group(3));
        double perCpu = s.group(2).equals("highmem") ? 6.5 : s.group(1).equals("n1") ? 3.75 : 4;
        return new Catalog.MachineType(endpoint.name(), vcpus, vcpus * perCpu, 0, "", 0);
    }

    private void each(String service, Map<String, String> headers, java.util.function.Consumer<GcpSkuParser.Sku> f) {
        String token = null;
        for (int page = 0; page == 0 || token != null; page++) {
            if (page == MAX_PAGES) throw new PriceSourceException(NAME, "more than " + MAX_PAGES + " pages of service " + service + ": stopped");
            URI uri = URI.create(base + "/services/" + service + "/skus?currencyCode=USD&pageSize=5000"
                + (token == null ? "" : "&pageToken=" + URLEncoder.encode(token, StandardCharsets.UTF_8)));
            String text;
            try {
                text = http.text(NAME, uri, headers);
            } catch (PriceSourceException e) {
                throw new PriceSourceException(NAME, masked(e.getMessage().substring(NAME.length() + 2), headers), e.getCause());
            }
            GcpSkuParser.Page p = GcpSkuParser.parse(text, NAME);
            p.skus().forEach(f);
            token = p.nextPageToken();
        }
    }

    /** An error body that echoes a credential does not reach the user with it. */
    private static String masked(String message, Map<String, String> headers) {
        String out = message;
        for (String v : headers.values()) {
            if (v.length() >= 8) {
                out = out.replace(v, "***");
                if (v.startsWith("Bearer ")) out = out.replace(v.substring(7), "***");
            }
        }
        return out;
    }
}
