package io.mlctl.provider.azure;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the Azure driver talks. The Resource Manager endpoint is Azure's public cloud unless
 * {@code MLCTL_AZURE_RESOURCE_MANAGER_ENDPOINT} names another (a sovereign cloud, or the local fake);
 * the subscription is the spec's, else {@code AZURE_SUBSCRIPTION_ID}, else the Azure CLI's default
 * (as {@code az} finds it). Credentials only ever come from {@code DefaultAzureCredential}; a
 * plain-{@code http://} endpoint is refused unless it is loopback, and is then spoken to without any.
 */
public record AzureSettings(Map<String, String> environment) {
    public static final String ENDPOINT_VARIABLE = "MLCTL_AZURE_RESOURCE_MANAGER_ENDPOINT";
    public static final URI PUBLIC_CLOUD = URI.create("https://management.azure.com/");

    public static AzureSettings fromEnvironment(Map<String, String> env) {
        return new AzureSettings(Map.copyOf(env));
    }

    /** The Resource Manager (and Resource Graph) endpoint, ending in '/'. */
    public URI resourceManager() {
        String v = environment.get(ENDPOINT_VARIABLE);
        if (v == null || v.isBlank()) return PUBLIC_CLOUD;
        URI u = URI.create(v.trim().endsWith("/") ? v.trim() : v.trim() + "/");
        if (!"https".equals(u.getScheme()) && !("http".equals(u.getScheme()) && loopback(u.getHost()))) {
            throw new io.mlctl.provider.DriverException(ENDPOINT_VARIABLE + " must be https:// (or http:// on loopback for a local fake): " + u.getScheme() + "://" + u.getHost(), false);
        }
        return u;
    }

    /** Whether Resource Manager is a local fake over plain HTTP: then no token is ever sent. */
    public boolean plaintext() {
        return "http".equals(resourceManager().getScheme());
    }

    /** {@code AZURE_TENANT_ID} (the credential chain finds one otherwise). */
    public Optional<String> tenant() {
        return value("AZURE_TENANT_ID");
    }

    /** {@code AZURE_SUBSCRIPTION_ID}, else the Azure CLI's default subscription. */
    public Optional<String> subscriptionFromEnvironment() {
        Optional<String> v = value("AZURE_SUBSCRIPTION_ID");
        if (v.isPresent()) return v;
        return cliDefaultSubscription();
    }

    /** The subscription {@code az account show} would print: the one marked default in the CLI's profile. */
    Optional<String> cliDefaultSubscription() {
        Path dir = value("AZURE_CONFIG_DIR").map(Path::of).orElseGet(() -> Path.of(environment.getOrDefault("HOME", System.getProperty("user.home")), ".azure"));
        Path profile = dir.resolve("azureProfile.json");
        if (!Files.isRegularFile(profile)) return Optional.empty();
        try {
            // The CLI writes it with a byte-order mark.
            String text = Files.readString(profile, StandardCharsets.UTF_8).replace("\uFEFF", "");
            for (com.fasterxml.jackson.databind.JsonNode s : new com.fasterxml.jackson.databind.ObjectMapper().readTree(text).path("subscriptions")) {
                if (s.path("isDefault").asBoolean(false) && s.path("id").isTextual()) return Optional.of(s.path("id").asText());
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // not a profile the CLI wrote: as if there were none
        }
    }

    private Optional<String> value(String key) {
        String v = environment.get(key);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    static boolean loopback(String host) {
        if (host == null) return false;
        if (host.equals("localhost")) return true;
        try {
            return host.matches("[0-9.:\\[\\]a-fA-F]+") && InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Never the environment's values: they may hold client secrets. */
    @Override
    public String toString() {
        return "AzureSettings[resourceManager=" + resourceManager().getHost() + "]";
    }
}
