package io.mlctl.fake.azure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.azure.core.management.exception.ManagementException;
import com.azure.resourcemanager.network.fluent.NetworkSecurityGroupsClient;
import com.azure.resourcemanager.network.fluent.SubnetsClient;
import com.azure.resourcemanager.network.fluent.VirtualNetworksClient;
import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import com.azure.resourcemanager.network.models.AddressSpace;
import com.azure.resourcemanager.network.models.SecurityRuleAccess;
import com.azure.resourcemanager.network.models.SecurityRuleDirection;
import com.azure.resourcemanager.network.models.SecurityRuleProtocol;
import com.azure.resourcemanager.network.models.TagsObject;
import io.mlctl.provider.azure.AzureClients;
import io.mlctl.provider.azure.AzureSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The fake's Microsoft.Network types refuse what Azure refuses, driven by the real SDK (or raw HTTP where the SDK itself would refuse first). */
class NetworkFakeTest {
    static final String SUB = "22222222-3333-4444-5555-666666666666";
    static final String RG = "net-rg";
    static ArmFake arm;
    AzureClients clients;

    @BeforeAll
    static void start() throws Exception {
        arm = ArmFake.start();
    }

    @AfterAll
    static void stop() {
        arm.close();
    }

    @BeforeEach
    void reset() {
        arm.reset();
        arm.putGroup(SUB, RG, "eastus", Map.of());
        clients = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, arm.endpoint())), SUB, "eastus");
    }

    @AfterEach
    void close() {
        clients.close();
    }

    VirtualNetworksClient vnets() {
        return clients.network().serviceClient().getVirtualNetworks();
    }

    SubnetsClient subnets() {
        return clients.network().serviceClient().getSubnets();
    }

    NetworkSecurityGroupsClient nsgs() {
        return clients.network().serviceClient().getNetworkSecurityGroups();
    }

    static String id(String path) {
        return "/subscriptions/" + SUB + "/resourceGroups/" + RG + "/providers/Microsoft.Network/" + path;
    }

    static SubnetInner subnet(String name, String cidr) {
        return new SubnetInner().withName(name).withAddressPrefix(cidr);
    }

    static VirtualNetworkInner vnet(String cidr, SubnetInner... subnets) {
        return new VirtualNetworkInner().withLocation("eastus").withAddressSpace(new AddressSpace().withAddressPrefixes(List.of(cidr)))
            .withSubnets(new ArrayList<>(List.of(subnets)));
    }

    static SecurityRuleInner allow(String name, int priority, SecurityRuleDirection direction) {
        return new SecurityRuleInner().withName(name).withPriority(priority).withDirection(direction).withAccess(SecurityRuleAccess.ALLOW)
            .withProtocol(SecurityRuleProtocol.TCP).withSourcePortRange("*").withDestinationPortRange("443")
            .withSourceAddressPrefix("198.51.100.0/24").withDestinationAddressPrefix("*");
    }

    static NetworkSecurityGroupInner nsg(SecurityRuleInner... rules) {
        return new NetworkSecurityGroupInner().withLocation("eastus").withSecurityRules(new ArrayList<>(List.of(rules)));
    }

    /** The ARM error code a call fails with. */
    static String code(ThrowingCallable call) {
        Throwable[] t = new Throwable[1];
        assertThatThrownBy(() -> {
            try {
                call.call();
            } catch (Throwable e) {
                t[0] = e;
                throw e;
            }
        }).isInstanceOf(ManagementException.class);
        return ((ManagementException) t[0]).getValue().getCode();
    }

    static String put(String id, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + id.substring(1) + "?api-version=2025-03-01"))
            .PUT(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    /** A PUT conditional on {@code etag} ({@code If-Match}). */
    static String putIfMatch(String id, String body, String etag) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + id.substring(1) + "?api-version=2025-03-01"))
            .PUT(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").header("If-Match", etag).build(),
            HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    static String patch(String id, String body) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(arm.endpoint() + id.substring(1) + "?api-version=2025-03-01"))
            .method("PATCH", HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> props(Map<String, Object> r) {
        return (Map<String, Object>) r.get("properties");
    }

    @SuppressWarnings("unchecked")
    static List<String> inlineSubnets(String vnet) {
        List<String> out = new ArrayList<>();
        for (Object o : (List<Object>) props(arm.get(id("virtualNetworks/" + vnet)).orElseThrow()).get("subnets")) {
            Map<String, Object> s = (Map<String, Object>) o;
            out.add(s.get("name") + "=" + props(s).get("addressPrefix"));
        }
        return out;
    }

    // ---- the VNet and its subnets: two views, one state

    @Test
    void inlineSubnetsAndChildSubnetsStayOneState() {
        VirtualNetworkInner made = vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24"), subnet("b", "10.0.2.0/24")));
        assertThat(made.subnets()).extracting(SubnetInner::id).containsExactly(id("virtualNetworks/v/subnets/a"), id("virtualNetworks/v/subnets/b"));
        assertThat(subnets().get(RG, "v", "b").addressPrefix()).isEqualTo("10.0.2.0/24");

        subnets().createOrUpdate(RG, "v", "c", subnet("c", "10.0.3.0/24"));
        assertThat(inlineSubnets("v")).containsExactly("a=10.0.1.0/24", "b=10.0.2.0/24", "c=10.0.3.0/24");
        subnets().delete(RG, "v", "a");
        assertThat(inlineSubnets("v")).containsExactly("b=10.0.2.0/24", "c=10.0.3.0/24");
        assertThat(arm.get(id("virtualNetworks/v/subnets/a"))).isEmpty();

        // A PUT without the subnets property keeps them (api-version 2023-11-01 and later); with it, the VNet holds exactly those.
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16").withSubnets(null).withTags(Map.of("k", "v")));
        assertThat(inlineSubnets("v")).containsExactly("b=10.0.2.0/24", "c=10.0.3.0/24");
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("c", "10.0.3.0/24")));
        assertThat(inlineSubnets("v")).containsExactly("c=10.0.3.0/24");
        assertThat(arm.get(id("virtualNetworks/v/subnets/b"))).isEmpty();
        assertThat(subnets().list(RG, "v").stream().map(SubnetInner::name).toList()).containsExactly("c");
    }

    @Test
    void subnetsMustLieInTheAddressSpaceWithoutOverlapOrHostBits() {
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.1.0.0/24"))))).isEqualTo("NetcfgSubnetRangeOutsideVnet");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.0.0/24"), subnet("b", "10.0.0.128/25")))))
            .isEqualTo("NetcfgSubnetRangesOverlap");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.0.1/24"))))).isEqualTo("InvalidCIDRNotation");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", new SubnetInner().withName("a"))))).isEqualTo("NetcfgInvalidSubnet");
        assertThat(arm.list(NetworkTypes.VNET)).isEmpty();

        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.0.0/24")));
        assertThat(code(() -> subnets().createOrUpdate(RG, "v", "b", subnet("b", "10.0.0.0/25")))).isEqualTo("NetcfgSubnetRangesOverlap");
        assertThat(code(() -> subnets().createOrUpdate(RG, "v", "b", subnet("b", "192.168.0.0/24")))).isEqualTo("NetcfgSubnetRangeOutsideVnet");
        assertThat(code(() -> subnets().createOrUpdate(RG, "nope", "b", subnet("b", "10.0.1.0/24")))).isEqualTo("ParentResourceNotFound");
    }

    @Test
    void shrinkingTheAddressSpaceUnderASubnetFails() {
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.200.0/24")));
        // Without the subnets property the subnet stays, and the new space must still hold it.
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/17").withSubnets(null)))).isEqualTo("NetcfgSubnetRangeOutsideVnet");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/17", subnet("a", "10.0.200.0/24"))))).isEqualTo("NetcfgSubnetRangeOutsideVnet");
        assertThat(vnets().getByResourceGroup(RG, "v").addressSpace().addressPrefixes()).containsExactly("10.0.0.0/16");
        // Moving the (empty) subnet along with it is one valid PUT.
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/17", subnet("a", "10.0.100.0/24")));
        assertThat(inlineSubnets("v")).containsExactly("a=10.0.100.0/24");
    }

    @Test
    void aSubnetInUseIsNeitherDeletedNorMovedNorIsItsNetwork() {
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24"), subnet("b", "10.0.2.0/24")));
        String a = id("virtualNetworks/v/subnets/a");
        // A NIC of another service names the subnet: Azure lists its IP configuration in the subnet.
        arm.put(id("networkInterfaces/nic1"), Map.of("id", id("networkInterfaces/nic1"), "name", "nic1", "type", "Microsoft.Network/networkInterfaces",
            "location", "eastus", "properties", Map.of("ipConfigurations", List.of(Map.of("name", "ipconfig1",
                "properties", Map.of("subnet", Map.of("id", a)))))));
        assertThat(code(() -> subnets().delete(RG, "v", "a"))).isEqualTo("InUseSubnetCannotBeDeleted");
        assertThat(code(() -> subnets().createOrUpdate(RG, "v", "a", subnet("a", "10.0.3.0/24")))).isEqualTo("InUsePrefixCannotBeDeleted");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("b", "10.0.2.0/24"))))).isEqualTo("InUseSubnetCannotBeDeleted");
        assertThat(code(() -> vnets().delete(RG, "v"))).isEqualTo("InUseSubnetCannotBeDeleted");
        // What is not in use still changes.
        subnets().createOrUpdate(RG, "v", "b", subnet("b", "10.0.4.0/24"));
        assertThat(inlineSubnets("v")).containsExactly("a=10.0.1.0/24", "b=10.0.4.0/24");

        arm.remove(id("networkInterfaces/nic1"));
        NetworkTypes.attach(arm, a, id("virtualMachineScaleSets/pool/virtualMachines/0/networkInterfaces/n/ipConfigurations/ip"));
        assertThat(subnets().get(RG, "v", "a").ipConfigurations()).hasSize(1);
        assertThat(code(() -> vnets().delete(RG, "v"))).isEqualTo("InUseSubnetCannotBeDeleted");
        NetworkTypes.detach(arm, a, id("virtualMachineScaleSets/pool/virtualMachines/0/networkInterfaces/n/ipConfigurations/ip"));
        vnets().delete(RG, "v");
        assertThat(arm.list(NetworkTypes.VNET)).isEmpty();
        assertThat(arm.list(NetworkTypes.SUBNET)).isEmpty();
    }

    @Test
    void readOnlyPartsOfASubnetAreRefused() throws Exception {
        String answer = put(id("virtualNetworks/v"), "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]},"
            + "\"subnets\":[{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.1.0/24\",\"ipConfigurations\":[{\"id\":\"x\"}]}}]}}");
        assertThat(answer).startsWith("400 ").contains("ipConfigurations");
        assertThat(put(id("virtualNetworks/v"), "{\"location\":\"eastus\",\"properties\":{}}")).startsWith("400 ").contains("InvalidAddressSpace");
        assertThat(arm.list(NetworkTypes.VNET)).isEmpty();
    }

    // ---- security groups

    @Test
    void securityRulesAreCheckedAsAzureChecksThem() throws Exception {
        assertThat(code(() -> nsgs().createOrUpdate(RG, "g", nsg(allow("a", 50, SecurityRuleDirection.INBOUND))))).isEqualTo("SecurityRuleInvalidPriority");
        assertThat(code(() -> nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND), allow("b", 100, SecurityRuleDirection.INBOUND)))))
            .isEqualTo("SecurityRuleConflict");
        assertThat(code(() -> nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND)
            .withSourceAddressPrefixes(List.of("10.0.0.0/8")))))).isEqualTo("SecurityRuleParameterContainsUnsupportedValue");
        assertThat(code(() -> nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND).withSourceAddressPrefix(null)
            .withSourceAddressPrefixes(List.of("*")))))).isEqualTo("SecurityRuleParameterContainsUnsupportedValue");
        assertThat(code(() -> nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND).withDestinationPortRange("443-80")))))
            .isEqualTo("SecurityRuleInvalidPortRange");
        assertThat(code(() -> nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND).withSourceAddressPrefix("10.0.0.300/8")))))
            .isEqualTo("SecurityRuleInvalidAddressPrefix");
        // Required fields the SDK would already refuse, sent raw.
        String noProtocol = "{\"location\":\"eastus\",\"properties\":{\"securityRules\":[{\"name\":\"a\",\"properties\":{\"access\":\"Allow\","
            + "\"direction\":\"Inbound\",\"priority\":100,\"sourcePortRange\":\"*\",\"destinationPortRange\":\"22\",\"sourceAddressPrefix\":\"*\","
            + "\"destinationAddressPrefix\":\"*\"}}]}}";
        assertThat(put(id("networkSecurityGroups/g"), noProtocol)).startsWith("400 ").contains("protocol");
        assertThat(put(id("networkSecurityGroups/g"), noProtocol.replace("\"access\"", "\"protocol\":\"Gre\",\"access\""))).startsWith("400 ")
            .contains("protocol");
        assertThat(arm.list(NetworkTypes.NSG)).isEmpty();

        // The same priority in the other direction is fine; Azure fills ids and its default rules.
        NetworkSecurityGroupInner g = nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND),
            allow("b", 100, SecurityRuleDirection.OUTBOUND)));
        assertThat(g.securityRules()).extracting(SecurityRuleInner::id).containsExactly(id("networkSecurityGroups/g/securityRules/a"),
            id("networkSecurityGroups/g/securityRules/b"));
        assertThat(g.defaultSecurityRules()).extracting(SecurityRuleInner::name).contains("DenyAllInBound", "AllowVnetInBound");
    }

    @Test
    void aSubnetsSecurityGroupMustExistInItsRegionAndCannotGoWhileAssociated() {
        String g = id("networkSecurityGroups/g");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16",
            subnet("a", "10.0.1.0/24").withNetworkSecurityGroup(new NetworkSecurityGroupInner().withId(g)))))).isEqualTo("InvalidResourceReference");
        nsgs().createOrUpdate(RG, "west", nsg().withLocation("westus"));
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")
            .withNetworkSecurityGroup(new NetworkSecurityGroupInner().withId(id("networkSecurityGroups/west"))))))).isEqualTo("InvalidResourceReference");

        nsgs().createOrUpdate(RG, "g", nsg(allow("https", 100, SecurityRuleDirection.INBOUND)));
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24").withNetworkSecurityGroup(new NetworkSecurityGroupInner().withId(g))));
        assertThat(nsgs().getByResourceGroup(RG, "g").subnets()).extracting(SubnetInner::id).containsExactly(id("virtualNetworks/v/subnets/a"));
        assertThat(code(() -> nsgs().delete(RG, "g"))).isEqualTo("InUseNetworkSecurityGroupCannotBeDeleted");

        // Associations removed (the subnet PUT without it), the group can go.
        subnets().createOrUpdate(RG, "v", "a", subnet("a", "10.0.1.0/24"));
        assertThat(nsgs().getByResourceGroup(RG, "g").subnets()).isNullOrEmpty();
        nsgs().delete(RG, "g");
        assertThat(arm.get(g)).isEmpty();
    }

    @Test
    void serviceEndpointsTakeKnownServicesAndAzureFillsTheirRegions() {
        VirtualNetworkInner v = vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")
            .withServiceEndpoints(List.of(new com.azure.resourcemanager.network.models.ServiceEndpointPropertiesFormat().withService("Microsoft.Storage")))));
        assertThat(v.subnets().get(0).serviceEndpoints().get(0).locations()).containsExactly("eastus");
        assertThat(code(() -> vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")
            .withServiceEndpoints(List.of(new com.azure.resourcemanager.network.models.ServiceEndpointPropertiesFormat().withService("Microsoft.Nope")))))))
            .isEqualTo("InvalidServiceNameOnServiceEndpoint");
    }

    @Test
    void aPatchOfANetworkOrSecurityGroupTakesTagsOnly() throws Exception {
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")).withTags(Map.of("keep", "no")));
        nsgs().createOrUpdate(RG, "g", nsg(allow("https", 100, SecurityRuleDirection.INBOUND)).withTags(Map.of("keep", "no")));
        // Azure's PATCH is "Update Tags": a body with anything else is refused, and nothing changes.
        assertThat(patch(id("virtualNetworks/v"), "{\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/8\"]}}}"))
            .startsWith("400 ").contains("properties");
        assertThat(patch(id("virtualNetworks/v"), "{\"location\":\"eastus\",\"tags\":{\"a\":\"b\"}}")).startsWith("400 ").contains("location");
        assertThat(patch(id("networkSecurityGroups/g"), "{\"properties\":{\"securityRules\":[]}}")).startsWith("400 ").contains("properties");
        assertThat(vnets().getByResourceGroup(RG, "v").addressSpace().addressPrefixes()).containsExactly("10.0.0.0/16");
        assertThat(nsgs().getByResourceGroup(RG, "g").securityRules()).hasSize(1);
        // Tags alone, as the SDK's updateTags sends them: the whole tag map is replaced.
        vnets().updateTags(RG, "v", new TagsObject().withTags(Map.of("env", "e1")));
        nsgs().updateTags(RG, "g", new TagsObject().withTags(Map.of("env", "e1")));
        assertThat(vnets().getByResourceGroup(RG, "v").tags()).isEqualTo(Map.of("env", "e1"));
        assertThat(nsgs().getByResourceGroup(RG, "g").tags()).isEqualTo(Map.of("env", "e1"));
        assertThat(inlineSubnets("v")).containsExactly("a=10.0.1.0/24");
    }

    @Test
    void aSubnetPutIntoSomeoneElsesNetworkStaysThroughANetworkPutThatCarriesIt() {
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")));
        subnets().createOrUpdate(RG, "v", "theirs", subnet("theirs", "10.0.9.0/24"));
        VirtualNetworkInner now = vnets().getByResourceGroup(RG, "v");
        assertThat(now.subnets()).extracting(SubnetInner::name).containsExactly("a", "theirs");
        // Sent back as read (read-only parts such as ids and provisioning states are dropped by the SDK): accepted, unchanged.
        vnets().createOrUpdate(RG, "v", now.withTags(Map.of("k", "v")));
        assertThat(inlineSubnets("v")).containsExactly("a=10.0.1.0/24", "theirs=10.0.9.0/24");
        assertThat(subnets().get(RG, "v", "theirs").addressPrefix()).isEqualTo("10.0.9.0/24");
    }

    // ---- conditional writes

    @Test
    void aPutConditionalOnAnEtagSomeoneHasChangedSinceIsRefusedWith412() throws Exception {
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")));
        String read = vnets().getByResourceGroup(RG, "v").etag();
        String body = "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]},"
            + "\"subnets\":[{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.0.1.0/24\"}}]}}";
        // Someone adds a subnet through the subnets API: the VNet as read is no longer what it is.
        subnets().createOrUpdate(RG, "v", "theirs", subnet("theirs", "10.0.9.0/24"));
        String now = vnets().getByResourceGroup(RG, "v").etag();
        assertThat(now).as("a subnet's write changes its VNet's etag").isNotEqualTo(read);
        assertThat(putIfMatch(id("virtualNetworks/v"), body, read)).startsWith("412 ").contains("PreconditionFailed");
        assertThat(inlineSubnets("v")).as("the stale write dropped nothing").containsExactly("a=10.0.1.0/24", "theirs=10.0.9.0/24");
        assertThat(putIfMatch(id("virtualNetworks/missing"), body, "*")).startsWith("412 ");
        assertThat(putIfMatch(id("virtualNetworks/v"), body, now)).startsWith("200 ");
        assertThat(inlineSubnets("v")).containsExactly("a=10.0.1.0/24");

        // A security group: a write made since its read refuses a write conditional on the read.
        nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND)));
        String groupRead = nsgs().getByResourceGroup(RG, "g").etag();
        nsgs().createOrUpdate(RG, "g", nsg(allow("a", 100, SecurityRuleDirection.INBOUND), allow("theirs", 200, SecurityRuleDirection.INBOUND)));
        String groupBody = "{\"location\":\"eastus\",\"properties\":{\"securityRules\":[]}}";
        assertThat(putIfMatch(id("networkSecurityGroups/g"), groupBody, groupRead)).startsWith("412 ").contains("PreconditionFailed");
        assertThat(nsgs().getByResourceGroup(RG, "g").securityRules()).extracting(SecurityRuleInner::name).containsExactly("a", "theirs");
        assertThat(putIfMatch(id("networkSecurityGroups/g"), groupBody, nsgs().getByResourceGroup(RG, "g").etag())).startsWith("200 ");
    }

    @Test
    void graphListsNetworksWithTheirSubnetsAndSecurityGroupsInOneQuery() {
        nsgs().createOrUpdate(RG, "v-nsg", nsg().withTags(Map.of("mlctl-environment", "e1")));
        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.1.0/24")).withTags(Map.of("mlctl-environment", "e1")));
        vnets().createOrUpdate(RG, "w", vnet("10.1.0.0/16").withTags(Map.of("mlctl-environment", "e2")));
        List<Map<String, Object>> rows = clients.queryAll("q", "resources | where type in~ ('microsoft.network/virtualnetworks', "
            + "'microsoft.network/networksecuritygroups') | where tags['mlctl-environment'] == 'e1' | order by name asc");
        assertThat(rows).extracting(r -> r.get("name")).containsExactly("v", "v-nsg");
        assertThat(String.valueOf(props(rows.get(0)).get("subnets"))).contains("10.0.1.0/24");
        assertThat(arm.faults().count("(?i)POST .*/providers/Microsoft.ResourceGraph/resources")).isEqualTo(1);
    }

    @Test
    void aPublicAddressIsAllocatedWhenStaticKeptForItsLifeAndCannotGoWhileANicUsesIt() throws Exception {
        var pips = clients.network().serviceClient().getPublicIpAddresses();
        var fixed = pips.createOrUpdate(RG, "fixed", new com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner().withLocation("eastus")
            .withPublicIpAllocationMethod(com.azure.resourcemanager.network.models.IpAllocationMethod.STATIC));
        assertThat(fixed.ipAddress()).matches("20\\.\\d+\\.\\d+\\.\\d+");
        var tagged = pips.createOrUpdate(RG, "fixed", fixed.withTags(Map.of("owner", "web")));
        assertThat(tagged.ipAddress()).isEqualTo(fixed.ipAddress());
        var dynamic = pips.createOrUpdate(RG, "dynamic", new com.azure.resourcemanager.network.fluent.models.PublicIpAddressInner().withLocation("eastus"));
        assertThat(dynamic.ipAddress()).as("a dynamic address comes only once something uses it").isNull();
        assertThat(put(id("publicIPAddresses/odd"), "{\"location\": \"eastus\", \"properties\": {\"publicIPAllocationMethod\": \"Sometimes\"}}"))
            .startsWith("400 ").contains("publicIPAllocationMethod");

        vnets().createOrUpdate(RG, "v", vnet("10.0.0.0/16", subnet("a", "10.0.0.0/24")));
        clients.network().serviceClient().getNetworkInterfaces().createOrUpdate(RG, "nic", new com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner()
            .withLocation("eastus").withIpConfigurations(List.of(new com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner()
                .withName("primary").withSubnet(new SubnetInner().withId(id("virtualNetworks/v/subnets/a"))).withPublicIpAddress(fixed))));
        assertThat(code(() -> pips.delete(RG, "fixed"))).isEqualTo("PublicIPAddressCannotBeDeleted");
        clients.network().serviceClient().getNetworkInterfaces().delete(RG, "nic");
        pips.delete(RG, "fixed");
        assertThat(arm.get(id("publicIPAddresses/fixed"))).isEmpty();
    }
}
