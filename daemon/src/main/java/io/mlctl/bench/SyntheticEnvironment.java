package io.mlctl.bench;

/** Generates a realistic environment spec of N resources for benchmarks. */
public final class SyntheticEnvironment {
    private SyntheticEnvironment() {
    }

    /**
     * Groups of ten: a network with two subnets, three buckets with lifecycle rules, two identities
     * granted on buckets, three spot GPU instances in the network, one endpoint. The environment is labelled (team, cost
     * center, confidential data) so that every example policy but data residency applies to it.
     */
    public static String yaml(String name, int resources) {
        StringBuilder b = new StringBuilder(resources * 120);
        b.append("apiVersion: mlctl.io/v1\nkind: Environment\nmetadata:\n  name: ").append(name)
            .append("\n  labels: {team: ml, cost-center: bench, data-classification: confidential}")
            .append("\nspec:\n  provider: aws\n  region: us-east-1\n  resources:\n");
        int groups = (resources + 9) / 10;
        int written = 0;
        for (int g = 0; g < groups && written < resources; g++) {
            String n = "n" + g;
            String[] lines = {
                "    - {type: network, name: net-" + n + ", cidr: 10.0.0.0/16, subnets: [{name: a, cidr: 10.0.1.0/24, zone: us-east-1a}, {name: b, cidr: 10.0.2.0/24, zone: us-east-1b}]}\n",
                "    - {type: bucket, name: data-" + n + ", versioning: true, encryption: kms, lifecycle: [{afterDays: 30, storageClass: archive}, {noncurrentExpireDays: 90}]}\n",
                "    - {type: bucket, name: models-" + n + ", versioning: true}\n",
                "    - {type: bucket, name: logs-" + n + ", lifecycle: [{expireDays: 14}]}\n",
                "    - {type: identity, name: trainer-" + n + ", grants: [{actions: [storage.read, storage.write], resource: bucket/data-" + n + "}]}\n",
                "    - {type: identity, name: server-" + n + ", grants: [{actions: [storage.read], resource: bucket/models-" + n + "}]}\n",
                "    - {type: instance, name: gpu-" + n + "-1, machineType: p3.2xlarge, spot: true, subnet: net-" + n + "/a, identity: trainer-" + n + ", diskGb: 200}\n",
                "    - {type: instance, name: gpu-" + n + "-2, machineType: g5.xlarge, spot: true, subnet: net-" + n + "/b, identity: trainer-" + n + "}\n",
                "    - {type: instance, name: cpu-" + n + ", machineType: m5.xlarge, subnet: net-" + n + "/a}\n",
                "    - {type: inference_endpoint, name: ep-" + n + ", modelUri: s3://models-" + n + "/m.tar.gz, machineType: ml.m5.large, minReplicas: 1, maxReplicas: 4, identity: server-" + n + "}\n",
            };
            for (String l : lines) {
                if (written++ >= resources) break;
                b.append(l);
            }
        }
        return b.toString();
    }
}
