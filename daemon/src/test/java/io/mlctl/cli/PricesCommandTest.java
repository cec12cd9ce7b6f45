package io.mlctl.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.PriceKind;
import io.mlctl.cost.update.AzureRetailPrices;
import io.mlctl.cost.update.PricesTestServers;
import io.mlctl.spec.Provider;
import io.mlctl.testing.Cli;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PricesCommandTest {
    @TempDir
    Path dir;
    Cli cli;

    @BeforeEach
    void setUp() {
        cli = new Cli(dir).clock(Clock.fixed(Instant.parse("2026-12-01T09:00:00Z"), ZoneOffset.UTC)).env("HOME", dir.resolve("home").toString());
    }

    @AfterEach
    void tearDown() {
        System.clearProperty(AzureRetailPrices.BASE_PROPERTY);
    }

    @Test
    void helpExplainsTheSourcesTheDirectoryAndTheKey() {
        Cli.Result prices = cli.run("prices", "--help");
        assertThat(prices.exitCode()).isZero();
        assertThat(prices.out()).contains("update").contains("source and the date");
        Cli.Result update = cli.run("prices", "update", "--help");
        assertThat(update.exitCode()).isZero();
        assertThat(update.out()).contains("AWS Price List", "Azure Retail Prices API", "Cloud Billing Catalog", "MLCTL_GCP_API_KEY", "--dir", "--provider",
            "~/.config/mlctl/prices", "atomic");
        Cli.Result bare = cli.run("prices");
        assertThat(bare.exitCode()).isEqualTo(1);
        assertThat(bare.err()).contains("Usage: mlctl prices");
    }

    @Test
    void updateWritesTheProvidersFileAndSaysWhatItKept() throws Exception {
        try (PricesTestServers.Azure azure = new PricesTestServers.Azure()) {
            System.setProperty(AzureRetailPrices.BASE_PROPERTY, azure.base().toString());
            Cli.Result r = cli.run("prices", "update", "--provider", "azure", "--dir", "prices");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            Path file = dir.resolve("prices/azure.json");
            assertThat(r.out()).startsWith("azure: ").contains(" prices from Azure Retail Prices API (2026-12-01) written to " + file)
                .contains("azure: kept ").contains("machine Standard_NC24s_v3");
            assertThat(file).exists();
            assertThat(dir.resolve("prices")).isDirectoryNotContaining("glob:**/aws.json");
            assertThat(PriceCatalog.load(dir.resolve("prices")).find(Provider.AZURE, PriceKind.MACHINE, "Standard_NC6s_v3", "eastus").orElseThrow().date())
                .isEqualTo(LocalDate.parse("2026-12-01"));
            assertThat(azure.requests()).isPositive();
        }
    }

    @Test
    void defaultDirectoryIsUnderHomeConfig() {
        try (PricesTestServers.Azure azure = new PricesTestServers.Azure()) {
            System.setProperty(AzureRetailPrices.BASE_PROPERTY, azure.base().toString());
            Cli.Result r = cli.run("prices", "update", "--provider", "azure");
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(dir.resolve("home/.config/mlctl/prices/azure.json")).exists();
        }
    }

    @Test
    void offlineIsOneLineExitOneAndNothingWritten() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        System.setProperty(AzureRetailPrices.BASE_PROPERTY, "http://127.0.0.1:" + port + "/api/retail/prices");
        Cli.Result r = cli.run("prices", "update", "--provider", "azure", "--dir", "prices");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err().lines().toList()).singleElement().satisfies(line -> assertThat(line)
            .startsWith("Error: Azure Retail Prices API: cannot reach http://127.0.0.1:" + port + "/api/retail/prices (offline?)")
            .endsWith("(no prices were written)"));
        assertThat(r.out()).isEmpty();
        assertThat(Files.exists(dir.resolve("prices/azure.json"))).isFalse();
    }

    @Test
    void unknownProviderIsRefused() {
        Cli.Result r = cli.run("prices", "update", "--provider", "oracle");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("--provider").contains("oracle");
    }
}
