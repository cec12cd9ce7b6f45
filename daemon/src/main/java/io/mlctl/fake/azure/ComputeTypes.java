package io.mlctl.fake.azure;

import com.azure.resourcemanager.compute.fluent.models.DiskInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineInner;
import com.azure.resourcemanager.compute.fluent.models.VirtualMachineUpdateInner;
import com.azure.resourcemanager.network.fluent.models.NetworkInterfaceInner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The fake's Compute types, and the network interface a VM needs: {@code Microsoft.Compute/virtualMachines},
 * {@code Microsoft.Compute/disks} (an OS disk comes and goes with its VM), {@code Microsoft.Network/networkInterfaces}.
 * They refuse what Compute refuses: an unknown size, a Gen2-only size on a Gen1 image, a missing
 * storage, OS or network profile, password logins without a password, a Spot VM without an eviction
 * policy, a NIC or identity that does not exist, a NIC in another VM's use, a change of priority,
 * image or OS profile, an OS disk that shrinks or grows while the VM runs, and a regional family
 * cores quota a test set with {@link #quota} (409 {@code OperationNotAllowed}, as Compute words it).
 * A VM's power state is kept beside it and shown only in its Resource Graph row, as Azure does; a PATCH
 * takes what Azure's update models take ({@code VirtualMachineUpdate}, a NIC's tags).
 */
public final class ComputeTypes {
    static final String VM = "Microsoft.Compute/virtualMachines";
    static final String DISK = "Microsoft.Compute/disks";
    static final String NIC = "Microsoft.Network/networkInterfaces";
    /** The quota family Spot VMs count against, whatever their size. */
    public static final String SPOT_FAMILY = "LowPriority";

    /** What the fake knows of a size: its quota family, vCPUs, and whether it boots only Gen2 images. */
    record Size(String family, int cores, boolean gen2Only) {
    }

    static final Map<String, Size> SIZES = Map.ofEntries(
        Map.entry("standard_b2s", new Size("standardBSFamily", 2, false)),
        Map.entry("standard_d2s_v3", new Size("standardDSv3Family", 2, false)),
        Map.entry("standard_d4s_v3", new Size("standardDSv3Family", 4, false)),
        Map.entry("standard_d8s_v3", new Size("standardDSv3Family", 8, false)),
        Map.entry("standard_d2_v2", new Size("standardDv2Family", 2, false)),
        Map.entry("standard_ds2_v2", new Size("standardDSv2Family", 2, false)),
        Map.entry("standard_ds3_v2", new Size("standardDSv2Family", 4, false)),
        Map.entry("standard_f4s_v2", new Size("standardFSv2Family", 4, false)),
        Map.entry("standard_nc6s_v3", new Size("standardNCSv3Family", 6, false)),
        Map.entry("standard_nc12s_v3", new Size("standardNCSv3Family", 12, false)),
        Map.entry("standard_nc24s_v3", new Size("standardNCSv3Family", 24, false)),
        Map.entry("standard_nc4as_t4_v3", new Size("standardNCASv3_T4Family", 4, false)),
        Map.entry("standard_nc24ads_a100_v4", new Size("StandardNCADSA100v4Family", 24, true)),
        Map.entry("standard_nd96asr_v4", new Size("standardNDASv4_A100Family", 96, true)),
        Map.entry("standard_nv36ads_a10_v5", new Size("StandardNVADSA10v5Family", 36, true)));

    private ComputeTypes() {
    }

    static List<ArmType> all() {
        return List.of(new VirtualMachines(), new Disks(), new NetworkInterfaces());
    }

    /**
     * Limits {@code family}'s regional cores in {@code location} to {@code cores} (Compute's
     * {@code .../locations/<l>/usages} as the fake keeps it); {@link #SPOT_FAMILY} limits Spot VMs.
     */
    public static void quota(ArmFake arm, String subscription, String location, String family, int cores) {
        String id = usageId(subscription, location, family);
        Map<String, Object> usage = new LinkedHashMap<>();
        usage.put("id", id);
        usage.put("name", Map.of("value", family));
        usage.put("limit", cores);
        arm.put(id, usage);
    }

    /** A VM's power state ({@code PowerState/running}, ...), which only Resource Graph shows. */
    public static String powerState(ArmFake arm, String vmId) {
        return ((VirtualMachines) arm.handler(VM)).power(vmId);
    }

    private static String usageId(String subscription, String location, String family) {
        return "/subscriptions/" + subscription + "/providers/Microsoft.Compute/locations/" + ArmFake.norm(location) + "/usages/" + family;
    }

    // ---- small JSON helpers, shared with the other service fakes -------------------------------

    /** The value at a dotted path ({@code properties.hardwareProfile.vmSize}), or null. */
    static Object at(Map<String, Object> m, String path) {
        Object cur = m;
        for (String k : path.split("\\.")) {
            if (!(cur instanceof Map<?, ?> map)) return null;
            cur = map.get(k);
        }
        return cur;
    }

    static String text(Map<String, Object> m, String path) {
        Object v = at(m, path);
        return v == null ? null : String.valueOf(v);
    }

    /** The map at a dotted path, made (and linked in) where missing: for writing defaults. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> mapAt(Map<String, Object> m, String path) {
        Map<String, Object> cur = m;
        for (String k : path.split("\\.")) {
            Object next = cur.get(k);
            if (!(next instanceof Map<?, ?>)) {
                next = new LinkedHashMap<String, Object>();
                cur.put(k, next);
            }
            cur = (Map<String, Object>) next;
        }
        return cur;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> listAt(Map<String, Object> m, String path) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (at(m, path) instanceof List<?> l) for (Object o : l) if (o instanceof Map<?, ?> x) out.add((Map<String, Object>) x);
        return out;
    }

    static boolean sameText(Object a, Object b) {
        return a == null ? b == null : b != null && String.valueOf(a).equalsIgnoreCase(String.valueOf(b));
    }

    /** 400 as ARM words a reference to nothing. */
    static ArmError missingReference(String what, String id) {
        return ArmError.badRequest("InvalidResourceReference", "Resource " + id + " referenced by " + what + " was not found.");
    }

    /** Refuses a user-assigned identity map whose identities do not exist, as Resource Manager's identity check does. */
    static void requireIdentities(ArmFake arm, Map<String, Object> body, String resourceId) {
        Object type = at(body, "identity.type");
        if (type == null || !String.valueOf(type).contains("UserAssigned")) return;
        Object ids = at(body, "identity.userAssignedIdentities");
        if (!(ids instanceof Map<?, ?> m) || m.isEmpty()) {
            throw ArmError.badRequest("BadRequest", "The identity type UserAssigned of resource '" + resourceId
                + "' needs at least one user assigned identity in userAssignedIdentities.");
        }
        for (Object id : m.keySet()) {
            if (((Map<?, ?>) m).get(id) == null) continue; // a merge patch removing it
            if (arm.get(String.valueOf(id)).isEmpty()) {
                throw ArmError.badRequest("FailedIdentityOperation", "Identity operation for resource '" + resourceId + "' failed with error "
                    + "'Failed to perform resource identity operation. Status: 'NotFound'. Response: 'Resource '" + id + "' was not found.''.");
            }
        }
    }

    /** The stored identity with the principal and client ids Resource Manager fills in; none once its type is None. */
    @SuppressWarnings("unchecked")
    static void storeIdentities(ArmFake arm, Map<String, Object> stored) {
        if (!(stored.get("identity") instanceof Map<?, ?> identity)) return;
        if ("None".equalsIgnoreCase(String.valueOf(identity.get("type")))) {
            stored.remove("identity");
            return;
        }
        if (identity.get("userAssignedIdentities") instanceof Map<?, ?> ids) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<String, Object>) ids).forEach((id, v) -> {
                if (v == null) return;
                Map<String, Object> props = arm.get(id).map(ArmFake::properties).orElse(Map.of());
                Map<String, Object> value = new LinkedHashMap<>();
                value.put("principalId", props.getOrDefault("principalId", UUID.nameUUIDFromBytes(id.getBytes()).toString()));
                value.put("clientId", props.getOrDefault("clientId", UUID.nameUUIDFromBytes(("c" + id).getBytes()).toString()));
                out.put(id, value);
            });
            ((Map<String, Object>) identity).put("userAssignedIdentities", out);
        }
    }

    // ---- virtual machines ----------------------------------------------------------------------

    static final class VirtualMachines implements ArmType {
        /** What a VM being deleted held, for the clean-up once its deletion is done (afterWrite then sees nothing). */
        private final Map<String, Map<String, Object>> deleting = new java.util.concurrent.ConcurrentHashMap<>();
        /**
         * Each VM's power state by key: kept beside the resource, since ARM's GET of a VM never shows it
         * (only its instance view does) while Resource Graph's row carries it as
         * {@code properties.extended.instanceView.powerState}.
         */
        private final Map<String, String> power = new java.util.concurrent.ConcurrentHashMap<>();

        String power(String id) {
            return power.getOrDefault(ArmId.key(id), "PowerState/running");
        }

        @Override
        public Class<?> patchModel() {
            return VirtualMachineUpdateInner.class; // Compute's PATCH takes VirtualMachineUpdate: no location, no read-only parts
        }

        /** Graph's row of a VM: the resource as ARM holds it, and the power state Graph adds. */
        @Override
        public Map<String, Object> graphRow(Map<String, Object> row) {
            String code = power(String.valueOf(row.get("id")));
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("code", code);
            state.put("displayStatus", "VM " + code.substring(code.indexOf('/') + 1));
            mapAt(row, "properties.extended.instanceView").put("powerState", state);
            return row;
        }

        @Override
        public String type() {
            return VM;
        }

        @Override
        public Class<?> model() {
            return VirtualMachineInner.class;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            String size = text(body, "properties.hardwareProfile.vmSize");
            if (size == null) throw ArmError.badRequest("InvalidParameter", "Required parameter 'hardwareProfile.vmSize' is missing (null).");
            Size known = SIZES.get(size.toLowerCase(Locale.ROOT));
            if (known == null) {
                throw ArmError.badRequest("InvalidParameter", "The value " + size + " provided for the VM size is not valid. The valid sizes in the "
                    + "current region are listed by the virtualMachines/vmSizes API.");
            }
            if (!(p.get("storageProfile") instanceof Map<?, ?>)) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'storageProfile' is missing (null).");
            }
            if (text(body, "properties.storageProfile.osDisk.createOption") == null) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'osDisk.createOption' is missing (null).");
            }
            String sku = text(body, "properties.storageProfile.imageReference.sku");
            if ("FromImage".equalsIgnoreCase(text(body, "properties.storageProfile.osDisk.createOption"))
                && (text(body, "properties.storageProfile.imageReference.publisher") == null || sku == null)) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'imageReference' is missing (null).");
            }
            if (known.gen2Only() && sku != null && !sku.toLowerCase(Locale.ROOT).contains("gen2") && existing.isEmpty()) {
                throw ArmError.badRequest("BadRequest", "The selected VM size '" + size + "' cannot boot Hypervisor Generation '1'. If this was a "
                    + "Create operation please check that the Hypervisor Generation of the Image matches the Hypervisor Generation of the selected VM "
                    + "Size.");
            }
            Object disk = at(body, "properties.storageProfile.osDisk.diskSizeGB");
            if (disk instanceof Number n && (n.intValue() < 1 || n.intValue() > 4095)) {
                throw ArmError.badRequest("InvalidParameter", "The value of parameter osDisk.diskSizeGB is invalid: an OS disk is 1 to 4095 GB.");
            }
            checkOsProfile(body, existing);
            checkNetworkInterfaces(arm, id, body);
            checkPriority(body, existing);
            requireIdentities(arm, body, id.id());
            existing.ifPresent(e -> checkChange(id, e, body, power(id.id())));
            checkQuota(arm, id, body, known, existing);
            String diskName = text(body, "properties.storageProfile.osDisk.name");
            if (existing.isEmpty() && diskName != null) {
                String diskId = id.scope() + "/providers/" + DISK + "/" + diskName;
                Optional<Map<String, Object>> d = arm.get(diskId);
                if (d.isPresent() && !id.id().equalsIgnoreCase(String.valueOf(d.get().get("managedBy")))) {
                    throw ArmError.conflict("ConflictingUserInput", "Disk " + diskName + " already exists in resource group "
                        + id.resourceGroup().toUpperCase(Locale.ROOT) + ". Only CreateOption.Attach is supported.");
                }
            }
        }

        private static void checkOsProfile(Map<String, Object> body, Optional<Map<String, Object>> existing) {
            if (existing.isPresent()) return; // compared in checkChange
            if (at(body, "properties.osProfile") == null) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'osProfile' is missing (null).");
            }
            if (text(body, "properties.osProfile.adminUsername") == null) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'osProfile.adminUsername' is missing (null).");
            }
            if (!(at(body, "properties.osProfile.linuxConfiguration") instanceof Map<?, ?>)) {
                throw ArmError.badRequest("InvalidParameter", "The fake serves Linux VMs only: 'osProfile.linuxConfiguration' is required.");
            }
            boolean noPassword = Boolean.TRUE.equals(at(body, "properties.osProfile.linuxConfiguration.disablePasswordAuthentication"));
            List<Map<String, Object>> keys = listAt(body, "properties.osProfile.linuxConfiguration.ssh.publicKeys");
            if (noPassword && keys.isEmpty()) {
                throw ArmError.badRequest("InvalidParameter", "Authentication using either SSH or by user name and password must be enabled in Linux "
                    + "profile.");
            }
            if (!noPassword && text(body, "properties.osProfile.adminPassword") == null) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'adminPassword' is missing (null).");
            }
            for (Map<String, Object> k : keys) {
                String data = String.valueOf(k.get("keyData"));
                if (!data.matches("(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]{40,}( .*)?")) {
                    throw ArmError.badRequest("InvalidParameter", "The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.");
                }
                if (!String.valueOf(k.get("path")).startsWith("/home/" + text(body, "properties.osProfile.adminUsername") + "/")) {
                    throw ArmError.badRequest("InvalidParameter", "Destination path for SSH public keys is currently limited to its default value "
                        + "/home/<user>/.ssh/authorized_keys due to a known issue in Linux provisioning agent.");
                }
            }
        }

        private static void checkNetworkInterfaces(ArmFake arm, ArmId id, Map<String, Object> body) {
            List<Map<String, Object>> nics = listAt(body, "properties.networkProfile.networkInterfaces");
            if (nics.isEmpty()) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'networkProfile' is missing (null): a VM needs a network interface.");
            }
            for (Map<String, Object> ref : nics) {
                String nicId = String.valueOf(ref.get("id"));
                Map<String, Object> nic = arm.get(nicId).orElseThrow(() -> missingReference("virtual machine " + id.name(), nicId));
                if (!ArmFake.norm(String.valueOf(nic.get("location"))).equals(ArmFake.norm(String.valueOf(body.get("location"))))) {
                    throw ArmError.badRequest("InvalidResourceReference", "Network interface " + nicId + " is in location " + nic.get("location")
                        + ", not the VM's " + body.get("location") + ".");
                }
                String user = text(nic, "properties.virtualMachine.id");
                if (user != null && !user.equalsIgnoreCase(id.id())) {
                    throw ArmError.conflict("NicInUse", "Network Interface " + nicId + " is used by existing resource " + user + ".");
                }
            }
        }

        private static void checkPriority(Map<String, Object> body, Optional<Map<String, Object>> existing) {
            String priority = text(body, "properties.priority");
            if ("Spot".equalsIgnoreCase(priority) || "Low".equalsIgnoreCase(priority)) {
                if (text(body, "properties.evictionPolicy") == null) {
                    throw ArmError.badRequest("InvalidParameter", "Eviction policy must be specified for Spot priority virtual machines.");
                }
                Object max = at(body, "properties.billingProfile.maxPrice");
                if (max instanceof Number n && n.doubleValue() != -1 && n.doubleValue() <= 0) {
                    throw ArmError.badRequest("InvalidParameter", "The value of parameter billingProfile.maxPrice is invalid: give -1 or a price above 0.");
                }
            } else if (text(body, "properties.evictionPolicy") != null && existing.isEmpty()) {
                throw ArmError.badRequest("InvalidParameter", "Eviction policy can be set only on Spot or Low priority virtual machines.");
            }
        }

        /** What Compute refuses to change on an existing VM. */
        private static void checkChange(ArmId id, Map<String, Object> e, Map<String, Object> body, String powerState) {
            for (String path : List.of("properties.priority", "properties.evictionPolicy", "properties.storageProfile.imageReference.publisher",
                "properties.storageProfile.imageReference.offer", "properties.storageProfile.imageReference.sku",
                "properties.osProfile.adminUsername", "properties.osProfile.computerName", "properties.storageProfile.osDisk.name")) {
                Object now = at(body, path);
                Object was = at(e, path);
                boolean defaulted = now == null && (path.endsWith("priority") || path.endsWith("osDisk.name") || path.endsWith("evictionPolicy"));
                if (!defaulted && !sameText(was, now)) {
                    throw ArmError.conflict("PropertyChangeNotAllowed", "Changing property '" + path.substring(path.lastIndexOf('.') + 1)
                        + "' is not allowed.");
                }
            }
            Object now = at(body, "properties.storageProfile.osDisk.diskSizeGB");
            Object was = at(e, "properties.storageProfile.osDisk.diskSizeGB");
            if (now instanceof Number n && was instanceof Number w && n.intValue() != w.intValue()) {
                if (n.intValue() < w.intValue()) {
                    throw ArmError.conflict("PropertyChangeNotAllowed", "Disk size reduction is not supported: " + id.name() + "'s OS disk is "
                        + w + " GB and cannot become " + n + " GB.");
                }
                if (!"PowerState/deallocated".equals(powerState)) {
                    throw ArmError.conflict("OperationNotAllowed", "Disk resizing is allowed only when creating a VM or when the VM is deallocated.");
                }
            }
        }

        private void checkQuota(ArmFake arm, ArmId id, Map<String, Object> body, Size size, Optional<Map<String, Object>> existing) {
            String location = ArmFake.norm(String.valueOf(body.get("location")));
            boolean spot = "Spot".equalsIgnoreCase(text(body, "properties.priority"));
            String family = spot ? SPOT_FAMILY : size.family();
            Optional<Map<String, Object>> limit = arm.get(usageId(id.subscription(), location, family));
            if (limit.isEmpty()) return;
            int used = 0;
            for (Map<String, Object> vm : arm.list(VM)) {
                ArmId other = ArmId.parse(String.valueOf(vm.get("id")));
                if (other.key().equals(id.key()) || !other.subscription().equalsIgnoreCase(id.subscription())) continue;
                if (!ArmFake.norm(String.valueOf(vm.get("location"))).equals(location)) continue;
                if ("PowerState/deallocated".equals(power(String.valueOf(vm.get("id"))))) continue;
                Size s = SIZES.get(String.valueOf(text(vm, "properties.hardwareProfile.vmSize")).toLowerCase(Locale.ROOT));
                boolean otherSpot = "Spot".equalsIgnoreCase(text(vm, "properties.priority"));
                if (s != null && family.equals(otherSpot ? SPOT_FAMILY : s.family())) used += s.cores();
            }
            int max = ((Number) limit.get().get("limit")).intValue();
            if (used + size.cores() > max) throw ArmError.quota(family, location, max, used, size.cores());
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            p.put("vmId", existing.map(e -> text(e, "properties.vmId")).orElse(UUID.randomUUID().toString()));
            p.put("timeCreated", existing.map(e -> text(e, "properties.timeCreated")).orElse(java.time.Instant.now().toString()));
            Map<String, Object> os = mapAt(body, "properties.storageProfile.osDisk");
            os.putIfAbsent("name", id.name() + "_OsDisk_1_" + UUID.nameUUIDFromBytes(id.key().getBytes()).toString().replace("-", ""));
            os.putIfAbsent("osType", "Linux");
            os.putIfAbsent("caching", "ReadWrite");
            os.putIfAbsent("deleteOption", "Detach");
            os.putIfAbsent("diskSizeGB", 30);
            Map<String, Object> managed = mapAt(os, "managedDisk");
            managed.putIfAbsent("storageAccountType", "Premium_LRS");
            managed.put("id", id.scope() + "/providers/" + DISK + "/" + os.get("name"));
            for (Map<String, Object> ref : listAt(body, "properties.networkProfile.networkInterfaces")) mapAt(ref, "properties").putIfAbsent("deleteOption", "Detach");
            if (text(body, "properties.priority") == null) p.put("priority", "Regular");
            if (at(body, "properties.osProfile") instanceof Map<?, ?>) mapAt(body, "properties.osProfile").remove("adminPassword"); // never answered
            else existing.ifPresent(e -> p.put("osProfile", at(e, "properties.osProfile")));
            if (existing.isEmpty()) power.put(id.key(), "PowerState/running"); // a new VM starts
            storeIdentities(arm, body);
            return body;
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            deleting.put(id.key(), existing);
        }

        @Override
        public void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
            if (now.isPresent()) {
                Map<String, Object> vm = now.get();
                for (Map<String, Object> ref : listAt(vm, "properties.networkProfile.networkInterfaces")) {
                    arm.get(String.valueOf(ref.get("id"))).ifPresent(nic -> {
                        mapAt(nic, "properties.virtualMachine").put("id", id.id());
                        arm.put(String.valueOf(nic.get("id")), nic);
                    });
                }
                writeDisk(arm, id, vm);
                return;
            }
            Map<String, Object> gone = deleting.remove(id.key());
            power.remove(id.key());
            if (gone == null) return;
            for (Map<String, Object> ref : listAt(gone, "properties.networkProfile.networkInterfaces")) {
                String nicId = String.valueOf(ref.get("id"));
                if ("Delete".equalsIgnoreCase(text(ref, "properties.deleteOption"))) {
                    arm.remove(nicId);
                } else {
                    arm.get(nicId).ifPresent(nic -> {
                        ArmFake.properties(nic).remove("virtualMachine");
                        arm.put(nicId, nic);
                    });
                }
            }
            String diskId = text(gone, "properties.storageProfile.osDisk.managedDisk.id");
            if (diskId == null) return;
            if ("Delete".equalsIgnoreCase(text(gone, "properties.storageProfile.osDisk.deleteOption"))) {
                arm.remove(diskId);
            } else {
                arm.get(diskId).ifPresent(d -> {
                    d.remove("managedBy");
                    ArmFake.properties(d).put("diskState", "Unattached");
                    arm.put(diskId, d);
                });
            }
        }

        /** The OS disk Compute makes from the image: a disk resource of its own, managed by the VM. */
        private static void writeDisk(ArmFake arm, ArmId id, Map<String, Object> vm) {
            String diskId = text(vm, "properties.storageProfile.osDisk.managedDisk.id");
            if (diskId == null) return;
            Map<String, Object> disk = arm.get(diskId).orElseGet(LinkedHashMap::new);
            disk.put("id", diskId);
            disk.put("name", diskId.substring(diskId.lastIndexOf('/') + 1));
            disk.put("type", DISK);
            disk.put("location", vm.get("location"));
            disk.putIfAbsent("tags", new LinkedHashMap<>());
            disk.put("managedBy", id.id());
            disk.put("sku", Map.of("name", String.valueOf(text(vm, "properties.storageProfile.osDisk.managedDisk.storageAccountType"))));
            Map<String, Object> p = ArmFake.properties(disk);
            p.put("osType", "Linux");
            p.put("diskSizeGB", at(vm, "properties.storageProfile.osDisk.diskSizeGB"));
            p.put("diskState", "Attached");
            p.put("creationData", Map.of("createOption", "FromImage"));
            p.put("provisioningState", "Succeeded");
            arm.put(diskId, disk);
        }

        @Override
        public Object action(ArmFake arm, ArmId id, String action, Map<String, Object> body) {
            String power = switch (action.toLowerCase(Locale.ROOT)) {
                case "deallocate" -> "PowerState/deallocated";
                case "poweroff" -> "PowerState/stopped";
                case "start", "restart" -> "PowerState/running";
                default -> throw new ArmError(404, "NotFound", "No HTTP resource was found that matches the request URI: action '" + action + "' on " + VM);
            };
            Map<String, Object> vm = arm.get(id.id()).orElseThrow(() -> ArmError.notFound(id.type(), id.name(), id.resourceGroup()));
            if (power.equals("PowerState/running")) {
                // Starting a deallocated VM allocates its cores again.
                Size size = SIZES.get(String.valueOf(text(vm, "properties.hardwareProfile.vmSize")).toLowerCase(Locale.ROOT));
                if (size != null) checkQuota(arm, id, vm, size, Optional.of(vm));
            }
            this.power.put(id.key(), power);
            return null;
        }
    }

    // ---- disks -----------------------------------------------------------------------------------

    static final class Disks implements ArmType {
        @Override
        public String type() {
            return DISK;
        }

        @Override
        public Class<?> model() {
            return DiskInner.class;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            if (existing.isEmpty() && text(body, "properties.creationData.createOption") == null) {
                throw ArmError.badRequest("InvalidParameter", "Required parameter 'creationData.createOption' is missing (null).");
            }
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            Object vm = existing.get("managedBy");
            if (vm != null) {
                throw ArmError.conflict("OperationNotAllowed", "Disk " + id.name() + " is attached to VM " + vm + ".");
            }
        }
    }

    // ---- network interfaces ----------------------------------------------------------------------

    static final class NetworkInterfaces implements ArmType {
        @Override
        public String type() {
            return NIC;
        }

        @Override
        public Class<?> model() {
            return NetworkInterfaceInner.class;
        }

        @Override
        public Class<?> patchModel() {
            return com.azure.resourcemanager.network.models.TagsObject.class; // Network's PATCH of a NIC changes its tags only
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            List<Map<String, Object>> configs = listAt(body, "properties.ipConfigurations");
            if (configs.isEmpty()) {
                throw ArmError.badRequest("NetworkInterfaceMustHaveAtLeastOneIpConfiguration", "Network interface " + id.id()
                    + " must have one or more IP configurations.");
            }
            String network = null;
            for (Map<String, Object> c : configs) {
                if (c.get("name") == null) throw ArmError.badRequest("InvalidRequestFormat", "Cannot parse the request: IP configuration name is missing.");
                String subnet = text(c, "properties.subnet.id");
                if (subnet == null) {
                    throw ArmError.badRequest("IpConfigurationSubnetMissing", "IP configuration " + c.get("name") + " of " + id.id() + " needs a subnet.");
                }
                if (arm.get(subnet).isEmpty()) throw missingReference("network interface " + id.name(), subnet);
                String vnet = subnet.substring(0, subnet.toLowerCase(Locale.ROOT).indexOf("/subnets/"));
                arm.get(vnet).ifPresent(v -> {
                    if (!ArmFake.norm(String.valueOf(v.get("location"))).equals(ArmFake.norm(String.valueOf(body.get("location"))))) {
                        throw ArmError.badRequest("InvalidResourceReference", "Subnet " + subnet + " is in location " + v.get("location")
                            + "; network interface " + id.name() + " must be in the same location.");
                    }
                });
                if (network != null && !network.equalsIgnoreCase(vnet)) {
                    throw ArmError.badRequest("IpConfigurationsOfNicReferenceDifferentVnets", "All IP configurations of " + id.id()
                        + " must reference subnets of one virtual network.");
                }
                network = vnet;
                String pip = text(c, "properties.publicIPAddress.id");
                if (pip != null && arm.get(pip).isEmpty()) throw missingReference("network interface " + id.name(), pip);
            }
            if (existing.isPresent() && text(existing.get(), "properties.virtualMachine.id") != null) {
                String before = text(listAt(existing.get(), "properties.ipConfigurations").get(0), "properties.subnet.id");
                String after = text(configs.get(0), "properties.subnet.id");
                String beforeNet = before == null ? "" : before.substring(0, Math.max(0, before.toLowerCase(Locale.ROOT).indexOf("/subnets/")));
                if (!beforeNet.equalsIgnoreCase(network) || after == null) {
                    throw ArmError.badRequest("CannotChangeVnetOfNicAttachedToVm", "Network interface " + id.id() + " is attached to a VM and "
                        + "cannot move to another virtual network.");
                }
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            int n = 4;
            for (Map<String, Object> c : listAt(body, "properties.ipConfigurations")) {
                c.put("id", id.id() + "/ipConfigurations/" + c.get("name"));
                Map<String, Object> p = mapAt(c, "properties");
                p.putIfAbsent("privateIPAllocationMethod", "Dynamic");
                p.putIfAbsent("privateIPAddressVersion", "IPv4");
                String prefix = arm.get(text(c, "properties.subnet.id")).map(s -> text(s, "properties.addressPrefix")).orElse("10.0.0.0/24");
                p.putIfAbsent("privateIPAddress", prefix.substring(0, prefix.lastIndexOf('.') + 1) + n++);
                p.put("provisioningState", "Succeeded");
            }
            ArmFake.properties(body).put("resourceGuid", existing.map(e -> text(e, "properties.resourceGuid")).orElse(UUID.randomUUID().toString()));
            existing.map(e -> at(e, "properties.virtualMachine")).ifPresent(vm -> ArmFake.properties(body).put("virtualMachine", vm));
            return body;
        }

        @Override
        public void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
            String vm = text(existing, "properties.virtualMachine.id");
            if (vm != null) {
                throw ArmError.conflict("NicInUse", "Network Interface " + id.id() + " is used by existing resource " + vm + ". In order to delete "
                    + "the network interface, it must be dissociated from the resource. To learn more, see aka.ms/deletenic.");
            }
        }
    }
}
