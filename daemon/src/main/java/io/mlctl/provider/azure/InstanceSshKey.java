package io.mlctl.provider.azure;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPublicKey;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The SSH public key a new VM's admin user gets (Azure's Linux VMs here take no password). The key
 * {@value InstanceKind#KEY_VARIABLE} gives (a path, or the key itself), else the first of
 * {@code ~/.ssh/id_rsa.pub}, {@code id_ed25519.pub}, {@code id_ecdsa.pub}; else a fresh RSA key
 * whose private half is never kept or shown, so the VM has no login until someone sets a key.
 */
final class InstanceSshKey {
    private static final List<String> DEFAULT_FILES = List.of("id_rsa.pub", "id_ed25519.pub", "id_ecdsa.pub");

    private InstanceSshKey() {
    }

    static String publicKey(Map<String, String> environment) {
        String given = environment.get(InstanceKind.KEY_VARIABLE);
        if (given != null && !given.isBlank()) {
            String v = given.trim();
            if (isPublicKey(v)) return v;
            // Never the value itself in the message: it may be a private key pasted by mistake.
            Optional<String> fromFile;
            try {
                fromFile = read(Path.of(v));
            } catch (java.nio.file.InvalidPathException e) {
                fromFile = Optional.empty();
            }
            return fromFile.orElseThrow(() -> new io.mlctl.provider.DriverException(InstanceKind.KEY_VARIABLE
                + " is neither an SSH public key nor a readable file holding one", false));
        }
        String home = environment.getOrDefault("HOME", System.getProperty("user.home"));
        for (String f : DEFAULT_FILES) {
            Optional<String> k = read(Path.of(home, ".ssh", f));
            if (k.isPresent()) return k.get();
        }
        return throwawayKey();
    }

    private static Optional<String> read(Path p) {
        try {
            if (!Files.isRegularFile(p)) return Optional.empty();
            String k = Files.readString(p, StandardCharsets.UTF_8).strip();
            return isPublicKey(k) ? Optional.of(k.split("\\R", 2)[0]) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether a text is an OpenSSH public key line: {@code ssh-rsa}, {@code ssh-ed25519}, {@code ecdsa-sha2-*},
     * or a security key's {@code sk-ssh-ed25519@openssh.com} / {@code sk-ecdsa-sha2-nistp256@openssh.com}.
     */
    static boolean isPublicKey(String text) {
        return text.startsWith("ssh-") || text.startsWith("ecdsa-") || text.startsWith("sk-ssh-") || text.startsWith("sk-ecdsa-");
    }

    /** An RSA 3072 public key in OpenSSH's form; the private key is dropped with this method's frame. */
    static String throwawayKey() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(3072);
            RSAPublicKey pub = (RSAPublicKey) g.generateKeyPair().getPublic();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = new DataOutputStream(bytes);
            field(out, "ssh-rsa".getBytes(StandardCharsets.US_ASCII));
            field(out, pub.getPublicExponent().toByteArray());
            field(out, pub.getModulus().toByteArray());
            return "ssh-rsa " + Base64.getEncoder().encodeToString(bytes.toByteArray()) + " mlctl-no-private-key";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no RSA key generator in this JVM", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void field(DataOutputStream out, byte[] value) throws IOException {
        out.writeInt(value.length);
        out.write(value);
    }
}
