package io.mlctl.provider.azure;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.resourcemanager.network.fluent.NetworkSecurityGroupsClient;
import com.azure.resourcemanager.network.fluent.SubnetsClient;
import com.azure.resourcemanager.network.fluent.VirtualNetworksClient;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.NetworkSecurityGroupInner;
import com.azure.resourcemanager.network.fluent.models.SecurityRuleInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.fluent.models.VirtualNetworkInner;
import com.azure.resourcemanager.network.models.AddressSpace;
import com.azure.resourcemanager.network.models.SecurityRuleAccess;
import com.azure.resourcemanager.network.models.SecurityRuleDirection;
import com.azure.resourcemanager.network.models.ServiceEndpointPropertiesFormat;
import com.azure.resourcemanager.network.models.TagsObject;
import io.mlctl.engine.Engine;
import io.mlctl.fake.azure.ArmError;
import io.mlctl.plan.Action;
import io.mlctl.plan.Change;
import io.mlctl.plan.Plan;
import io.mlctl.spec.Environment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Azure network kind through the real engine and SDK against the ARM fake: what lands in Azure
 * (VNet, subnets, NSG and its association, storage endpoints), each attribute changed, drift made out
 * of band as another person would make it (through the ARM API), other people's resources, lost
 * answers, throttling, failed operations, prune, destroy, and what a no-change plan costs.
 */
class AzureNetworkTest {
    static final String NET = """
        - type: network
          name: net
          cidr: 10.20.0.0/16
          privateStorageAccess: true
          subnets:
            - name: aks
              cidr: 10.20.0.0/22
              zone: "1"
            - name: pub
              cidr: 10.20.8.0/24
              private: false
          firewall:
            - name: https
              ports: [443]
              sources: [198.51.100.0/24]
            - name: dns-out
              direction: egress
              protocol: udp
              ports: [53, 123, 124, 125]
              sources: [10.0.0.0/8, 192.0.2.0/24]
        """;

    @TempDir
    Path dir;
    AzureRig rig;
    AzureClients other;

    @BeforeEach
    void setUp() throws Exception {
        rig = new AzureRig(dir);
        other = new AzureClients(AzureSettings.fromEnvironment(Map.of(AzureSettings.ENDPOINT_VARIABLE, rig.arm.endpoint())), AzureRig.SUBSCRIPTION, "eastus");
    }

    @AfterEach
    void tearDown() {
        other.close();
        rig.close();
    }

    VirtualNetworksClient vnets() {
        return other.network().serviceClient().getVirtualNetworks();
    }

    NetworkSecurityGroupsClient nsgs() {
        return other.network().serviceClient().getNetworkSecurityGroups();
    }

    Environment env(String resources) {
        return rig.env("dev", "team: nlp", resources);
    }

    /** The environment in another region. */
    Environment envIn(String region, String resources) {
        return io.mlctl.testing.Specs.env("""
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: dev
              labels: {team: vision}
            spec:
              provider: azure
              region: %s
              resources:
            %s""".formatted(region, resources.indent(4)));
    }

    Environment converge(String resources) {
        Environment env = env(resources);
        rig.apply(env);
        assertThat(rig.plan(env).changes()).as("a second plan after apply").isEmpty();
        return env;
    }

    VirtualNetworkInner vnet() {
        return vnets().getByResourceGroup("dev", "net");
    }

    NetworkSecurityGroupInner nsg() {
        return nsgs().getByResourceGroup("dev", "net-nsg");
    }

    SubnetInner subnet(String name) {
        return vnet().subnets().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no subnet " + name));
    }

    /** mlctl's security rule for the spec's firewall rule {@code name}. */
    SecurityRuleInner rule(String name) {
        return nsg().securityRules().stream().filter(r -> r.name().equals("mlctl-" + name)).findFirst().orElseThrow(() -> new AssertionError("no rule " + name));
    }

    SubnetsClient subnets() {
        return other.network().serviceClient().getSubnets();
    }

    /** A subnet someone else puts into the VNet through the ARM API. */
    SubnetInner theirSubnet(String name, String cidr) {
        return subnets().createOrUpdate("dev", "net", name, new SubnetInner().withAddressPrefix(cidr));
    }

    /** Someone else widens the VNet's address space by {@code prefix}, through the ARM API. */
    void theirPrefix(String prefix) {
        VirtualNetworkInner v = vnet();
        List<String> space = new ArrayList<>(v.addressSpace().addressPrefixes());
        space.add(prefix);
        vnets().createOrUpdate("dev", "net", v.withAddressSpace(new AddressSpace().withAddressPrefixes(space)));
    }

    /** Someone else's NIC in a subnet, through the ARM API. */
    void theirNic(String name, String subnetId) {
        other.network().serviceClient().getNetworkInterfaces().createOrUpdate("dev", name, new NetworkInterfaceInner().withLocation("eastus")
            .withIpConfigurations(List.of(new NetworkInterfaceIpConfigurationInner().withName("ipconfig1").withSubnet(new SubnetInner().withId(subnetId)))));
    }

    static Change change(Plan plan, String address) {
        return plan.changes().stream().filter(c -> c.address().toString().equals(address)).findFirst()
            .orElseThrow(() -> new AssertionError("no change of " + address + " in " + AzureRig.paths(plan)));
    }

    // ------------------------------------------------------------------ from nothing

    @Test
    void applyFromNothingMakesTheNetworkAnAzureUserExpectsThenPlansClean() {
        converge(NET);
        VirtualNetworkInner v = vnet();
        assertThat(v.location()).isEqualTo("eastus");
        assertThat(v.addressSpace().addressPrefixes()).containsExactly("10.20.0.0/16");
        assertThat(v.tags()).containsEntry("mlctl-environment", "dev").containsEntry("mlctl-address", "network.net").containsEntry("managed-by", "mlctl")
            .containsEntry("team", "nlp").containsEntry("mlctl-labels", "team").containsEntry("mlctl-subnets", "aks:pub");
        String nsgId = rig.id("dev", "Microsoft.Network/networkSecurityGroups/net-nsg");
        for (SubnetInner s : v.subnets()) {
            assertThat(s.networkSecurityGroup().id()).as("subnet %s is covered by the NSG", s.name()).isEqualToIgnoringCase(nsgId);
            assertThat(s.serviceEndpoints()).extracting(ServiceEndpointPropertiesFormat::service).containsExactly("Microsoft.Storage");
        }
        assertThat(subnet("aks").addressPrefix()).isEqualTo("10.20.0.0/22");
        assertThat(subnet("aks").defaultOutboundAccess()).as("private by default").isFalse();
        assertThat(subnet("pub").defaultOutboundAccess()).isTrue();

        NetworkSecurityGroupInner g = nsg();
        assertThat(g.tags()).containsEntry("mlctl-address", "network.net").containsEntry("team", "nlp");
        assertThat(g.subnets()).hasSize(2);
        SecurityRuleInner dns = rule("dns-out");
        SecurityRuleInner https = rule("https");
        // Priorities 100, 101, ... in rule-name order.
        assertThat(dns.priority()).isEqualTo(100);
        assertThat(https.priority()).isEqualTo(101);
        assertThat(https.direction()).isEqualTo(SecurityRuleDirection.INBOUND);
        assertThat(https.access()).isEqualTo(SecurityRuleAccess.ALLOW);
        assertThat(https.protocol().toString()).isEqualTo("Tcp");
        assertThat(https.destinationPortRange()).isEqualTo("443");
        assertThat(https.sourceAddressPrefix()).isEqualTo("198.51.100.0/24");
        assertThat(https.destinationAddressPrefix()).isEqualTo("*");
        assertThat(dns.direction()).isEqualTo(SecurityRuleDirection.OUTBOUND);
        assertThat(dns.protocol().toString()).isEqualTo("Udp");
        assertThat(dns.destinationPortRanges()).containsExactly("53", "123-125");
        assertThat(dns.destinationAddressPrefixes()).containsExactly("10.0.0.0/8", "192.0.2.0/24");
        assertThat(dns.sourceAddressPrefix()).isEqualTo("*");
    }

    // ------------------------------------------------------------------ changes

    @Test
    void eachAttributeChangeIsTheExpectedUpdateOrReplace() {
        converge(NET);
        String vnetId = vnet().id();

        // The address space changes in place while every subnet stays inside it.
        Plan p = rig.plan(env(NET.replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/17")));
        assertThat(change(p, "network.net").action()).isEqualTo(Action.UPDATE);
        assertThat(AzureRig.paths(p)).containsExactly("network.net:cidr");
        converge(NET.replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/17"));
        assertThat(vnet().addressSpace().addressPrefixes()).containsExactly("10.20.0.0/17");
        assertThat(vnet().id()).isEqualTo(vnetId);

        // A subnet's range: the subnet is replaced (what runs in it goes first), the network updated.
        String moved = NET.replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/17").replace("cidr: 10.20.8.0/24", "cidr: 10.20.9.0/24");
        p = rig.plan(env(moved));
        assertThat(change(p, "network.net.subnet.pub").action()).isEqualTo(Action.REPLACE);
        assertThat(change(p, "network.net").action()).isEqualTo(Action.UPDATE);
        converge(moved);
        assertThat(subnet("pub").addressPrefix()).isEqualTo("10.20.9.0/24");

        // private, the storage endpoint, a firewall rule's ports, a label: all in place.
        String changed = moved.replace("private: false", "private: true").replace("privateStorageAccess: true", "privateStorageAccess: false")
            .replace("ports: [443]", "ports: [443, 8443]");
        p = rig.plan(rig.env("dev", "team: vision", changed));
        assertThat(p.changes()).extracting(Change::action).containsOnly(Action.UPDATE);
        assertThat(AzureRig.paths(p)).contains("network.net:subnets[pub].private", "network.net:privateStorageAccess", "network.net:tags.team");
        assertThat(AzureRig.paths(p)).anyMatch(s -> s.startsWith("network.net:firewall[https]"));
        rig.apply(rig.env("dev", "team: vision", changed));
        assertThat(rig.plan(rig.env("dev", "team: vision", changed)).changes()).isEmpty();
        assertThat(subnet("pub").defaultOutboundAccess()).isFalse();
        assertThat(vnet().subnets()).allSatisfy(s -> assertThat(s.serviceEndpoints()).isNullOrEmpty());
        assertThat(rule("https").destinationPortRanges()).containsExactly("443", "8443");
        assertThat(vnet().tags()).containsEntry("team", "vision");
        assertThat(nsg().tags()).containsEntry("team", "vision");

        // A subnet added, then removed again (the subnet's own delete).
        String withExtra = changed.replace("      private: true\n  firewall:", "      private: true\n    - name: extra\n      cidr: 10.20.12.0/24\n  firewall:");
        assertThat(withExtra).isNotEqualTo(changed);
        rig.apply(rig.env("dev", "team: vision", withExtra));
        assertThat(vnet().subnets()).extracting(SubnetInner::name).contains("extra");
        assertThat(subnet("extra").networkSecurityGroup()).isNotNull();
        p = rig.plan(rig.env("dev", "team: vision", changed));
        assertThat(change(p, "network.net.subnet.extra").action()).isEqualTo(Action.DELETE);
        rig.apply(rig.env("dev", "team: vision", changed));
        assertThat(vnet().subnets()).extracting(SubnetInner::name).containsExactlyInAnyOrder("aks", "pub");

        // The region cannot change in place.
        Environment west = envIn("westus2", changed);
        p = rig.plan(west);
        assertThat(change(p, "network.net").action()).isEqualTo(Action.REPLACE);
        rig.apply(west);
        assertThat(rig.plan(west).changes()).isEmpty();
        assertThat(vnet().location()).isEqualTo("westus2");
        assertThat(nsg().location()).isEqualTo("westus2");
    }

    // ------------------------------------------------------------------ drift

    @Test
    void driftMadeOutOfBandShowsInThePlanAndApplyCorrectsIt() {
        Environment env = converge(NET);
        // Someone opens the https rule to the world on another port, in the portal.
        NetworkSecurityGroupInner g = nsg();
        g.securityRules().stream().filter(r -> r.name().equals("mlctl-https")).forEach(r -> r.withDestinationPortRange("8080").withSourceAddressPrefix("*"));
        nsgs().createOrUpdate("dev", "net-nsg", g);
        // Someone takes the NSG off a subnet.
        VirtualNetworkInner v = vnet();
        v.subnets().stream().filter(s -> s.name().equals("pub")).forEach(s -> s.withNetworkSecurityGroup(null));
        vnets().createOrUpdate("dev", "net", v);
        // Someone removes a label (and adds a tag of their own, which is theirs to keep).
        Map<String, String> tags = new TreeMap<>(vnet().tags());
        tags.remove("team");
        tags.put("cost-center", "42");
        vnets().updateTags("dev", "net", new TagsObject().withTags(tags));

        Plan drift = rig.plan(env);
        assertThat(AzureRig.paths(drift)).contains("network.net:firewall[https].ports", "network.net:firewall[https].sources",
            "network.net:subnets[pub].networkSecurityGroup", "network.net:tags.team");
        assertThat(change(drift, "network.net").action()).isEqualTo(Action.UPDATE);

        rig.apply(env);
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(rule("https").destinationPortRange()).isEqualTo("443");
        assertThat(rule("https").sourceAddressPrefix()).isEqualTo("198.51.100.0/24");
        assertThat(subnet("pub").networkSecurityGroup()).isNotNull();
        assertThat(vnet().tags()).containsEntry("team", "nlp").containsEntry("cost-center", "42");
    }

    @Test
    void aRuleSomeoneElseAddedIsKeptAndNotDriftWhileALabelRemovedOnTheSecurityGroupIs() {
        Environment env = converge(NET);
        // The security team adds its own rule at the inbound priority after ours (dns-out 100 out, https 101 in),
        // and someone removes a label from the group.
        NetworkSecurityGroupInner g = nsg();
        List<SecurityRuleInner> rules = new ArrayList<>(g.securityRules());
        rules.add(new SecurityRuleInner().withName("corp-ssh").withPriority(102).withDirection(SecurityRuleDirection.INBOUND)
            .withAccess(SecurityRuleAccess.ALLOW).withProtocol(com.azure.resourcemanager.network.models.SecurityRuleProtocol.TCP)
            .withSourcePortRange("*").withDestinationPortRange("22").withSourceAddressPrefix("10.1.0.0/16").withDestinationAddressPrefix("*"));
        Map<String, String> tags = new TreeMap<>(g.tags());
        tags.remove("team");
        nsgs().createOrUpdate("dev", "net-nsg", g.withSecurityRules(rules).withTags(tags));

        Plan drift = rig.plan(env);
        assertThat(AzureRig.paths(drift)).containsExactly("network.net:tags.team");
        rig.apply(env);
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(nsg().tags()).containsEntry("team", "nlp");
        assertThat(nsg().securityRules()).extracting(SecurityRuleInner::name).containsExactlyInAnyOrder("mlctl-https", "mlctl-dns-out", "corp-ssh");

        // A new inbound rule of ours would take 102 in name order: it skips the priority corp-ssh holds.
        String withWeb = NET + """
                - name: web
                  ports: [80]
                  sources: [198.51.100.0/24]
            """;
        converge(withWeb);
        assertThat(rule("web").priority()).isEqualTo(103);
        assertThat(rule("https").priority()).isEqualTo(101);
        SecurityRuleInner corp = nsg().securityRules().stream().filter(r -> r.name().equals("corp-ssh")).findFirst().orElseThrow();
        assertThat(corp.priority()).isEqualTo(102);
        assertThat(corp.destinationPortRange()).isEqualTo("22");
        // Their rule also stays when all of ours go.
        converge(NET.replaceAll("(?s)  firewall:.*", ""));
        assertThat(nsg().securityRules()).extracting(SecurityRuleInner::name).containsExactly("corp-ssh");
    }

    // ------------------------------------------------------------------ prune and destroy

    @Test
    void pruneAndDestroyLeaveNothingOwned() {
        String two = NET + """
            - type: network
              name: lab
              cidr: 10.30.0.0/16
              subnets:
                - name: a
                  cidr: 10.30.1.0/24
            """;
        converge(two);
        assertThat(rig.arm.list("Microsoft.Network/virtualNetworks")).hasSize(2);
        Plan prune = rig.apply(env(NET));
        assertThat(change(prune, "network.lab").action()).isEqualTo(Action.DELETE);
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/virtualNetworks/lab"))).isEmpty();
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/networkSecurityGroups/lab-nsg"))).isEmpty();
        assertThat(vnet().id()).isNotNull();

        rig.destroy(env(NET));
        assertThat(rig.arm.all()).isEmpty();
        assertThat(rig.arm.group(AzureRig.SUBSCRIPTION, "dev")).as("the group mlctl made is gone with it").isEmpty();
    }

    @Test
    void aSecurityGroupLeftWithoutItsNetworkIsListedAndFinishedOrRemoved() {
        Environment env = converge(NET);
        // A run that stopped between the VNet's delete and the NSG's (or a VNet deleted by hand).
        vnets().delete("dev", "net");
        Plan p = rig.plan(env);
        assertThat(change(p, "network.net").action()).isEqualTo(Action.UPDATE);
        assertThat(AzureRig.paths(p)).contains("network.net:cidr");
        rig.apply(env);
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(vnet().subnets()).hasSize(2);

        vnets().delete("dev", "net");
        rig.destroy(env);
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/networkSecurityGroups/net-nsg"))).isEmpty();
    }

    // ------------------------------------------------------------------ other people's resources

    @Test
    void aSameNamedNetworkOrSecurityGroupOfSomeoneElseIsRefusedNamingIt() {
        rig.arm.putGroup(AzureRig.SUBSCRIPTION, "dev", "eastus", Map.of());
        vnets().createOrUpdate("dev", "net", new VirtualNetworkInner().withLocation("eastus")
            .withAddressSpace(new AddressSpace().withAddressPrefixes(List.of("10.99.0.0/16"))).withTags(Map.of("owner", "data-team")));
        List<String> failures = rig.applyFailing(env(NET));
        assertThat(failures).singleElement().asString().contains("virtual network net").contains("not managed by mlctl");
        assertThat(vnet().addressSpace().addressPrefixes()).containsExactly("10.99.0.0/16");
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/networkSecurityGroups/net-nsg"))).as("nothing of ours made beside it").isEmpty();

        vnets().delete("dev", "net");
        nsgs().createOrUpdate("dev", "net-nsg", new NetworkSecurityGroupInner().withLocation("eastus").withTags(Map.of("mlctl-environment", "prod",
            "mlctl-address", "network.net", "managed-by", "mlctl")));
        failures = rig.applyFailing(env(NET));
        assertThat(failures).singleElement().asString().contains("network security group net-nsg").contains("environment prod");
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/virtualNetworks/net"))).isEmpty();
        assertThat(nsg().tags()).containsEntry("mlctl-environment", "prod");
    }

    @Test
    void aSubnetSomethingStillUsesIsNotRemovedAndTheFailureIsOneLine() {
        Environment env = converge(NET);
        String aks = rig.id("dev", "Microsoft.Network/virtualNetworks/net/subnets/aks");
        // Someone else's NIC in the subnet (a stand-in until the instance kind's NICs are in the fake).
        String nic = rig.id("dev", "Microsoft.Network/networkInterfaces/their-nic");
        rig.arm.put(nic, Map.of("id", nic, "name", "their-nic", "type", "Microsoft.Network/networkInterfaces", "location", "eastus",
            "properties", Map.of("ipConfigurations", List.of(Map.of("name", "ipconfig1", "properties", Map.of("subnet", Map.of("id", aks)))))));
        String withoutAks = NET.replace("    - name: aks\n      cidr: 10.20.0.0/22\n      zone: \"1\"\n", "");
        List<String> failures = rig.applyFailing(env(withoutAks));
        assertThat(failures).singleElement().asString().contains("InUseSubnetCannotBeDeleted").contains("their-nic").doesNotContain("\n");
        assertThat(subnet("aks").addressPrefix()).isEqualTo("10.20.0.0/22");
        rig.arm.remove(nic);
        rig.apply(env);
    }

    // ------------------------------------------------------------------ faults

    @Test
    void aLostAnswerCreatesNothingTwice() {
        rig.arm.faults().dropResponse("(?i)PUT .*/virtualNetworks/net$", 1);
        rig.arm.faults().dropResponse("(?i)PUT .*/networkSecurityGroups/net-nsg$", 1);
        Environment env = converge(NET);
        assertThat(rig.arm.faults().count("(?i)PUT .*/virtualNetworks/net$")).as("the drop fired and the PUT was sent again").isGreaterThanOrEqualTo(2);
        assertThat(rig.arm.faults().count("(?i)PUT .*/networkSecurityGroups/net-nsg$")).isGreaterThanOrEqualTo(2);
        assertThat(rig.arm.list("Microsoft.Network/virtualNetworks")).hasSize(1);
        assertThat(rig.arm.list("Microsoft.Network/networkSecurityGroups")).hasSize(1);
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    @Test
    void throttlingIsWaitedOutAsRetryAfterSays() {
        rig.arm.faults().throttle("(?i)PUT .*/networkSecurityGroups/net-nsg$", 1, 1);
        converge(NET);
        assertThat(rig.arm.faults().count("(?i)PUT .*/networkSecurityGroups/net-nsg$")).isEqualTo(2);
        assertThat(nsg().securityRules()).hasSize(2);
    }

    @Test
    void aFailedOperationIsOneLineAndTheNextApplyFinishesTheNetwork() {
        rig.arm.faults().failOperation("(?i)PUT .*/virtualNetworks/net$", 1, new ArmError(409, "SubscriptionNotRegistered",
            "The subscription is not registered to use namespace 'Microsoft.Network'."));
        Environment env = env(NET);
        List<String> failures = rig.applyFailing(env);
        assertThat(failures).singleElement().asString().contains("virtual network net").contains("not registered to use namespace")
            .contains("SubscriptionNotRegistered").doesNotContain("\n").doesNotContain("{");
        // The failed VNet shows as such, and the next apply puts it right.
        assertThat(AzureRig.paths(rig.plan(env))).contains("network.net:provisioningState");
        rig.apply(env);
        assertThat(rig.plan(env).changes()).isEmpty();
        assertThat(vnet().provisioningState().toString()).isEqualTo("Succeeded");
    }

    @Test
    void aFailedOperationAzureCallsRetryableIsRetriedWithinTheApply() {
        rig.arm.faults().failOperation("(?i)PUT .*/virtualNetworks/net$", 1, new ArmError(500, "InternalServerError",
            "An error occurred while provisioning the virtual network."));
        converge(NET);
        assertThat(rig.arm.faults().count("(?i)PUT .*/virtualNetworks/net$")).isEqualTo(2);
        assertThat(vnet().provisioningState().toString()).isEqualTo("Succeeded");
    }

    @Test
    void aNetworkAKilledRunLeftCreatingIsWaitedForAndFinished() throws Exception {
        rig.arm.putGroup(AzureRig.SUBSCRIPTION, "dev", "eastus", Map.of());
        // The earlier run's PUT went out (marked, as mlctl marks in the PUT itself), then the process died
        // with the VNet still Creating: held so until this test lets it finish.
        Map<String, String> marker = new TreeMap<>(Map.of("mlctl-environment", "dev", "mlctl-address", "network.net", "managed-by", "mlctl"));
        vnets().createOrUpdate("dev", "net", new VirtualNetworkInner().withLocation("eastus").withTags(marker)
            .withAddressSpace(new AddressSpace().withAddressPrefixes(List.of("10.20.0.0/16"))));
        String id = rig.id("dev", "Microsoft.Network/virtualNetworks/net");
        Map<String, Object> held = rig.arm.get(id).orElseThrow();
        io.mlctl.fake.azure.ArmFake.properties(held).put("provisioningState", "Creating");
        rig.arm.put(id, held);
        assertThat(vnet().provisioningState().toString()).isEqualTo("Creating");
        rig.arm.faults().resetCounts();

        Environment env = env(NET);
        java.util.concurrent.CompletableFuture<Plan> applied = java.util.concurrent.CompletableFuture.supplyAsync(() -> rig.apply(env));
        // The apply reads the VNet, finds it Creating and waits: only then does the operation finish.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(2);
        while (rig.arm.faults().count("(?i)^GET .*/virtualNetworks/net$") == 0 && !applied.isDone() && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(applied).as("the apply waits while the VNet is Creating").isNotDone();
        held = rig.arm.get(id).orElseThrow();
        io.mlctl.fake.azure.ArmFake.properties(held).put("provisioningState", "Succeeded");
        rig.arm.put(id, held);
        applied.get(2, java.util.concurrent.TimeUnit.MINUTES);

        assertThat(rig.arm.faults().count("(?i)^GET .*/virtualNetworks/net$")).as("read again after Creating").isGreaterThanOrEqualTo(2);
        assertThat(rig.arm.faults().count("(?i)^PUT .*/virtualNetworks/net$")).as("no write refused while Creating").isEqualTo(1);
        assertThat(vnet().subnets()).hasSize(2);
        assertThat(vnet().tags()).containsEntry("team", "nlp");
        assertThat(rig.plan(env).changes()).isEmpty();
    }

    // ------------------------------------------------------------------ other people's subnets

    @Test
    void someoneElsesSubnetsAreNotDriftSurviveUpdatesWithTheirPrefixAndNicsAndBlockDestroy() {
        Environment env = converge(NET);
        // Another team widens the address space for its database subnet and puts an app subnet with a NIC
        // into free space of ours, all through the ARM API.
        theirPrefix("10.99.0.0/16");
        String app = theirSubnet("their-app", "10.20.64.0/24").id();
        theirSubnet("their-db", "10.99.1.0/24");
        theirNic("their-nic", app);

        assertThat(rig.plan(env).changes()).as("their subnets and their prefix are not drift").isEmpty();

        // Our cidr shrinks, one of our subnets changes and one is added: theirs, their prefix and their NIC stay.
        String changed = NET.replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/17").replace("private: false", "private: true")
            .replace("      private: true\n  firewall:", "      private: true\n    - name: extra\n      cidr: 10.20.12.0/24\n  firewall:");
        assertThat(changed).contains("name: extra");
        converge(changed);
        assertThat(vnet().addressSpace().addressPrefixes()).containsExactlyInAnyOrder("10.20.0.0/17", "10.99.0.0/16");
        assertThat(vnet().subnets()).extracting(SubnetInner::name).containsExactlyInAnyOrder("aks", "pub", "extra", "their-app", "their-db");
        assertThat(subnet("their-app").addressPrefix()).isEqualTo("10.20.64.0/24");
        assertThat(subnet("their-app").networkSecurityGroup()).as("theirs is not put under our NSG").isNull();
        assertThat(other.network().serviceClient().getNetworkInterfaces().getByResourceGroup("dev", "their-nic").ipConfigurations().get(0).subnet().id())
            .isEqualToIgnoringCase(app);
        assertThat(subnet("pub").defaultOutboundAccess()).isFalse();
        assertThat(vnet().tags()).containsEntry("mlctl-subnets", "aks:extra:pub");

        // A subnet of ours removed from the spec goes; theirs stay.
        converge(NET.replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/17"));
        assertThat(vnet().subnets()).extracting(SubnetInner::name).containsExactlyInAnyOrder("aks", "pub", "their-app", "their-db");

        // A cidr that would leave their subnet outside the VNet is refused, naming it.
        List<String> failures = rig.applyFailing(env(NET.replace("cidr: 10.20.0.0/16", "cidr: 10.20.0.0/18")));
        assertThat(failures).singleElement().asString().contains("their-app").contains("10.20.64.0/24").contains("would lie outside")
            .doesNotContain("\n");
        assertThat(vnet().addressSpace().addressPrefixes()).contains("10.20.0.0/17");

        // Destroy refuses to take their subnets down with the VNet, naming them, before deleting anything.
        Engine.ApplyOutcome refused = rig.run(env, true);
        assertThat(refused.result().orElseThrow().failures()).singleElement().asString().contains("their-app (10.20.64.0/24)")
            .contains("their-db (10.99.1.0/24)").contains("does not manage").doesNotContain("\n");
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/virtualNetworks/net"))).isPresent();
        assertThat(rig.arm.get(rig.id("dev", "Microsoft.Network/networkSecurityGroups/net-nsg"))).isPresent();

        // Once they have moved out, destroy leaves nothing.
        other.network().serviceClient().getNetworkInterfaces().delete("dev", "their-nic");
        subnets().delete("dev", "net", "their-app");
        subnets().delete("dev", "net", "their-db");
        rig.destroy(env);
        assertThat(rig.arm.all()).isEmpty();
    }

    @Test
    void aSubnetAndARuleSomeoneAddsBetweenMlctlsReadAndItsWriteSurvive() {
        Environment env = converge(NET);
        // The next apply changes a subnet and a firewall rule. Right as each of its writes goes out (after
        // its read), another team adds a subnet to the VNet and a rule to the security group.
        rig.arm.faults().before("(?i)^PUT .*/virtualNetworks/net$", 1, () -> theirSubnet("their-app", "10.20.64.0/24"));
        rig.arm.faults().before("(?i)^PUT .*/networkSecurityGroups/net-nsg$", 1, () -> {
            NetworkSecurityGroupInner g = nsg();
            List<SecurityRuleInner> rules = new ArrayList<>(g.securityRules());
            rules.add(new SecurityRuleInner().withName("corp-ssh").withPriority(200).withDirection(SecurityRuleDirection.INBOUND)
                .withAccess(SecurityRuleAccess.ALLOW).withProtocol(com.azure.resourcemanager.network.models.SecurityRuleProtocol.TCP)
                .withSourcePortRange("*").withDestinationPortRange("22").withSourceAddressPrefix("10.1.0.0/16").withDestinationAddressPrefix("*"));
            nsgs().createOrUpdate("dev", "net-nsg", g.withSecurityRules(rules));
        });
        rig.arm.faults().resetCounts();
        String changed = NET.replace("private: false", "private: true").replace("ports: [443]", "ports: [443, 8443]");
        converge(changed);

        assertThat(vnet().subnets()).extracting(SubnetInner::name).containsExactlyInAnyOrder("aks", "pub", "their-app");
        assertThat(subnet("pub").defaultOutboundAccess()).as("mlctl's change made all the same").isFalse();
        assertThat(nsg().securityRules()).extracting(SecurityRuleInner::name).containsExactlyInAnyOrder("mlctl-https", "mlctl-dns-out", "corp-ssh");
        assertThat(rule("https").destinationPortRanges()).containsExactly("443", "8443");
        // Each write was refused once as stale (412), then read again and made from what is there now.
        assertThat(rig.arm.faults().count("(?i)^PUT .*/virtualNetworks/net$")).isEqualTo(2);
        assertThat(rig.arm.faults().count("(?i)^PUT .*/networkSecurityGroups/net-nsg$")).as("ours twice, theirs once").isEqualTo(3);
        assertThat(rig.plan(env(changed)).changes()).isEmpty();
    }

    @Test
    void aWriteSomeoneKeepsChangingUnderneathFailsAfterAFewTriesAsOneLine() {
        converge(NET);
        // Every write finds the VNet changed since its read (another tool rewriting it in a loop).
        int[] n = {0};
        rig.arm.faults().before("(?i)^PUT .*/virtualNetworks/net$", 100, () -> theirSubnet("their-" + n[0], "10.20." + (64 + n[0]++) + ".0/24"));
        List<String> failures = rig.applyFailing(env(NET.replace("private: false", "private: true")));
        assertThat(failures).singleElement().asString().contains("virtual network net").contains("changed by someone else").doesNotContain("\n");
        assertThat(vnet().subnets()).extracting(SubnetInner::name).contains("their-0", "their-1");
        assertThat(subnet("pub").defaultOutboundAccess()).as("never written over theirs").isTrue();
    }

    @Test
    void aPrefixSomeoneAddedAheadOfTheirSubnetIsNotDriftAndStays() {
        Environment env = converge(NET);
        // Another team widens the address space first; its subnet comes later.
        theirPrefix("10.99.0.0/16");
        assertThat(rig.plan(env).changes()).as("their empty prefix is not drift").isEmpty();

        converge(NET.replace("private: false", "private: true"));
        assertThat(vnet().addressSpace().addressPrefixes()).containsExactlyInAnyOrder("10.20.0.0/16", "10.99.0.0/16");
        theirSubnet("their-db", "10.99.1.0/24");
        assertThat(subnet("their-db").addressPrefix()).isEqualTo("10.99.1.0/24");

        // mlctl's own earlier cidr is not theirs: a network without subnets moved to another range leaves it behind.
        String lab = """
            - type: network
              name: lab
              cidr: 10.30.0.0/16
            """;
        converge(NET + lab);
        Plan moved = rig.plan(env(NET + lab.replace("10.30.0.0/16", "10.31.0.0/16")));
        assertThat(AzureRig.paths(moved)).containsExactly("network.lab:cidr");
        converge(NET + lab.replace("10.30.0.0/16", "10.31.0.0/16"));
        assertThat(vnets().getByResourceGroup("dev", "lab").addressSpace().addressPrefixes()).containsExactly("10.31.0.0/16");
    }

    @Test
    void aSubnetOfTheSpecsNameThatIsSomeoneElsesIsRefusedNotTakenOver() {
        converge(NET);
        theirSubnet("extra", "10.20.12.0/24");
        String withExtra = NET.replace("      private: false\n", "      private: false\n    - name: extra\n      cidr: 10.20.12.0/24\n");
        assertThat(withExtra).contains("name: extra");
        Plan p = rig.plan(env(withExtra));
        assertThat(AzureRig.paths(p)).contains("network.net:subnets[extra]");
        List<String> failures = rig.applyFailing(env(withExtra));
        assertThat(failures).singleElement().asString().contains("subnet extra").contains("not managed by mlctl").doesNotContain("\n");
        assertThat(subnet("extra").networkSecurityGroup()).as("left as it was").isNull();
        assertThat(vnet().tags()).containsEntry("mlctl-subnets", "aks:pub");
    }

    @Test
    void aLostSubnetRecordFallsBackToTheSecurityGroupAndIsWrittenAgain() {
        Environment env = converge(NET);
        theirSubnet("their-app", "10.20.64.0/24");
        Map<String, String> tags = new TreeMap<>(vnet().tags());
        tags.remove("mlctl-subnets");
        vnets().updateTags("dev", "net", new TagsObject().withTags(tags));
        // Ours are the subnets under our security group; theirs is still not drift.
        assertThat(rig.plan(env).changes()).isEmpty();
        converge(NET.replace("private: false", "private: true"));
        assertThat(vnet().tags()).containsEntry("mlctl-subnets", "aks:pub");
        assertThat(vnet().subnets()).extracting(SubnetInner::name).containsExactlyInAnyOrder("aks", "pub", "their-app");
    }

    @Test
    void theSubnetRecordIsNeverALabelAndLongListsSpanTagsOfAtMost256Characters() {
        List<String> names = new ArrayList<>();
        StringBuilder spec = new StringBuilder("""
            - type: network
              name: net
              cidr: 10.20.0.0/16
              subnets:
            """);
        for (int i = 0; i < 9; i++) {
            String name = "s" + i + "-" + "x".repeat(58);
            names.add(name);
            spec.append("    - name: ").append(name).append("\n      cidr: 10.20.").append(i).append(".0/24\n");
        }
        Environment env = converge(spec.toString());
        Map<String, String> tags = vnet().tags();
        assertThat(tags).containsKeys("mlctl-subnets", "mlctl-subnets-2", "mlctl-subnets-3");
        assertThat(tags.values()).allSatisfy(x -> assertThat(x.length()).isLessThanOrEqualTo(256));
        assertThat(NetworkKind.subnetRecord(tags).orElseThrow()).containsExactlyInAnyOrderElementsOf(names);
        // Not reported as labels: the observed tags are the environment's labels alone.
        assertThat(rig.azure.list(env, io.mlctl.spec.ResourceType.NETWORK, java.util.Optional.empty()).items().stream().filter(r -> r.address().name().equals("net")).findFirst()
            .orElseThrow().attributes().get("tags")).isEqualTo(Map.of("team", "nlp"));
        // Fewer subnets: the record shrinks back into one tag.
        converge(spec.toString().replaceAll("(?s)    - name: s3-.*", ""));
        assertThat(vnet().tags()).containsKey("mlctl-subnets").doesNotContainKeys("mlctl-subnets-2", "mlctl-subnets-3");
        assertThat(NetworkKind.subnetRecord(vnet().tags()).orElseThrow()).containsExactlyInAnyOrderElementsOf(names.subList(0, 3));
    }

    @Test
    void onlyTheEnvironmentsResourceGroupIsListed() {
        Environment env = converge(NET);
        // A network marked as this environment's, in another resource group (copied there, or an older spec.resourceGroup).
        rig.arm.putGroup(AzureRig.SUBSCRIPTION, "elsewhere", "eastus", Map.of());
        other.network().serviceClient().getVirtualNetworks().createOrUpdate("elsewhere", "old", new VirtualNetworkInner().withLocation("eastus")
            .withAddressSpace(new AddressSpace().withAddressPrefixes(List.of("10.50.0.0/16")))
            .withTags(Map.of("mlctl-environment", "dev", "mlctl-address", "network.old", "managed-by", "mlctl")));
        rig.arm.faults().resetCounts();
        assertThat(rig.plan(env).changes()).as("not offered for deletion").isEmpty();
        assertThat(rig.arm.faults().count("(?i)^POST /providers/Microsoft.ResourceGraph/resources .*virtualnetworks.*resourceGroup =~ 'dev'")).isEqualTo(1);
        assertThat(rig.arm.get(rig.id("elsewhere", "Microsoft.Network/virtualNetworks/old"))).isPresent();
    }

    // ------------------------------------------------------------------ cost

    @Test
    void aNoChangePlanOfTwentyNetworksIsOneGraphQuery() {
        StringBuilder spec = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            spec.append("""
                - type: network
                  name: n%02d
                  cidr: 10.%d.0.0/16
                  subnets:
                    - name: a
                      cidr: 10.%d.1.0/24
                    - name: b
                      cidr: 10.%d.2.0/24
                    - name: c
                      cidr: 10.%d.3.0/24
                  firewall:
                    - name: ssh
                      ports: [22]
                      sources: [203.0.113.0/24]
                """.formatted(i, i, i, i, i));
        }
        Environment env = converge(spec.toString());
        rig.arm.faults().resetCounts();
        Plan p = rig.plan(env);
        assertThat(p.changes()).isEmpty();
        assertThat(p.unchanged()).hasSize(20);
        // 20 VNets, 60 subnets, 20 NSGs: one Resource Graph query answers them all.
        assertThat(rig.graphQueries("virtualnetworks")).isEqualTo(1);
        assertThat(rig.nonGraphRequests()).isZero();
    }
}
