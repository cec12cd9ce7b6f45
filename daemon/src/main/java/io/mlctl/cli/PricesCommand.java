package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.cost.PriceCatalog;
import io.mlctl.cost.update.AwsPriceList;
import io.mlctl.cost.update.AzureRetailPrices;
import io.mlctl.cost.update.GcpBillingCatalog;
import io.mlctl.cost.update.PriceSource;
import io.mlctl.cost.update.PricesUpdater;
import io.mlctl.spec.Provider;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "prices", mixinStandardHelpOptions = true,
    description = {"The prices plans are costed with: on-demand and spot prices of machine types, accelerators, endpoint types "
        + "and Kubernetes control planes, and storage per GB-month, per cloud and region where they differ.",
        "mlctl ships them in its jar, each with its source and the date it was taken; 'prices update' refreshes them "
            + "from the clouds' public price lists into a directory mlctl reads them from."},
    subcommands = {PricesCommand.Update.class})
final class PricesCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Plain {@code mlctl prices}: its help on stderr and exit 1, as plain {@code mlctl} does. */
    @Override
    public Integer call() {
        spec.commandLine().usage(root.services.err());
        return 1;
    }

    @Command(name = "update", mixinStandardHelpOptions = true,
        description = {"Refresh the prices from the clouds' public price lists (needs the network) into DIR, one <provider>.json each, "
            + "in the format shipped in the jar: every row with today's date and its source.",
            "AWS: the AWS Price List bulk API (EC2, SageMaker, S3, EKS), no credentials. EC2's file is hundreds of MB per region. "
                + "It has no spot prices: the current ones are kept, with their own source and date.",
            "Azure: the Azure Retail Prices API, no credentials.",
            "GCP: the GCP Cloud Billing Catalog API, with an API key in MLCTL_GCP_API_KEY or Application Default Credentials "
                + "(gcloud auth application-default login). The key goes in a request header and is never shown.",
            "A price a source no longer lists is kept with its old date, and listed. Every source is read before anything is "
                + "written, and each file replaces the old one in an atomic move: offline or on any error, one line, exit 1, "
                + "and DIR is left as it was.",
            "Plans read DIR's files over the built-in prices (a built-in price newer than DIR's wins)."},
        footerHeading = "%nExamples:%n",
        footer = {"  mlctl prices update", "  MLCTL_GCP_API_KEY=... mlctl prices update --provider gcp --dir ./prices"})
    static final class Update implements Callable<Integer> {
        @ParentCommand PricesCommand parent;

        @Option(names = "--dir", paramLabel = "DIR",
            description = "Where to write: ~/.config/mlctl/prices by default ($XDG_CONFIG_HOME/mlctl/prices when that is set).")
        Path dir;

        @Option(names = "--provider", paramLabel = "PROVIDER", completionCandidates = Providers.class,
            description = "Only this cloud: aws, gcp or azure (default: all three).")
        Provider provider;

        static final class Providers implements Iterable<String> {
            @Override
            public java.util.Iterator<String> iterator() {
                return List.of("aws", "gcp", "azure").iterator();
            }
        }

        @Override
        public Integer call() {
            Services s = parent.root.services;
            Path target = dir != null ? s.resolve(dir.toString()) : PriceCatalog.defaultDir(s.env());
            List<Provider> providers = provider != null ? List.of(provider) : List.of(Provider.values());
            Map<Provider, PriceSource> sources = Map.of(Provider.AWS, new AwsPriceList(), Provider.AZURE, new AzureRetailPrices(),
                Provider.GCP, new GcpBillingCatalog(s.env()));
            LocalDate today = LocalDate.ofInstant(s.clock().instant(), java.time.ZoneOffset.UTC);
            List<PricesUpdater.Result> results;
            try {
                results = new PricesUpdater(s.catalog(), PriceCatalog.load(target), sources).update(providers, target, today);
            } catch (MlctlException e) {
                throw new MlctlException(e.getMessage() + " (no prices were written)", e);
            }
            for (PricesUpdater.Result r : results) {
                s.out().println(r.provider().id() + ": " + r.updated() + " prices from " + r.source() + " (" + today + ") written to " + r.file());
                if (!r.kept().isEmpty()) {
                    s.out().println(r.provider().id() + ": kept " + r.kept().size() + " with their old dates (not in the source): "
                        + r.kept().stream().map(Object::toString).collect(Collectors.joining(", ")));
                }
            }
            s.out().flush();
            return 0;
        }
    }
}
