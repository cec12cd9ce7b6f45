package io.mlctl.cost;

import io.mlctl.MlctlException;
import java.util.Arrays;
import java.util.Locale;

/** What a price row prices; each kind has one unit (per hour, or per GB-month for storage). */
public enum PriceKind {
    /** A virtual machine type, per instance-hour. */
    MACHINE,
    /** An accelerator attached to a machine (GCP), per accelerator-hour. */
    ACCELERATOR,
    /** A managed inference instance type (SageMaker ml.*, Vertex AI and Azure ML machine types), per instance-hour; on GCP also accelerators attached to endpoints, which Vertex AI bills on their own. */
    ENDPOINT,
    /** A managed Kubernetes control plane tier, per cluster-hour. */
    CLUSTER,
    /** A storage class or disk type, per GB-month. */
    STORAGE;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean hourly() {
        return this != STORAGE;
    }

    public static PriceKind of(String id) {
        return Arrays.stream(values()).filter(k -> k.id().equals(id)).findFirst()
            .orElseThrow(() -> new MlctlException("unknown price kind '" + id + "' (expected machine, accelerator, endpoint, cluster or storage)"));
    }
}
