package io.mlctl.fake.azure;

import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobContainerItem;
import com.azure.storage.blob.models.ListBlobContainersOptions;
import com.azure.storage.blob.models.PublicAccessType;
import com.azure.storage.common.StorageSharedKeyCredential;
import io.mlctl.util.Hashing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

/**
 * The blob data plane behind the ARM fake's storage accounts: Azurite (Microsoft's storage emulator).
 * Azurite serves one account, {@code devstoreaccount1} with its published development key, while ARM
 * makes accounts under generated names; so every blob container created through ARM is created in
 * Azurite's one account as {@link #containerName} {@code <account>-<container>}, with the same
 * metadata and public access, and deleted with it (or with its account). Tests then read and write
 * blobs in a bucket's container with the real {@code azure-storage-blob} client ({@link #container}).
 *
 * <p>Attach it to a fake with {@link #attach} (tests), or start {@code bin/azure-fakes} with
 * {@code MLCTL_FAKE_AZURITE=http://127.0.0.1:10000/devstoreaccount1}. Without it the fake keeps
 * containers in ARM only.
 */
public final class BlobMirror {
    /** Azurite's (and the old storage emulator's) well-known development account; its key is public. */
    public static final String DEV_ACCOUNT = "devstoreaccount1";
    public static final String DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static final Map<ArmFake, BlobMirror> MIRRORS = Collections.synchronizedMap(new WeakHashMap<>());

    private final BlobServiceClient service;

    /** {@code endpoint}: Azurite's blob endpoint with the account, {@code http://127.0.0.1:<port>/devstoreaccount1}. */
    public BlobMirror(String endpoint) {
        this.service = new BlobServiceClientBuilder().endpoint(endpoint).credential(new StorageSharedKeyCredential(DEV_ACCOUNT, DEV_KEY)).buildClient();
    }

    /** Mirrors {@code arm}'s blob containers into Azurite at {@code endpoint} from now on. */
    public static BlobMirror attach(ArmFake arm, String endpoint) {
        BlobMirror m = new BlobMirror(endpoint);
        MIRRORS.put(arm, m);
        return m;
    }

    static Optional<BlobMirror> of(ArmFake arm) {
        return Optional.ofNullable(MIRRORS.get(arm));
    }

    /**
     * Azurite's name for container {@code container} of storage account {@code account}: {@code <account>-<container>},
     * unique because account names hold no '-' and are unique themselves, and a valid container name
     * (3–63 lowercase letters, digits and single hyphens). Past 63 characters the container part is cut
     * and ends in 8 hex characters of its hash.
     */
    public static String containerName(String account, String container) {
        String a = account.toLowerCase(Locale.ROOT);
        String full = a + "-" + container;
        if (full.length() <= 63) return full;
        String hash = Hashing.sha256Text(container).substring(0, 8);
        String head = container.substring(0, 63 - a.length() - 2 - hash.length()).replaceAll("-+$", "");
        return a + "-" + (head.isEmpty() ? "" : head + "-") + hash;
    }

    /** The Azurite container standing for {@code account}'s {@code container}, for tests' blob reads and writes. */
    public BlobContainerClient container(String account, String container) {
        return service.getBlobContainerClient(containerName(account, container));
    }

    /** Every Azurite container name standing for a container of {@code account}. */
    public List<String> containersOf(String account) {
        List<String> out = new ArrayList<>();
        for (BlobContainerItem c : service.listBlobContainers(new ListBlobContainersOptions().setPrefix(account.toLowerCase(Locale.ROOT) + "-"), null)) {
            out.add(c.getName());
        }
        return out;
    }

    /** Creates (or updates) the container's mirror with {@code metadata} and {@code publicAccess} (None, Blob, Container). */
    void put(String account, String container, Map<String, String> metadata, String publicAccess) {
        BlobContainerClient c = container(account, container);
        c.createIfNotExists();
        c.setMetadata(metadata);
        PublicAccessType access = publicAccess == null || publicAccess.equalsIgnoreCase("None") ? null : PublicAccessType.fromString(publicAccess.toLowerCase(Locale.ROOT));
        c.setAccessPolicy(access, null);
    }

    void delete(String account, String container) {
        container(account, container).deleteIfExists();
    }

    /** Deletes every container mirrored for {@code account} (the account was deleted, and its containers with it). */
    void deleteAccount(String account) {
        for (String name : containersOf(account)) service.getBlobContainerClient(name).deleteIfExists();
    }

    /**
     * {@code java -cp mlctl.jar io.mlctl.fake.azure.BlobMirror [endpoint]}: lists Azurite's containers with
     * their metadata and public access, one per line, so a person can see what the ARM fake mirrored
     * (Azurite answers only requests signed with the development key, which curl cannot make).
     */
    public static void main(String[] args) {
        String endpoint = args.length > 0 ? args[0] : "http://127.0.0.1:10000/" + DEV_ACCOUNT;
        BlobMirror m = new BlobMirror(endpoint);
        for (BlobContainerItem c : m.service.listBlobContainers(new ListBlobContainersOptions()
            .setDetails(new com.azure.storage.blob.models.BlobContainerListDetails().setRetrieveMetadata(true)), null)) {
            PublicAccessType access = c.getProperties().getPublicAccess();
            System.out.println(c.getName() + " public=" + (access == null ? "none" : access) + " metadata=" + new java.util.TreeMap<>(
                c.getMetadata() == null ? Map.of() : c.getMetadata()));
        }
    }
}
