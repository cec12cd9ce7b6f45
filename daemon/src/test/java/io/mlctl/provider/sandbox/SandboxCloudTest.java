package io.mlctl.provider.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.InventoryReader;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Page;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import io.mlctl.testing.Fixtures;
import io.mlctl.testing.Specs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxCloudTest {
    @TempDir
    Path dir;

    private SandboxCloud cloud() {
        return new SandboxCloud(dir, Specs.CATALOG, Clock.systemUTC());
    }

    private final Environment env = Specs.env(Fixtures.smallEnv("dev"));

    private ObservedResource create(SandboxCloud c, String address, String token) {
        ResourceSpec r = env.resource(Address.parse(address)).orElseThrow();
        return c.create(env, r, Ownership.tags("dev", r.address()), token);
    }

    @Test
    void assignsCloudShapedIdsPerProvider() {
        SandboxCloud c = cloud();
        assertThat(create(c, "network.net", "t1").cloudId()).matches("vpc-[0-9a-f]{17}");
        assertThat(create(c, "identity.trainer", "t2").cloudId()).isEqualTo("arn:aws:iam::000000000000:role/dev-trainer");
        assertThat(create(c, "bucket.dev-data", "t3").cloudId()).isEqualTo("dev-data");
        for (String provider : new String[] {"gcp", "azure"}) {
            String yaml = "apiVersion: mlctl.io/v1\nkind: Environment\nmetadata: {name: x}\nspec:\n  provider: " + provider
                + "\n  region: " + (provider.equals("gcp") ? "us-central1" : "eastus") + "\n  resources:\n    - {type: network, name: n, cidr: 10.0.0.0/16}\n";
            Environment e = Specs.env(yaml);
            ResourceSpec n = e.resources().get(0);
            String id = c.create(e, n, Ownership.tags("x", n.address()), "t-" + provider).cloudId();
            assertThat(id).isEqualTo(provider.equals("gcp") ? "projects/sandbox-project/global/networks/x-n"
                : "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/x/providers/Microsoft.Network/virtualNetworks/n");
        }
    }

    @Test
    void createWithTheSameTokenReturnsTheFirstResource() {
        SandboxCloud c = cloud();
        ObservedResource first = create(c, "instance.gpu-1", "same");
        ObservedResource again = create(c, "instance.gpu-1", "same");
        assertThat(again.cloudId()).isEqualTo(first.cloudId());
        assertThat(c.all(io.mlctl.spec.Provider.AWS, ResourceType.INSTANCE)).hasSize(1);
        ObservedResource other = create(c, "instance.gpu-1", "another");
        assertThat(other.cloudId()).isNotEqualTo(first.cloudId());
        Inventory inv = new InventoryReader(c).read(env);
        assertThat(inv.duplicates()).hasSize(1);
    }

    @Test
    void listsInPagesOnlyWhatTheEnvironmentOwns() throws Exception {
        Files.writeString(dir.resolve("config.json"), "{\"pageSize\": 2}");
        SandboxCloud c = cloud();
        for (int i = 0; i < 5; i++) {
            Address a = Address.parse("bucket.b" + i);
            c.create(env, new ResourceSpec(a, Map.of("region", "us-east-1"), java.util.Set.of(), null), Ownership.tags("dev", a), "b" + i);
        }
        Address foreign = Address.parse("bucket.f");
        c.create(env, new ResourceSpec(foreign, Map.of("region", "us-east-1"), java.util.Set.of(), null), Map.of("team", "other"), "f");
        Page p1 = c.list(env, ResourceType.BUCKET, Optional.empty());
        assertThat(p1.items()).hasSize(2);
        Page p2 = c.list(env, ResourceType.BUCKET, p1.nextPageToken());
        Page p3 = c.list(env, ResourceType.BUCKET, p2.nextPageToken());
        assertThat(p3.items()).hasSize(1);
        assertThat(p3.nextPageToken()).isEmpty();
        long before = c.requestCount();
        assertThat(new InventoryReader(c).read(env).size()).isEqualTo(5);
        // One page per kind (five kinds empty) plus three bucket pages.
        assertThat(c.requestCount() - before).isEqualTo(8);
        assertThatThrownBy(() -> c.list(env, ResourceType.BUCKET, Optional.of("99:2"))).hasMessageContaining("invalid or expired page token");
    }

    @Test
    void enforcesCatalogsImmutableFieldsAndUse() {
        SandboxCloud c = cloud();
        ResourceSpec gpu = env.resource(Address.parse("instance.gpu-1")).orElseThrow();
        Map<String, Object> bad = new HashMap<>(gpu.attributes());
        bad.put("machineType", "p9.mega");
        assertThatThrownBy(() -> c.create(env, new ResourceSpec(gpu.address(), bad, gpu.dependencies(), null), Ownership.tags("dev", gpu.address()), "x"))
            .isInstanceOfSatisfying(DriverException.class, e -> assertThat(e.retryable()).isFalse())
            .hasMessage("instance.gpu-1: machine type p9.mega is not offered by aws");

        ObservedResource net = create(c, "network.net", "n");
        ObservedResource inst = create(c, "instance.gpu-1", "i");
        Map<String, Object> moved = new HashMap<>(gpu.attributes());
        moved.put("spot", true);
        assertThatThrownBy(() -> c.update(env, inst, new ResourceSpec(gpu.address(), moved, gpu.dependencies(), null),
                List.of(new io.mlctl.plan.AttributeChange("spot", false, true, true))))
            .hasMessageContaining("spot of " + inst.cloudId() + " cannot be changed in place");
        assertThatThrownBy(() -> c.delete(env, net)).hasMessageContaining("network.net (" + net.cloudId() + ") is still in use by instance.gpu-1");
        c.delete(env, inst);
        c.delete(env, inst); // already gone: still fine
        c.delete(env, net);
        assertThat(new InventoryReader(c).read(env).size()).isZero();
    }

    @Test
    void refusesToDeleteWhatItDoesNotOwn() {
        SandboxCloud c = cloud();
        ObservedResource b = create(c, "bucket.dev-data", "b");
        ObservedResource claimed = new ObservedResource(b.address(), b.cloudId(), b.attributes(), b.tags());
        Environment other = Specs.env(Fixtures.smallEnv("other"));
        assertThatThrownBy(() -> c.delete(other, claimed)).hasMessage("dev-data is not owned by environment other; refusing to delete it");
        assertThat(c.all(io.mlctl.spec.Provider.AWS, ResourceType.BUCKET)).hasSize(1);
    }

    @Test
    void aWriteKilledBeforeItsRenameIsNeverListedAndItsLeftoverIsCleanedUp() throws Exception {
        SandboxCloud c = cloud();
        ObservedResource net = create(c, "network.net", "t1");
        Path kindDir = dir.resolve("aws").resolve("network");
        // What a kill between writing the temporary file and renaming it leaves: a whole resource, not yet in place.
        Path fresh = kindDir.resolve(".vpc-x.json-123" + SandboxCloud.TEMP_SUFFIX);
        Path stale = kindDir.resolve(".vpc-y.json-456" + SandboxCloud.TEMP_SUFFIX);
        String whole = Files.readString(Files.list(kindDir).filter(f -> f.toString().endsWith(".json")).findFirst().orElseThrow());
        Files.writeString(fresh, whole.replace(net.cloudId(), "vpc-x"));
        Files.writeString(stale, whole.replace(net.cloudId(), "vpc-y"));
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));

        Inventory inv = new InventoryReader(c).read(env);
        assertThat(inv.resources().keySet()).extracting(Address::toString).containsExactly("network.net");
        assertThat(inv.duplicates()).isEmpty();
        assertThat(c.all(io.mlctl.spec.Provider.AWS, ResourceType.NETWORK)).extracting(SandboxCloud.StoredResource::cloudId)
            .containsExactly(net.cloudId());
        assertThat(stale).doesNotExist();
        assertThat(fresh).exists(); // a live writer may still be about to rename it
    }
}
