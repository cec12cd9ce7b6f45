package io.mlctl.provider.azure;

import com.azure.core.management.exception.ManagementError;
import com.azure.core.management.exception.ManagementException;
import com.azure.core.management.polling.PollResult;
import com.azure.core.util.polling.LongRunningOperationStatus;
import com.azure.core.util.polling.PollResponse;
import com.azure.core.util.polling.SyncPoller;
import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonWriter;
import com.azure.resourcemanager.compute.fluent.VirtualMachinesClient;
import com.azure.resourcemanager.compute.fluent.models.DiskInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineUpdateInner;
import com.azure.resourcemanager.compute.models.BillingProfile;
import com.azure.resourcemanager.compute.models.CachingTypes;
import com.azure.resourcemanager.compute.models.DeleteOptions;
import com.azure.resourcemanager.compute.models.DiskCreateOptionTypes;
import com.azure.resourcemanager.compute.models.DiskDeleteOptionTypes;
import com.azure.resourcemanager.compute.models.HardwareProfile;
import com.azure.resourcemanager.compute.models.ImageReference;
import com.azure.resourcemanager.compute.models.LinuxConfiguration;
import com.azure.resourcemanager.compute.models.ManagedDiskParameters;
import com.azure.resourcemanager.compute.models.NetworkInterfaceReference;
import com.azure.resourcemanager.compute.models.NetworkProfile;
import com.azure.resourcemanager.compute.models.OSDisk;
import com.azure.resourcemanager.compute.models.OSProfile;
import com.azure.resourcemanager.compute.models.ResourceIdentityType;
import com.azure.resourcemanager.compute.models.SshConfiguration;
import com.azure.resourcemanager.compute.models.SshPublicKey;
import com.azure.resourcemanager.compute.models.StorageAccountTypes;
import com.azure.resourcemanager.compute.models.StorageProfile;
import com.azure.resourcemanager.compute.models.VirtualMachineEvictionPolicyTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineIdentity;
import com.azure.resourcemanager.compute.models.VirtualMachineIdentityUserAssignedIdentities;
import com.azure.resourcemanager.compute.models.VirtualMachinePriorityTypes;
import com.azure.resourcemanager.compute.models.VirtualMachineSizeTypes;
import com.azure.resourcemanager.network.fluent.NetworkInterfacesClient;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceIpConfigurationInner;
import com.azure.resourcemanager.network.fluent.models.SubnetInner;
import com.azure.resourcemanager.network.models.IpAllocationMethod;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.plan.AttributeChange;
import io.mlctl.provider.DriverException;
import io.mlctl.provider.Existing;
import io.mlctl.provider.NotOwnedException;
import io.mlctl.provider.Page;
import io.mlctl.provider.ResourceRules;
import io.mlctl.provider.TagMarker;
import io.mlctl.provider.Waiter;
import io.mlctl.spec.Address;
import io.mlctl.spec.Environment;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.spec.ResourceType;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * instance → a Linux VM {@code <instance>} in the environment's resource group, with a network interface
 * {@code <instance>-nic} in the spec's subnet (no public IP: the subnet's network security group and any
 * bastion or VPN decide who reaches it) and a managed OS disk {@code <instance>-osdisk} of {@code diskGb}
 * (StandardSSD_LRS, which every size takes), both deleted with the VM (deleteOption Delete). A disk is never
 * deleted by its name: only the one the VM itself names, and only while it says it goes with the VM. The size is {@code machineType}; a
 * GPU comes with an NC/ND/NV size (Azure attaches no GPU to another size, so the spec checker refuses
 * {@code accelerator} on Azure before a plan is made). The image is the Data Science VM for Ubuntu 22.04
 * ({@link #IMAGE}, Gen2, which every catalog size boots and the A100 sizes require). {@code spot: true} is
 * Spot priority, evicted by deallocation, paying at most the on-demand price ({@code maxPrice -1}). The
 * spec's identity is attached as a user-assigned identity. Tags carry the marker and the labels.
 *
 * <p>Login: the admin user {@value #ADMIN} with an SSH public key only, password logins off. The key is
 * the file {@code MLCTL_AZURE_SSH_PUBLIC_KEY} names (or the key itself), else {@code ~/.ssh/id_rsa.pub},
 * {@code id_ed25519.pub} or {@code id_ecdsa.pub}; with none of them mlctl makes an RSA key pair for the VM
 * and throws the private half away, so nobody holds a password or key for it until someone sets one
 * ({@code az vm user update --ssh-key-value}). Nothing about keys is printed.
 *
 * <p>In place: the size (Azure restarts the VM to resize it), the identity, the tags, and a bigger OS disk
 * (the VM is deallocated, the disk grown, and the VM started again if it was running). A new resource:
 * region, subnet, Spot (Azure cannot change a VM's priority) and a smaller OS disk (Azure cannot shrink
 * one): that shows as {@code osDisk}, a replace.
 *
 * <p>A VM whose last operation failed or was canceled (Azure could not allocate it, ...) shows
 * {@code provisioningState} in the plan; the update (or the completion of an adopted create) repairs it
 * by sending the VM again as it is, before any other change. Every wait has a deadline; one passed is a
 * retryable failure naming what was waited for and its last state.
 */
final class InstanceKind implements AzureKind {
    static final String ARM_TYPE = "microsoft.compute/virtualmachines";
    static final String ADMIN = "azureuser";
    /** microsoft-dsvm:ubuntu-2204:2204-gen2:latest, the Data Science Virtual Machine for Ubuntu 22.04. */
    static final ImageReference IMAGE = new ImageReference().withPublisher("microsoft-dsvm").withOffer("ubuntu-2204").withSku("2204-gen2")
        .withVersion("latest");
    static final String KEY_VARIABLE = "MLCTL_AZURE_SSH_PUBLIC_KEY";
    /** The api-version the SDK uses for virtual machines, for the direct read of one Graph has not indexed yet. */
    static final String VM_API_VERSION = "2025-04-01";
    private static final ResourceRules RULES = new ResourceRules(Set.of("region", "subnet", "spot", "osDisk"));

    /** A create's operation, so {@code complete} reports the operation's own error rather than only a Failed state. */
    private final Map<String, SyncPoller<? extends PollResult<?>, ?>> creating = new ConcurrentHashMap<>();
    private final Duration timeout;
    private volatile String publicKey;

    InstanceKind() {
        this(Duration.ofMinutes(30));
    }

    InstanceKind(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public ResourceType type() {
        return ResourceType.INSTANCE;
    }

    @Override
    public ResourceRules rules() {
        return RULES;
    }

    private static VirtualMachinesClient vms(AzureClients cloud) {
        return cloud.compute().serviceClient().getVirtualMachines();
    }

    private static NetworkInterfacesClient nics(AzureClients cloud) {
        return cloud.network().serviceClient().getNetworkInterfaces();
    }

    static String nicName(String instance) {
        return instance + "-nic";
    }

    static String diskName(String instance) {
        return instance + "-osdisk";
    }

    // ---- shared with ClusterKind: ids, models from Graph rows, waiting ----

    /** The resource group an ARM id names. */
    static String groupOf(String id) {
        String[] s = id.split("/");
        for (int i = 0; i + 1 < s.length; i++) if (s[i].equalsIgnoreCase("resourceGroups")) return s[i + 1];
        return "";
    }

    /** A Graph row (ARM's JSON shape) read into an SDK model, read-only properties included. */
    static <T> T model(Map<String, Object> row, ModelReader<T> reader) {
        try {
            StringWriter out = new StringWriter();
            try (JsonWriter w = JsonProviders.createWriter(out)) {
                w.writeUntyped(row);
            }
            try (JsonReader r = JsonProviders.createReader(out.toString())) {
                return reader.read(r);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface ModelReader<T> {
        T read(JsonReader reader) throws IOException;
    }

    /** {@code network/subnet} of the spec for a subnet id of this environment's group, else the id itself. */
    static String subnetRef(AzureClients cloud, Environment env, String subnetId) {
        if (subnetId == null) return null;
        String[] s = subnetId.split("/");
        if (s.length >= 2 && s[s.length - 2].equalsIgnoreCase("subnets")) {
            int v = subnetId.toLowerCase(Locale.ROOT).indexOf("/virtualnetworks/");
            if (v > 0) {
                String ref = AzureKind.lastSegment(subnetId.substring(0, subnetId.toLowerCase(Locale.ROOT).indexOf("/subnets/"))) + "/" + s[s.length - 1];
                if (AzureKind.subnetId(cloud, env, ref).equalsIgnoreCase(subnetId)) return ref;
            }
        }
        return subnetId;
    }

    /** The spec's name of a user-assigned identity of this environment's group, else its id. */
    static String identityRef(AzureClients cloud, Environment env, String identityId) {
        String name = AzureKind.lastSegment(identityId);
        return AzureKind.identityId(cloud, env, name).equalsIgnoreCase(identityId) ? name : identityId;
    }

    /**
     * Waits at most {@code timeout} for an operation Azure accepted. The SDK ends a failed operation
     * without an exception: its error (a capacity or quota refusal, ...) is made one line here. One still
     * running at the deadline is a retryable failure naming it and {@code state}, the resource's last
     * state (Azure may still finish it: the next attempt waits again rather than starting over).
     */
    static void finish(Duration timeout, String what, SyncPoller<? extends PollResult<?>, ?> op, Supplier<String> state) {
        PollResponse<? extends PollResult<?>> last;
        try {
            last = op.waitForCompletion(timeout);
        } catch (RuntimeException e) {
            if (isTimeout(e)) throw timedOut(timeout, what, state);
            throw AzureErrors.translate(what, e);
        }
        LongRunningOperationStatus status = last.getStatus();
        if (status == LongRunningOperationStatus.FAILED || status == LongRunningOperationStatus.USER_CANCELLED) {
            PollResult.Error error = last.getValue() == null ? null : last.getValue().getError();
            Map<String, Object> body = error == null || error.getResponseBody() == null ? Map.of() : untyped(error.getResponseBody());
            Map<?, ?> inner = body.get("error") instanceof Map<?, ?> e ? e : body;
            String code = inner.get("code") != null ? String.valueOf(inner.get("code")) : status.toString();
            String message = inner.get("message") != null ? String.valueOf(inner.get("message"))
                : error != null && error.getMessage() != null ? error.getMessage() : "the operation ended " + status;
            throw AzureErrors.translate(what, new ManagementException(message, null, new ManagementError(code, message)));
        }
        if (!status.isComplete()) throw timedOut(timeout, what, state);
        AzureErrors.call(what, op::getFinalResult);
    }

    /** Whether a wait ended at its deadline: the SDK's poller says so by a {@link TimeoutException} (inside Reactor's wrapper). */
    static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TimeoutException) return true;
        }
        return false;
    }

    /**
     * A wait's deadline passed: one line naming what was waited for and the last state seen. Not retried by
     * the engine (six more deadlines would hold the apply for hours); a later apply waits on it again.
     */
    static DriverException timedOut(Duration timeout, String what, Supplier<String> state) {
        String last;
        try {
            last = state.get();
        } catch (RuntimeException e) {
            last = "unknown";
        }
        return new DriverException("timed out after " + human(timeout) + " waiting for " + what + " (last state " + last
            + "); Azure may still finish it: apply again to wait on", false);
    }

    private static String human(Duration d) {
        return d.toMinutes() >= 2 ? d.toMinutes() + " min" : d.toSeconds() >= 1 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    /** The {@code provisioningState} a read finds, "gone" when nothing is there: the last state a timeout names. */
    static <T> Supplier<String> stateOf(String what, Supplier<T> read, Function<T, Object> state) {
        return () -> AzureErrors.find(what, read).map(x -> String.valueOf(state.apply(x))).orElse("gone");
    }

    /** A JSON object as a map (empty when it is not one). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> untyped(String json) {
        try (JsonReader r = JsonProviders.createReader(json)) {
            return r.readUntyped() instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        } catch (IOException | RuntimeException e) {
            return Map.of();
        }
    }

    /** Polls every 100 ms at first, doubling to every 10 s: the fake finishes at once, Azure takes minutes. */
    static Waiter waiter(Duration timeout) {
        long[] next = {100};
        return new Waiter(Duration.ofSeconds(10), timeout, d -> {
            long ms = Math.min(d.toMillis(), next[0]);
            next[0] = Math.min(d.toMillis(), next[0] * 2);
            Thread.sleep(ms);
        });
    }

    /**
     * Polls until {@code poll} says ready (or failed, an error as {@link Waiter} words it). Still pending at
     * the deadline is a retryable failure, since Azure may yet finish: the engine's next attempt waits on.
     */
    static void until(Duration timeout, String what, Supplier<Waiter.Status> poll) {
        boolean[] pending = {false};
        try {
            waiter(timeout).until(what, () -> {
                pending[0] = false;
                Waiter.Status s = poll.get();
                pending[0] = !s.ready() && !s.failed();
                return s;
            });
        } catch (DriverException e) {
            if (!pending[0] || e.retryable() || Thread.currentThread().isInterrupted()) throw e;
            throw new DriverException(e.getMessage() + "; Azure may still finish it: apply again to wait on", false, e);
        }
    }

    /** Whether a {@code provisioningState} is final: Succeeded, or Failed or Canceled (Azure gave up on the last operation). */
    static boolean settledState(Object state) {
        return "Succeeded".equals(String.valueOf(state)) || failedState(state);
    }

    static boolean failedState(Object state) {
        return "Failed".equals(String.valueOf(state)) || "Canceled".equals(String.valueOf(state));
    }

    /**
     * Waits until {@code get} shows no operation running on it ({@code provisioningState} Succeeded, Failed
     * or Canceled) and returns it as it then is; a vanished resource is an error.
     */
    static <T> T settled(Duration timeout, String what, Supplier<Optional<T>> get, Function<T, Object> state) {
        Object[] last = new Object[1];
        until(timeout, what, () -> {
            Optional<T> r = get.get();
            if (r.isEmpty()) throw new DriverException(what + " disappeared while mlctl waited for it", true);
            last[0] = r.get();
            String s = String.valueOf(state.apply(r.get()));
            return settledState(s) ? Waiter.Status.ready(s) : Waiter.Status.pending(s);
        });
        @SuppressWarnings("unchecked")
        T t = (T) last[0];
        return t;
    }

    /** Waits until {@code get} shows {@code provisioningState} Succeeded; Failed or Canceled is an error, a vanished resource too. */
    static <T> T awaitSucceeded(Duration timeout, String what, Supplier<Optional<T>> get, Function<T, Object> state) {
        T t = settled(timeout, what, get, state);
        Object s = state.apply(t);
        if (failedState(s)) {
            throw new DriverException(what + " is " + s + ": Azure gave up on its last operation; see the activity log of the resource group", false);
        }
        return t;
    }

    // ---- inventory ----

    @Override
    public Page list(AzureClients cloud, Environment env, Optional<String> pageToken) {
        // The subnet is the NIC's: one more Graph query for the environment's NICs, once per page of VMs that has any.
        // A VM of the spec Graph does not show yet (it lags ARM writes) is read directly, when the listing is one page.
        Map<String, String>[] subnets = newSubnets();
        return AzureKind.graphPage(cloud, env, ARM_TYPE, VM_API_VERSION, pageToken,
            a -> AzureKind.resourceId(cloud, env, "Microsoft.Compute/virtualMachines", a.name()), row -> {
                Optional<Address> a = TagMarker.INSTANCE.owner(AzureKind.tags(row.get("tags")), env.name());
                if (a.isEmpty() || a.get().type() != ResourceType.INSTANCE || a.get().isComponent()) return Optional.empty();
                if (subnets[0] == null) subnets[0] = nicSubnets(cloud, env);
                VirtualMachineInner vm = model(row, VirtualMachineInner::fromJson);
                String nic = primaryNic(vm);
                // A NIC Graph does not list (not indexed yet, or its tags changed) is read itself: a missing subnet would replace the VM.
                String subnet = subnets[0].containsKey(nic.toLowerCase(Locale.ROOT)) ? subnets[0].get(nic.toLowerCase(Locale.ROOT)) : readSubnet(cloud, nic);
                return Optional.of(observe(cloud, env, a.get(), vm, subnet));
            }, ResourceType.INSTANCE);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String>[] newSubnets() {
        return new Map[1];
    }

    /** Every NIC of the environment (id, lowercase) → its first IP configuration's subnet id. */
    private static Map<String, String> nicSubnets(AzureClients cloud, Environment env) {
        Map<String, String> out = new HashMap<>();
        for (Map<String, Object> row : cloud.queryAll("list network interfaces", AzureKind.graphQuery(env, "microsoft.network/networkinterfaces"))) {
            NetworkInterfaceInner nic = model(row, NetworkInterfaceInner::fromJson);
            out.put(String.valueOf(nic.id()).toLowerCase(Locale.ROOT), subnetOf(nic));
        }
        return out;
    }

    private static String readSubnet(AzureClients cloud, String nicId) {
        if (nicId.isEmpty()) return null;
        return AzureErrors.find("read network interface " + AzureKind.lastSegment(nicId),
            () -> nics(cloud).getByResourceGroup(groupOf(nicId), AzureKind.lastSegment(nicId))).map(InstanceKind::subnetOf).orElse(null);
    }

    private static String subnetOf(NetworkInterfaceInner nic) {
        if (nic.ipConfigurations() == null || nic.ipConfigurations().isEmpty() || nic.ipConfigurations().get(0).subnet() == null) return null;
        return nic.ipConfigurations().get(0).subnet().id();
    }

    private static String primaryNic(VirtualMachineInner vm) {
        if (vm.networkProfile() == null || vm.networkProfile().networkInterfaces() == null) return "";
        return vm.networkProfile().networkInterfaces().stream().filter(n -> !Boolean.FALSE.equals(n.primary())).map(NetworkInterfaceReference::id)
            .findFirst().orElse("");
    }

    /** The instance's attributes as the spec writes them: what {@code list} and {@code complete} both report. */
    private static ObservedResource observe(AzureClients cloud, Environment env, Address address, VirtualMachineInner vm, String subnetId) {
        Map<String, Object> m = new TreeMap<>();
        if (vm.hardwareProfile() != null && vm.hardwareProfile().vmSize() != null) m.put("machineType", vm.hardwareProfile().vmSize().toString());
        m.put("spot", VirtualMachinePriorityTypes.SPOT.equals(vm.priority()) || VirtualMachinePriorityTypes.LOW.equals(vm.priority()));
        Integer disk = vm.storageProfile() == null || vm.storageProfile().osDisk() == null ? null : vm.storageProfile().osDisk().diskSizeGB();
        if (disk != null) {
            m.put("diskGb", disk.longValue());
            // Azure cannot shrink a disk: a spec asking for less shows this too, which only a new VM can satisfy.
            Object want = env.resource(address).map(r -> r.attributes().get("diskGb")).orElse(null);
            if (want instanceof Number w && w.longValue() < disk) m.put("osDisk", disk + " GB, which Azure cannot shrink to " + w + " GB");
        }
        if (vm.identity() != null && vm.identity().userAssignedIdentities() != null && !vm.identity().userAssignedIdentities().isEmpty()) {
            m.put("identity", identityRef(cloud, env, new TreeSet<>(vm.identity().userAssignedIdentities().keySet()).first()));
        }
        if (subnetId != null) m.put("subnet", subnetRef(cloud, env, subnetId));
        // A VM whose last operation failed (a create refused for capacity, ...) shows it, so the plan offers to repair it.
        if (failedState(vm.provisioningState())) m.put("provisioningState", vm.provisioningState());
        Map<String, String> tags = AzureKind.tags(vm.tags());
        return new ObservedResource(address, vm.id(), AzureKind.attrs(vm.location(), m, tags), tags);
    }

    /**
     * The VM {@code cloudId} ({@code .../Microsoft.Compute/virtualMachines/<name>}), observed as {@link #list} observes one (the VM
     * and its primary NIC's subnet, read directly). It must be in the environment's resource group under the address's name:
     * grants and references name it so.
     */
    @Override
    public Optional<ObservedResource> read(AzureClients cloud, Environment env, Address address, String cloudId) {
        AzureKind.ArmRef ref = AzureKind.parseId(cloudId, "Microsoft.Compute", "virtualMachines").orElseThrow(() ->
            AzureKind.notAnId(address, cloudId, "a virtual machine", AzureKind.idForm("Microsoft.Compute", "virtualMachines")));
        String what = "virtual machine " + ref.name();
        AzureKind.requireHere(cloud, env, address, ref, what);
        AzureKind.requireName(address, what, ref.name());
        return readVm(cloud, AzureKind.resourceGroup(env), ref.name()).map(vm -> observe(cloud, env, address, vm, readSubnet(cloud, primaryNic(vm))));
    }

    /** {@code privateIp} of the primary NIC's primary IP configuration, and {@code publicIp} when a public address is attached to it. */
    @Override
    public Map<String, String> outputs(AzureClients cloud, Environment env, ObservedResource r) {
        VirtualMachineInner vm = readVm(cloud, groupOf(r.cloudId()), AzureKind.lastSegment(r.cloudId())).orElseThrow(() -> AzureKind.gone(r));
        String nicId = primaryNic(vm);
        Map<String, String> out = new TreeMap<>();
        if (nicId.isEmpty()) return out;
        Optional<NetworkInterfaceInner> nic = AzureErrors.find("read network interface " + AzureKind.lastSegment(nicId),
            () -> nics(cloud).getByResourceGroup(groupOf(nicId), AzureKind.lastSegment(nicId)));
        List<NetworkInterfaceIpConfigurationInner> configs = nic.map(NetworkInterfaceInner::ipConfigurations).orElse(List.of());
        Optional<NetworkInterfaceIpConfigurationInner> primary = configs.stream().filter(c -> Boolean.TRUE.equals(c.primary())).findFirst()
            .or(() -> configs.stream().findFirst());
        if (primary.isEmpty()) return out;
        if (primary.get().privateIpAddress() != null) out.put("privateIp", primary.get().privateIpAddress());
        if (primary.get().publicIpAddress() != null && primary.get().publicIpAddress().id() != null) {
            String pip = primary.get().publicIpAddress().id();
            AzureErrors.find("read public IP address " + AzureKind.lastSegment(pip),
                    () -> cloud.network().serviceClient().getPublicIpAddresses().getByResourceGroup(groupOf(pip), AzureKind.lastSegment(pip)))
                .map(p -> p.ipAddress()).ifPresent(ip -> out.put("publicIp", ip));
        }
        return out;
    }

    // ---- find, create, complete ----

    @Override
    public Optional<Existing> find(AzureClients cloud, Environment env, Address address, Optional<String> knownCloudId) {
        String group = knownCloudId.map(InstanceKind::groupOf).orElse(AzureKind.resourceGroup(env));
        String name = knownCloudId.map(AzureKind::lastSegment).orElse(address.name());
        return AzureErrors.find("read virtual machine " + name, () -> vms(cloud).getByResourceGroup(group, name))
            .map(vm -> new Existing(vm.id(), "virtual machine " + name + " in resource group " + group, AzureKind.tags(vm.tags())));
    }

    @Override
    public String create(AzureClients cloud, Environment env, ResourceSpec d, Map<String, String> marker, String token) {
        String group = AzureKind.resourceGroup(env);
        String name = d.address().name();
        Map<String, Object> a = d.attributes();
        String nicId = ensureNic(cloud, env, d.address(), (String) a.get("subnet"), marker);
        VirtualMachineInner vm = new VirtualMachineInner().withLocation(env.region()).withTags(AzureKind.allTags(marker, a))
            .withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString((String) a.get("machineType"))))
            .withStorageProfile(new StorageProfile().withImageReference(IMAGE).withOsDisk(new OSDisk().withName(diskName(name))
                .withCreateOption(DiskCreateOptionTypes.FROM_IMAGE).withCaching(CachingTypes.READ_WRITE).withDeleteOption(DiskDeleteOptionTypes.DELETE)
                .withDiskSizeGB(((Number) a.getOrDefault("diskGb", 100L)).intValue())
                .withManagedDisk(new ManagedDiskParameters().withStorageAccountType(StorageAccountTypes.STANDARD_SSD_LRS))))
            .withOsProfile(new OSProfile().withComputerName(name).withAdminUsername(ADMIN).withLinuxConfiguration(new LinuxConfiguration()
                .withDisablePasswordAuthentication(true).withProvisionVMAgent(true).withSsh(new SshConfiguration().withPublicKeys(List.of(
                    new SshPublicKey().withPath("/home/" + ADMIN + "/.ssh/authorized_keys").withKeyData(publicKey(cloud.settings())))))))
            .withNetworkProfile(new NetworkProfile().withNetworkInterfaces(List.of(
                new NetworkInterfaceReference().withId(nicId).withPrimary(true).withDeleteOption(DeleteOptions.DELETE))));
        if (Boolean.TRUE.equals(a.get("spot"))) {
            vm.withPriority(VirtualMachinePriorityTypes.SPOT).withEvictionPolicy(VirtualMachineEvictionPolicyTypes.DEALLOCATE)
                .withBillingProfile(new BillingProfile().withMaxPrice(-1.0));
        }
        if (a.get("identity") instanceof String identity) vm.withIdentity(identity(cloud, env, identity));
        String id = AzureKind.resourceId(cloud, env, "Microsoft.Compute/virtualMachines", name);
        try {
            creating.put(id.toLowerCase(Locale.ROOT), vms(cloud).beginCreateOrUpdate(group, name, vm));
        } catch (RuntimeException e) {
            DriverException failure = AzureErrors.translate("create virtual machine " + name + " (" + a.get("machineType") + ")", e);
            // Refused for good (a quota, a size the region lacks): the NIC made for it would be left over, so it goes.
            if (!failure.retryable()) dropUnusedNic(cloud, group, name);
            throw failure;
        }
        return id;
    }

    /** The NIC {@code <instance>-nic} in the subnet: made, or this instance's own from an earlier attempt; anyone else's is refused. */
    private String ensureNic(AzureClients cloud, Environment env, Address address, String subnet, Map<String, String> marker) {
        String group = AzureKind.resourceGroup(env);
        String name = nicName(address.name());
        Optional<NetworkInterfaceInner> found = AzureErrors.find("read network interface " + name, () -> nics(cloud).getByResourceGroup(group, name));
        if (found.isPresent()) {
            Map<String, String> tags = AzureKind.tags(found.get().tags());
            if (TagMarker.INSTANCE.owner(tags, env.name()).filter(address::equals).isEmpty()) {
                throw new NotOwnedException(address + ": network interface " + name + " in resource group " + group + " already exists and is "
                    + TagMarker.INSTANCE.describeOwner(tags) + "; mlctl does not take over resources it did not create (rename the instance)");
            }
        }
        NetworkInterfaceInner nic = new NetworkInterfaceInner().withLocation(env.region()).withTags(new TreeMap<>(marker))
            .withIpConfigurations(List.of(new NetworkInterfaceIpConfigurationInner().withName("ipconfig1").withPrimary(true)
                .withPrivateIpAllocationMethod(IpAllocationMethod.DYNAMIC).withSubnet(new SubnetInner().withId(AzureKind.subnetId(cloud, env, subnet)))));
        String what = "create network interface " + name;
        finish(timeout, what, AzureErrors.call(what, () -> nics(cloud).beginCreateOrUpdate(group, name, nic)), nicState(cloud, group, name));
        return AzureKind.resourceId(cloud, env, "Microsoft.Network/networkInterfaces", name);
    }

    private void dropUnusedNic(AzureClients cloud, String group, String instance) {
        try {
            finish(timeout, "delete network interface " + nicName(instance), nics(cloud).beginDelete(group, nicName(instance)),
                nicState(cloud, group, nicName(instance)));
        } catch (RuntimeException ignored) {
            // Best effort: a NIC still in use or already gone stays as it is.
        }
    }

    private static VirtualMachineIdentity identity(AzureClients cloud, Environment env, String identity) {
        return new VirtualMachineIdentity().withType(ResourceIdentityType.USER_ASSIGNED)
            .withUserAssignedIdentities(Map.of(AzureKind.identityId(cloud, env, identity), new VirtualMachineIdentityUserAssignedIdentities()));
    }

    @Override
    public ObservedResource complete(AzureClients cloud, Environment env, String cloudId, ResourceSpec d, Map<String, String> marker) {
        String group = groupOf(cloudId);
        String name = AzureKind.lastSegment(cloudId);
        SyncPoller<? extends PollResult<?>, ?> op = creating.remove(cloudId.toLowerCase(Locale.ROOT));
        if (op != null) finish(timeout, "create virtual machine " + name, op, vmState(cloud, group, name));
        // A create an earlier run started (and was killed in) may still be running: wait for it; one that failed is repaired.
        VirtualMachineInner vm = settledVm(cloud, group, name);
        if (failedState(vm.provisioningState())) vm = repair(cloud, group, name, vm);
        Optional<Map<String, String>> tags = AzureKind.tagsAfterSync(AzureKind.tags(vm.tags()), marker, d.attributes());
        if (tags.isPresent()) vm = patch(cloud, group, name, new VirtualMachineUpdateInner().withTags(tags.get()));
        return observe(cloud, env, d.address(), vm, readSubnet(cloud, primaryNic(vm)));
    }

    private static Optional<VirtualMachineInner> readVm(AzureClients cloud, String group, String name) {
        return AzureErrors.find("read virtual machine " + name, () -> vms(cloud).getByResourceGroup(group, name));
    }

    /** The VM once no operation runs on it, in whatever state that left it. */
    private VirtualMachineInner settledVm(AzureClients cloud, String group, String name) {
        return settled(timeout, "virtual machine " + name, () -> readVm(cloud, group, name), VirtualMachineInner::provisioningState);
    }

    private static Supplier<String> vmState(AzureClients cloud, String group, String name) {
        return stateOf("read virtual machine " + name, () -> vms(cloud).getByResourceGroup(group, name), VirtualMachineInner::provisioningState);
    }

    private static Supplier<String> nicState(AzureClients cloud, String group, String name) {
        return stateOf("read network interface " + name, () -> nics(cloud).getByResourceGroup(group, name), NetworkInterfaceInner::provisioningState);
    }

    /**
     * A VM whose last operation failed (Azure could not allocate it, ...) is sent again as it is: a PUT of
     * the model as read makes Compute retry what it gave up on. Its own failure is one line.
     */
    private VirtualMachineInner repair(AzureClients cloud, String group, String name, VirtualMachineInner vm) {
        String what = "repair virtual machine " + name + " (its last operation " + vm.provisioningState() + ")";
        finish(timeout, what, AzureErrors.call(what, () -> vms(cloud).beginCreateOrUpdate(group, name, vm)), vmState(cloud, group, name));
        return awaitSucceeded(timeout, "virtual machine " + name, () -> readVm(cloud, group, name), VirtualMachineInner::provisioningState);
    }

    private VirtualMachineInner patch(AzureClients cloud, String group, String name, VirtualMachineUpdateInner change) {
        String what = "update virtual machine " + name;
        finish(timeout, what, AzureErrors.call(what, () -> vms(cloud).beginUpdate(group, name, change)), vmState(cloud, group, name));
        return AzureErrors.call("read virtual machine " + name, () -> vms(cloud).getByResourceGroup(group, name));
    }

    // ---- update, delete ----

    @Override
    public ObservedResource update(AzureClients cloud, Environment env, ObservedResource current, ResourceSpec d, List<AttributeChange> changes) {
        String group = groupOf(current.cloudId());
        String name = AzureKind.lastSegment(current.cloudId());
        Map<String, Object> want = d.attributes();
        Set<String> changed = new TreeSet<>();
        for (AttributeChange ch : changes) changed.add(ch.path().split("[.\\[]", 2)[0]);
        VirtualMachineUpdateInner change = new VirtualMachineUpdateInner();
        boolean any = false;
        VirtualMachineInner vm = readVm(cloud, group, name)
            .orElseThrow(() -> new DriverException(d.address() + ": virtual machine " + name + " no longer exists; run plan again", false));
        // An operation still running (someone's, or a lost answer's) ends first; a VM it left Failed is repaired before any change.
        if (!settledState(vm.provisioningState())) vm = settledVm(cloud, group, name);
        if (failedState(vm.provisioningState())) vm = repair(cloud, group, name, vm);
        for (String path : changed) {
            switch (path) {
                case "tags" -> {
                    Optional<Map<String, String>> tags = AzureKind.tagsAfterSync(AzureKind.tags(vm.tags()),
                        TagMarker.INSTANCE.marker(env.name(), d.address()), want);
                    if (tags.isPresent()) {
                        change.withTags(tags.get());
                        any = true;
                    }
                }
                case "machineType" -> {
                    change.withHardwareProfile(new HardwareProfile().withVmSize(VirtualMachineSizeTypes.fromString((String) want.get("machineType"))));
                    any = true;
                }
                case "identity" -> {
                    change.withIdentity(identityChange(cloud, env, vm, (String) want.get("identity")));
                    any = true;
                }
                case "diskGb" -> { } // below: the VM is deallocated for it
                case "provisioningState" -> { } // repaired above
                default -> throw new DriverException(d.address() + ": " + path + " cannot be changed in place on Azure", false);
            }
        }
        int disk = ((Number) want.getOrDefault("diskGb", 100L)).intValue();
        Integer had = vm.storageProfile().osDisk().diskSizeGB();
        if (changed.contains("diskGb") && (had == null || disk > had)) {
            growDisk(cloud, group, name, current.cloudId(), disk, any ? change : null);
        } else if (changed.contains("diskGb") && disk < had) {
            throw new DriverException(d.address() + ": Azure cannot shrink the OS disk of " + name + " from " + had + " to " + disk + " GB", false);
        } else if (any) {
            // A new size restarts the VM; Azure says so in the operation it runs.
            patch(cloud, group, name, change);
        }
        Map<String, Object> attrs = new TreeMap<>(want);
        return new ObservedResource(d.address(), current.cloudId(), attrs, current.tags());
    }

    /** The new identity map as a merge patch: the wanted one added, the others set to null; type None when none is wanted. */
    private static VirtualMachineIdentity identityChange(AzureClients cloud, Environment env, VirtualMachineInner vm, String identity) {
        if (identity == null) return new VirtualMachineIdentity().withType(ResourceIdentityType.NONE);
        Map<String, VirtualMachineIdentityUserAssignedIdentities> ids = new HashMap<>();
        if (vm.identity() != null && vm.identity().userAssignedIdentities() != null) vm.identity().userAssignedIdentities().keySet().forEach(k -> ids.put(k, null));
        String id = AzureKind.identityId(cloud, env, identity);
        ids.keySet().removeIf(k -> k.equalsIgnoreCase(id));
        ids.put(id, new VirtualMachineIdentityUserAssignedIdentities());
        return new VirtualMachineIdentity().withType(ResourceIdentityType.USER_ASSIGNED).withUserAssignedIdentities(ids);
    }

    /**
     * Azure grows an OS disk only while its VM is deallocated: deallocate, grow it (with the other changes
     * in the same request), and start the VM again if it was running (Resource Graph knows its power state).
     */
    private void growDisk(AzureClients cloud, String group, String name, String id, int gb, VirtualMachineUpdateInner other) {
        boolean running = powerState(cloud, id).map(s -> !s.equals("PowerState/deallocated") && !s.equals("PowerState/stopped")).orElse(true);
        String deallocate = "deallocate virtual machine " + name + " to grow its OS disk";
        finish(timeout, deallocate, AzureErrors.call(deallocate, () -> vms(cloud).beginDeallocate(group, name)), vmState(cloud, group, name));
        VirtualMachineUpdateInner change = other != null ? other : new VirtualMachineUpdateInner();
        change.withStorageProfile(new StorageProfile().withOsDisk(new OSDisk().withCreateOption(DiskCreateOptionTypes.FROM_IMAGE).withDiskSizeGB(gb)));
        try {
            patch(cloud, group, name, change);
        } finally {
            if (running) {
                String start = "start virtual machine " + name;
                finish(timeout, start, AzureErrors.call(start, () -> vms(cloud).beginStart(group, name)), vmState(cloud, group, name));
            }
        }
    }

    private static Optional<String> powerState(AzureClients cloud, String id) {
        List<Map<String, Object>> rows = cloud.queryAll("read power state of " + AzureKind.lastSegment(id),
            "resources | where type =~ '" + ARM_TYPE + "' | where resourceGroup =~ '" + groupOf(id) + "' | where id =~ '" + id + "'");
        if (rows.isEmpty()) return Optional.empty();
        Object state = AzureKind.properties(rows.get(0)).get("extended") instanceof Map<?, ?> ext && ext.get("instanceView") instanceof Map<?, ?> iv
            && iv.get("powerState") instanceof Map<?, ?> ps ? ps.get("code") : null;
        return Optional.ofNullable(state).map(String::valueOf);
    }

    /**
     * Deletes the VM, then what was made for it and did not go with it: the NIC when it still carries this
     * instance's marker, and the OS disk the VM itself named, only when the VM said it goes with it
     * (deleteOption Delete) and no VM holds it. A disk someone detached on purpose (deleteOption Detach),
     * or anyone's disk that merely has the name {@code <instance>-osdisk}, is left alone.
     */
    @Override
    public void delete(AzureClients cloud, Environment env, ObservedResource current) {
        String group = groupOf(current.cloudId());
        String name = AzureKind.lastSegment(current.cloudId());
        Optional<VirtualMachineInner> vm = readVm(cloud, group, name);
        OSDisk os = vm.map(VirtualMachineInner::storageProfile).map(StorageProfile::osDisk).orElse(null);
        String diskId = os == null || os.managedDisk() == null ? null : os.managedDisk().id();
        boolean diskGoes = os != null && DiskDeleteOptionTypes.DELETE.equals(os.deleteOption());
        // Waited for: the NIC (and the subnet it sits in) can only go once the VM is gone.
        if (vm.isPresent()) {
            AzureErrors.find("delete virtual machine " + name, () -> vms(cloud).beginDelete(group, name))
                .ifPresent(op -> finish(timeout, "delete virtual machine " + name, op, vmState(cloud, group, name)));
        }
        // The NIC goes with the VM (deleteOption Delete); if someone changed that, it goes now, being this instance's.
        String nicName = nicName(name);
        Optional<NetworkInterfaceInner> nic = AzureErrors.find("read network interface " + nicName, () -> nics(cloud).getByResourceGroup(group, nicName));
        if (nic.isPresent() && TagMarker.INSTANCE.owner(AzureKind.tags(nic.get().tags()), env.name()).filter(current.address()::equals).isPresent()) {
            AzureErrors.find("delete network interface " + nicName, () -> nics(cloud).beginDelete(group, nicName))
                .ifPresent(op -> finish(timeout, "delete network interface " + nicName, op, nicState(cloud, group, nicName)));
        }
        if (diskId == null || !diskGoes) return;
        var disks = cloud.compute().serviceClient().getDisks();
        String diskGroup = groupOf(diskId);
        String disk = AzureKind.lastSegment(diskId);
        Optional<DiskInner> left = AzureErrors.find("read OS disk " + disk, () -> disks.getByResourceGroup(diskGroup, disk));
        if (left.isEmpty() || left.get().managedBy() != null && !left.get().managedBy().equalsIgnoreCase(vm.get().id())) return;
        AzureErrors.find("delete OS disk " + disk, () -> disks.beginDelete(diskGroup, disk)).ifPresent(op -> finish(timeout, "delete OS disk " + disk, op,
            stateOf("read OS disk " + disk, () -> disks.getByResourceGroup(diskGroup, disk), DiskInner::provisioningState)));
    }

    // ---- the SSH key ----

    private String publicKey(AzureSettings settings) {
        String k = publicKey;
        if (k == null) {
            k = InstanceSshKey.publicKey(settings.environment());
            publicKey = k;
        }
        return k;
    }
}
