package io.mlctl.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.MlctlException;
import org.junit.jupiter.api.Test;

class AddressTest {
    @Test
    void resourcesAndTheirComponentsParseAndPrintTheSame() {
        for (String text : new String[] {"bucket.ml-data", "network.ml-vpc.subnet.training", "kubernetes_cluster.ml.node_pool.gpu"}) {
            assertThat(Address.parse(text).toString()).isEqualTo(text);
        }
        Address subnet = Address.parse("network.ml-vpc.subnet.training");
        assertThat(subnet.isComponent()).isTrue();
        assertThat(subnet.resource()).isEqualTo(new Address(ResourceType.NETWORK, "ml-vpc"));
        assertThat(new Address(ResourceType.NETWORK, "ml-vpc").componentAt("subnets[training].cidr")).contains(subnet);
        assertThat(new Address(ResourceType.NETWORK, "ml-vpc").componentAt("firewall[ssh].ports")).isEmpty();
        assertThat(new Address(ResourceType.KUBERNETES_CLUSTER, "ml").componentAt("nodePools[gpu].machineType"))
            .contains(Address.parse("kubernetes_cluster.ml.node_pool.gpu"));
        assertThat(subnet).isGreaterThan(subnet.resource()).isLessThan(new Address(ResourceType.NETWORK, "z"));
    }

    @Test
    void aComponentTheTypeDoesNotHaveIsRefused() {
        assertThatThrownBy(() -> Address.parse("bucket.data.subnet.x")).isInstanceOf(MlctlException.class)
            .hasMessage("invalid resource address 'bucket.data.subnet.x': bucket has no component 'subnet.x'");
        assertThatThrownBy(() -> Address.parse("network.vpc.pool")).isInstanceOf(MlctlException.class);
    }
}
