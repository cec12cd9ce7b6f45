package io.mlctl.cli;

import io.mlctl.catalog.Catalog;
import io.mlctl.provider.Driver;
import io.mlctl.provider.Providers;
import io.mlctl.provider.aws.AwsDriver;
import io.mlctl.provider.aws.AwsSettings;
import io.mlctl.provider.azure.AzureDriver;
import io.mlctl.provider.azure.AzureSettings;
import io.mlctl.provider.gcp.GcpDriver;
import io.mlctl.provider.gcp.GcpSettings;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.schema.SchemaValidator;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.YamlLoader;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

/**
 * Everything a command needs from the outside world, made once in {@link Main} and passed in, so
 * tests can run the real commands with their own directories, clock, input and output.
 */
public final class Services {
    private final Path cwd;
    private final Map<String, String> env;
    private final Clock clock;
    private final BufferedReader in;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean terminal;
    private Catalog catalog;
    private io.mlctl.cost.PriceCatalog prices;
    private SchemaValidator schema;
    private Providers providers;

    public Services(Path cwd, Map<String, String> env, Clock clock, BufferedReader in, PrintWriter out, PrintWriter err, boolean terminal) {
        this.cwd = cwd;
        this.env = Map.copyOf(env);
        this.clock = clock;
        this.in = in;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
    }

    public Path cwd() { return cwd; }
    public Map<String, String> env() { return env; }
    public Clock clock() { return clock; }
    public BufferedReader in() { return in; }
    public PrintWriter out() { return out; }
    public PrintWriter err() { return err; }

    /** Colors only on a terminal, and never when NO_COLOR is set (no-color.org). */
    public boolean color(boolean noColorFlag) {
        return terminal && !noColorFlag && !env.containsKey("NO_COLOR") && !"dumb".equals(env.get("TERM"));
    }

    public boolean terminal() {
        return terminal;
    }

    public synchronized Catalog catalog() {
        if (catalog == null) catalog = Catalog.loadDefault();
        return catalog;
    }

    /** The prices costs are computed with: the jar's, under the files {@code mlctl prices update} wrote to its default directory. */
    public synchronized io.mlctl.cost.PriceCatalog prices() {
        if (prices == null) prices = io.mlctl.cost.PriceCatalog.load(io.mlctl.cost.PriceCatalog.defaultDir(env));
        return prices;
    }

    public synchronized SchemaValidator schema() {
        if (schema == null) schema = new SchemaValidator();
        return schema;
    }

    public Path resolve(String path) {
        return cwd.resolve(path).normalize();
    }

    public ConfigRepo loadConfig(List<Path> paths) {
        // "-" is the spec on standard input (a file named "-" is "./-").
        ConfigRepo repo = new ConfigLoader(new YamlLoader(), schema(), catalog(), cwd)
            .load(paths.stream().map(p -> p.equals(ConfigLoader.STDIN) ? p : cwd.resolve(p).normalize()).toList(), in);
        // Conditions are compiled as the config is read, so validate reports a policy that cannot work.
        policies = io.mlctl.policy.Policies.compile(repo.policyDocuments(), catalog());
        return repo;
    }

    private io.mlctl.policy.PolicySet policies = io.mlctl.policy.PolicySet.NONE;

    /** The policies of the config this command loaded (none before it loaded one). */
    public io.mlctl.policy.PolicySet policies() {
        return policies;
    }

    public Path stateDir(Path flag) {
        if (flag != null) return cwd.resolve(flag);
        String e = env.get("MLCTL_STATE_DIR");
        return e != null ? cwd.resolve(e) : cwd.resolve(".mlctl/state");
    }

    public Path sandboxDir() {
        String e = env.get("MLCTL_SANDBOX");
        return e != null && !e.isBlank() ? cwd.resolve(e) : cwd.resolve(".mlctl/sandbox");
    }

    public SandboxCloud sandbox() {
        return new SandboxCloud(sandboxDir(), catalog(), clock);
    }

    /** The clouds this build drives: one registration line per provider package. */
    public synchronized Providers providers() {
        if (providers == null) {
            providers = new Providers()
                .register(Provider.AWS, e -> new AwsDriver(AwsSettings.fromEnvironment(env), catalog()))
                .register(Provider.GCP, e -> new GcpDriver(GcpSettings.fromEnvironment(env)))
                .register(Provider.AZURE, e -> new AzureDriver(AzureSettings.fromEnvironment(env)));
        }
        return providers;
    }

    /** The driver for an environment's cloud. */
    public Driver driver(Environment environment, boolean sandbox) {
        return sandbox ? sandbox() : providers().driver(environment);
    }
}
