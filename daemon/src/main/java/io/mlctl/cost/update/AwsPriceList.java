package io.mlctl.cost.update;

import io.mlctl.cost.PriceKind;
import io.mlctl.cost.PriceRow;
import io.mlctl.spec.Provider;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * AWS's public Price List bulk API: one offer file per service and region at
 * {@code <base>/offers/v1.0/aws/<offer>/current/<region>/index.json}, no credentials needed. EC2 gives
 * Linux shared-tenancy machine prices and gp3 disks, SageMaker its hosting ({@code ml.*}) instances, S3
 * its storage classes, EKS its control plane. The Price List has no spot prices (they move with demand):
 * a refresh keeps the current spot prices with their own date. EC2's file is hundreds of MB per region, so
 * only the default region and the regions that already have rows of their own are read.
 */
public final class AwsPriceList implements PriceSource {
    public static final String NAME = "AWS Price List";
    public static final String DEFAULT_BASE = "https://pricing.us-east-1.amazonaws.com";
    /** Overrides the base URL (tests, a mirror); never read from a spec. */
    public static final String BASE_PROPERTY = "mlctl.prices.aws.url";

    // S3's volumeType per storage class name.
    private static final Map<String, String> S3_CLASSES = Map.of("Standard", "STANDARD", "Standard - Infrequent Access", "STANDARD_IA",
        "Glacier Instant Retrieval", "GLACIER_IR", "Amazon Glacier", "GLACIER", "Glacier Deep Archive", "DEEP_ARCHIVE");

    private final URI base;
    private final PriceHttp http;

    public AwsPriceList() {
        this(URI.create(System.getProperty(BASE_PROPERTY, DEFAULT_BASE)));
    }

    public AwsPriceList(URI base) {
        this.base = base;
        this.http = new PriceHttp(true, Duration.ofMinutes(2));
    }

    @Override
    public Provider provider() {
        return Provider.AWS;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<PriceRow> fetch(Wanted w, LocalDate today) {
        Set<String> regions = new LinkedHashSet<>();
        regions.add(w.defaultRegion());
        w.regions().stream().filter(w.pricedRegions()::contains).forEach(regions::add);
        List<PriceRow> rows = new ArrayList<>();
        for (String region : regions) {
            for (AwsOfferParser.Priced p : offer("AmazonEC2", region, ec2(w))) {
                if (p.product().family().equals("Storage")) rows.add(PriceRow.storage(p.product().attr("volumeApiName"), region, p.usd(), NAME, today));
                else rows.add(PriceRow.hourly(PriceKind.MACHINE, p.product().attr("instanceType"), region, p.usd(), null, NAME, today));
            }
            for (AwsOfferParser.Priced p : offer("AmazonSageMaker", region, pr -> pr.family().equals("ML Instance")
                && pr.attr("component").equals("Hosting") && w.endpoints().containsKey(instanceName(pr)))) {
                rows.add(PriceRow.hourly(PriceKind.ENDPOINT, instanceName(p.product()), region, p.usd(), null, NAME, today));
            }
            for (AwsOfferParser.Priced p : offer("AmazonS3", region, pr -> pr.family().equals("Storage")
                && w.storage().contains(S3_CLASSES.getOrDefault(pr.attr("volumeType"), "")))) {
                rows.add(PriceRow.storage(S3_CLASSES.get(p.product().attr("volumeType")), region, p.usd(), NAME, today));
            }
            for (AwsOfferParser.Priced p : offer("AmazonEKS", region, pr -> w.clusters().contains(eksTier(pr)))) {
                rows.add(PriceRow.hourly(PriceKind.CLUSTER, eksTier(p.product()), region, p.usd(), null, NAME, today));
            }
        }
        return dedupe(rows);
    }

    private Predicate<AwsOfferParser.Product> ec2(Wanted w) {
        return p -> switch (p.family()) {
            case "Compute Instance" -> w.machines().containsKey(p.attr("instanceType")) && p.attr("operatingSystem").equals("Linux")
                && p.attr("tenancy").equals("Shared") && p.attr("preInstalledSw").equals("NA") && p.attr("capacitystatus").equals("Used");
            case "Storage" -> w.storage().contains(p.attr("volumeApiName"));
            default -> false;
        };
    }

    private static String instanceName(AwsOfferParser.Product p) {
        String n = p.attr("instanceName");
        return n.isEmpty() ? p.attr("instanceType") : n;
    }

    /** EKS control plane hours by support tier, from the usage type ({@code USE1-AmazonEKS-Hours:perCluster}). */
    private static String eksTier(AwsOfferParser.Product p) {
        String usage = p.attr("usagetype");
        if (usage.endsWith("AmazonEKS-Hours:perCluster")) return "eks-standard";
        if (usage.endsWith("AmazonEKS-Hours:extendedSupport")) return "eks-extended";
        return "";
    }

    private List<AwsOfferParser.Priced> offer(String offer, String region, Predicate<AwsOfferParser.Product> wanted) {
        URI uri = base.resolve("/offers/v1.0/aws/" + offer + "/current/" + region + "/index.json");
        try (InputStream in = http.open(NAME, uri, Map.of())) {
            return AwsOfferParser.parse(in, wanted, NAME, offer + "/" + region);
        } catch (IOException e) {
            throw new PriceSourceException(NAME, "reading " + PriceHttp.where(uri) + " failed: " + PriceHttp.reason(e), e);
        }
    }

    /** One row per kind, name and region: the first the files list. */
    private static List<PriceRow> dedupe(List<PriceRow> rows) {
        Map<PriceRow.Key, PriceRow> m = new java.util.LinkedHashMap<>();
        rows.forEach(r -> m.putIfAbsent(r.key(), r));
        return List.copyOf(m.values());
    }
}
