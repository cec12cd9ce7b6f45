package io.mlctl.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.spec.Address;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LabelsTest {
    private final Labels labels = new Labels(TagMarker.INSTANCE, ":");
    private final Map<String, String> mark = TagMarker.INSTANCE.marker("dev", Address.parse("bucket.data"));

    @Test
    void theWholeMapAfterASyncKeepsForeignTagsAndCarriesTheMarkerAndExactlyTheWantedLabels() {
        Map<String, String> cloud = new HashMap<>(labels.atCreate(mark, Map.of("team", "ml")));
        cloud.put("CostCenter", "finance");
        cloud.remove("mlctl-address"); // someone stripped part of the marker
        Map<String, String> whole = labels.whole(cloud, mark, Map.of("tags", Map.of("owner", "vision"))).orElseThrow();
        assertThat(whole).containsEntry("CostCenter", "finance").containsEntry("owner", "vision").containsEntry("mlctl-labels", "owner")
            .containsAllEntriesOf(mark).doesNotContainKey("team");
        assertThat(labels.whole(whole, mark, Map.of("tags", Map.of("owner", "vision")))).isEmpty();
        assertThat(labels.markerOf(whole)).isEqualTo(mark);
        assertThat(labels.withObserved(Map.of("versioning", true), whole)).isEqualTo(Map.of("versioning", true, "tags", Map.of("owner", "vision")));
        assertThat(Labels.wanted(Map.of("region", "eastus"))).isEmpty();
    }

    @Test
    void onlyTheLabelsMlctlSetAreObservedAndForeignTagsAreNeverRemoved() {
        Map<String, String> cloud = new HashMap<>(labels.atCreate(mark, Map.of("team", "ml", "cost-center", "r1")));
        cloud.put("CostCenter", "finance");       // a cost-allocation tag someone added
        cloud.put("aws:backup", "daily");
        assertThat(labels.observed(cloud)).isEqualTo(Map.of("team", "ml", "cost-center", "r1"));
        assertThat(labels.sync(cloud, mark, Map.of("team", "ml", "cost-center", "r1"))).isEmpty();

        Labels.Sync s = labels.sync(cloud, mark, Map.of("team", "vision")).orElseThrow();
        assertThat(s.set()).isEqualTo(Map.of("team", "vision", Labels.MANAGED_KEYS_TAG, "team"));
        assertThat(s.remove()).isEqualTo(Set.of("cost-center"));
    }

    @Test
    void aLostMarkerIsWrittenBackAndRemovingTheLastLabelDropsTheRecord() {
        Map<String, String> cloud = new HashMap<>(labels.atCreate(mark, Map.of("team", "ml")));
        cloud.remove("managed-by");
        Labels.Sync s = labels.sync(cloud, mark, Map.of()).orElseThrow();
        assertThat(s.set()).isEqualTo(Map.of("managed-by", "mlctl"));
        assertThat(s.remove()).isEqualTo(Set.of("team", Labels.MANAGED_KEYS_TAG));
    }
}
