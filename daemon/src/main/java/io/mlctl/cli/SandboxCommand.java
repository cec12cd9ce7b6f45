package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.inventory.Ownership;
import io.mlctl.provider.sandbox.SandboxCloud;
import io.mlctl.spec.Address;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.Values;
import io.mlctl.spec.YamlLoader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "sandbox", mixinStandardHelpOptions = true,
    description = {"Look at and change the sandbox cloud out of band, as someone clicking in a console would (to show drift).",
        "The sandbox lives in .mlctl/sandbox, or in the directory named by $MLCTL_SANDBOX; each resource is a JSON file there."})
final class SandboxCommand {
    @ParentCommand MlctlCommand root;

    private SandboxCloud cloud() {
        return root.services.sandbox();
    }

    record Found(Provider provider, SandboxCloud.StoredResource resource) {
    }

    private List<Found> find(String env, String address) {
        Address a = Address.parse(address);
        List<Found> out = new ArrayList<>();
        for (Provider p : Provider.values()) {
            for (SandboxCloud.StoredResource r : cloud().all(p, a.type())) {
                if (a.equals(Ownership.ownedAddress(r.tags(), env).orElse(null))) out.add(new Found(p, r));
            }
        }
        if (out.isEmpty()) throw new MlctlException("the sandbox has no " + address + " owned by environment " + env);
        return out;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List every resource in the sandbox, owned or not.")
    int list(@Option(names = {"-e", "--env"}, paramLabel = "NAME", description = "Only resources owned by this environment.") String env) {
        int n = 0;
        for (Provider p : Provider.values()) {
            for (ResourceType t : ResourceType.values()) {
                List<SandboxCloud.StoredResource> rs = new ArrayList<>(cloud().all(p, t));
                rs.sort(Comparator.comparing(SandboxCloud.StoredResource::cloudId));
                for (SandboxCloud.StoredResource r : rs) {
                    String owner = r.tags().getOrDefault(Ownership.ENVIRONMENT_TAG, "-");
                    if (env != null && !env.equals(owner)) continue;
                    root.services.out().println(p.id() + "  " + owner + "  " + r.tags().getOrDefault(Ownership.ADDRESS_TAG, t.id() + ".?") + "  " + r.cloudId());
                    n++;
                }
            }
        }
        root.services.out().println(n + " resource" + (n == 1 ? "" : "s") + " in the sandbox at " + cloud().root());
        root.services.out().flush();
        return 0;
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = "Change attributes of a resource out of band, e.g. set -e dev bucket.data versioning=false")
    int set(@Option(names = {"-e", "--env"}, required = true, paramLabel = "NAME") String env,
            @Parameters(index = "0", paramLabel = "ADDRESS") String address,
            @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE", description = "VALUE is YAML: true, 42, text, [a, b], {k: v}.") List<String> assignments) {
        Map<String, Object> changes = new HashMap<>();
        for (String as : assignments) {
            int eq = as.indexOf('=');
            if (eq <= 0) throw new MlctlException("expected KEY=VALUE, got '" + as + "'");
            String text = as.substring(eq + 1);
            Object v = text.isEmpty() ? null : Values.fromJson(new YamlLoader().loadString(text, "value").get(0).root());
            changes.put(as.substring(0, eq), v);
        }
        for (Found f : find(env, address)) {
            checkNames(Address.parse(address).type(), f.resource().attributes().keySet(), changes.keySet());
        }
        for (Found f : find(env, address)) {
            Map<String, Object> attrs = new TreeMap<>(f.resource().attributes());
            changes.forEach((k, v) -> {
                if (v == null) attrs.remove(k);
                else attrs.put(k, v);
            });
            cloud().write(f.provider(), new SandboxCloud.StoredResource(f.resource().cloudId(), f.resource().kind(), attrs, f.resource().tags(), f.resource().createdAt()));
            root.services.out().println("Changed " + address + " (" + f.resource().cloudId() + ") out of band.");
        }
        root.services.out().flush();
        return 0;
    }

    /**
     * A misspelled name (versionning=false) would add an attribute nothing reads, and the drift it was meant to show would
     * not appear: the names are those the spec's schema gives the type, plus what the resource already holds (region, tags).
     */
    private void checkNames(ResourceType type, java.util.Set<String> stored, java.util.Set<String> given) {
        java.util.Set<String> allowed = new java.util.TreeSet<>(stored);
        root.services.schema().schemaTree().at("/$defs/" + type.id() + "/properties").propertyNames().forEach(allowed::add);
        allowed.removeAll(List.of("type", "name"));
        allowed.removeAll(io.mlctl.planner.Planner.USAGE_HINTS); // what the spec expects of use: no cloud holds it
        for (String key : new java.util.TreeSet<>(given)) {
            if (allowed.contains(key)) continue;
            throw new MlctlException(type.id() + " has no attribute '" + key + "'" + io.mlctl.util.Typos.didYouMean(key, allowed)
                + "; its attributes are " + String.join(", ", allowed));
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a resource out of band.")
    int delete(@Option(names = {"-e", "--env"}, required = true, paramLabel = "NAME") String env,
               @Parameters(paramLabel = "ADDRESS") String address) {
        for (Found f : find(env, address)) {
            cloud().remove(f.provider(), f.resource());
            root.services.out().println("Deleted " + address + " (" + f.resource().cloudId() + ") out of band.");
        }
        root.services.out().flush();
        return 0;
    }

    @Command(name = "untag", mixinStandardHelpOptions = true, description = "Remove mlctl's ownership tags from a resource (mlctl then no longer sees or touches it).")
    int untag(@Option(names = {"-e", "--env"}, required = true, paramLabel = "NAME") String env,
              @Parameters(paramLabel = "ADDRESS") String address) {
        for (Found f : find(env, address)) {
            Map<String, String> tags = new HashMap<>(f.resource().tags());
            tags.remove(Ownership.ENVIRONMENT_TAG);
            tags.remove(Ownership.ADDRESS_TAG);
            cloud().write(f.provider(), new SandboxCloud.StoredResource(f.resource().cloudId(), f.resource().kind(), f.resource().attributes(), tags, f.resource().createdAt()));
            root.services.out().println("Removed the ownership tags of " + f.resource().cloudId() + ".");
        }
        root.services.out().flush();
        return 0;
    }

    @Command(name = "reset", mixinStandardHelpOptions = true, description = "Empty the sandbox.")
    int reset() {
        Path dir = cloud().root();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            } catch (IOException e) {
                throw new MlctlException("cannot empty " + dir + ": " + e.getMessage());
            }
        }
        root.services.out().println("Emptied the sandbox at " + dir + ".");
        root.services.out().flush();
        return 0;
    }
}
