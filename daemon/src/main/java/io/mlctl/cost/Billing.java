package io.mlctl.cost;

import io.mlctl.spec.Provider;
import java.util.List;
import java.util.Map;

/**
 * What each cloud bills for what mlctl creates, by the names its price lists use: the storage class behind
 * each of mlctl's classes, the disk type an instance boots from, the control plane tier a cluster gets and
 * the node pool a driver adds on its own. It follows the drivers: change both together.
 */
public final class Billing {
    /** mlctl's storage classes: a bucket's own ({@code standard}) and the lifecycle targets in the schema. */
    public static final List<String> STORAGE_CLASSES = List.of("standard", "cold", "archive");

    /** A pool a driver adds to every cluster: its machine type and node counts. */
    public record SystemPool(String machineType, long min, long max) {
    }

    // Drivers: AWS lifecycle rules move to STANDARD_IA (cold) and GLACIER (archive); GCS to COLDLINE and
    // ARCHIVE; Azure's Standard_LRS Hot accounts to the Cool and Archive tiers.
    private static final Map<Provider, Map<String, String>> CLASSES = Map.of(
        Provider.AWS, Map.of("standard", "STANDARD", "cold", "STANDARD_IA", "archive", "GLACIER"),
        Provider.GCP, Map.of("standard", "STANDARD", "cold", "COLDLINE", "archive", "ARCHIVE"),
        Provider.AZURE, Map.of("standard", "Hot", "cold", "Cool", "archive", "Archive"));

    private Billing() {
    }

    /** The provider's storage class for one of mlctl's, or null when mlctl has no such class. */
    public static String storageClass(Provider p, String mlctlClass) {
        return CLASSES.get(p).get(mlctlClass);
    }

    /** The disk type an instance's boot disk ({@code diskGb}) is made of. */
    public static String disk(Provider p) {
        return switch (p) {
            case AWS -> "gp3";
            case GCP -> "pd-balanced";
            case AZURE -> "StandardSSD_LRS";
        };
    }

    /** The control plane tier a kubernetes_cluster gets: EKS standard support, a GKE Standard cluster, AKS's Free tier (no SKU is set). */
    public static String controlPlane(Provider p) {
        return switch (p) {
            case AWS -> "eks-standard";
            case GCP -> "gke-standard";
            case AZURE -> "aks-free";
        };
    }

    static String controlPlaneAssumption(Provider p) {
        return switch (p) {
            case AWS -> "EKS control plane at standard support; a version in extended support costs eks-extended";
            case GCP -> "GKE cluster fee without the free tier credit of one cluster per billing account";
            case AZURE -> "AKS Free tier control plane, with the System pool mlctl adds (Standard_D2s_v3, 1..3 nodes)";
        };
    }

    /** The pool a driver adds to every cluster, which the spec does not show: AKS needs a System pool. */
    public static SystemPool systemPool(Provider p) {
        return p == Provider.AZURE ? new SystemPool("Standard_D2s_v3", 1, 3) : null;
    }
}
