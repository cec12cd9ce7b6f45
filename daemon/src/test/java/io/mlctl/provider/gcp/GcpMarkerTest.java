package io.mlctl.provider.gcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.testing.Specs;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The marker must fit GCP's label rules and read back to the same address, from labels or from a description. */
class GcpMarkerTest {
    private static final GcpMarker M = GcpMarker.INSTANCE;

    @ParameterizedTest
    @ValueSource(strings = {"network.vision-net", "bucket.vision-datasets-gcp", "identity.vision-trainer", "instance.box",
        "kubernetes_cluster.vision-gke", "inference_endpoint.vision-classifier", "kubernetes_cluster.vision-gke.node_pool.v100",
        "network.vision-net.subnet.gke"})
    void labelsAreValidGcpLabelsAndReadBack(String text) {
        Address a = Address.parse(text);
        Map<String, String> labels = M.marker("vision-gcp", a);
        labels.forEach((k, v) -> {
            assertThat(k).matches("[a-z][a-z0-9_-]{0,62}");
            assertThat(v).matches("[a-z0-9_-]{0,63}");
        });
        assertThat(M.owner(labels, "vision-gcp")).contains(a);
        assertThat(M.owner(labels, "other-env")).isEmpty();
        assertThat(M.fromDescription(M.description("vision-gcp", a))).isEqualTo(labels);
        assertThat(M.describeOwner(labels)).isEqualTo("managed by mlctl environment vision-gcp as " + text);
    }

    @Test
    void unmarkedAndForeignDescriptionsCarryNoMarker() {
        assertThat(M.fromDescription("VPC for the data team")).isEmpty();
        assertThat(M.fromDescription(null)).isEmpty();
        assertThat(M.marked(Map.of("team", "data"))).isFalse();
        assertThat(M.describeOwner(Map.of("team", "data"))).isEqualTo("not managed by mlctl");
        Map<String, String> other = M.marker("prod", Address.parse("bucket.data"));
        assertThat(M.marked(other)).isTrue();
        assertThat(M.owner(other, "dev")).isEmpty();
    }

    @Test
    void markerKeysAreNeverLabels() {
        for (String k : M.marker("e", Address.parse("kubernetes_cluster.c.node_pool.p")).keySet()) assertThat(M.isMarkerKey(k)).isTrue();
        assertThat(M.isMarkerKey("team")).isFalse();
    }

    @Test
    void physicalNamesFitEachApiAndStayDistinct() {
        Environment env = Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: a-rather-long-environment-name-for-the-vision-team}
            spec: {provider: gcp, region: us-central1, resources: []}
            """);
        Set<String> seen = new HashSet<>();
        for (String name : new String[] {"trainer", "trainer-two", "a-very-long-identity-name-that-goes-on-and-on-and-on-until-sixty"}) {
            String sa = GcpKind.serviceAccountId(env, name);
            assertThat(sa).hasSizeBetween(6, 30).matches("[a-z]([-a-z0-9]*[a-z0-9])?");
            assertThat(seen.add(sa)).as(sa).isTrue();
            assertThat(GcpKind.serviceAccountId(env, name)).isEqualTo(sa);
            String gce = GcpKind.physicalName(env, name);
            assertThat(gce).hasSizeLessThanOrEqualTo(63).matches("[a-z]([-a-z0-9]*[a-z0-9])?");
            assertThat(GcpKind.clusterName(env, name)).hasSizeLessThanOrEqualTo(40).matches("[a-z]([-a-z0-9]*[a-z0-9])?");
        }
        Environment shortEnv = Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata: {name: dev}
            spec: {provider: gcp, region: us-central1, resources: []}
            """);
        assertThat(GcpKind.physicalName(shortEnv, "net")).isEqualTo("dev-net");
        assertThat(GcpKind.subnetworkName(shortEnv, "net", "gke")).isEqualTo("dev-net-gke");
    }

    @Test
    void labelSyncKeepsOtherPeoplesLabels() {
        Map<String, String> marker = M.marker("dev", Address.parse("bucket.data"));
        Map<String, String> cloud = new TreeMap<>(GcpKind.allLabels(marker, Map.of("tags", Map.of("team", "ml", "old", "x"))));
        cloud.put("backup", "daily");
        Map<String, String> after = GcpKind.labelsAfterSync(cloud, marker, Map.of("tags", Map.of("team", "vision"))).orElseThrow();
        assertThat(after).containsEntry("backup", "daily").containsEntry("team", "vision").doesNotContainKey("old")
            .containsEntry("mlctl-labels", "team").containsAllEntriesOf(marker);
        assertThat(GcpKind.labelsAfterSync(after, marker, Map.of("tags", Map.of("team", "vision")))).isEmpty();
    }
}
