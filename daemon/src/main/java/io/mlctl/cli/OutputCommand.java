package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.provider.Driver;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.util.Typos;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * terraform's {@code output}: what a person needs of each resource after an apply. Nothing is stored: every value is read
 * from the cloud (the environment's inventory, then the driver's outputs of each resource), so it is what is there now.
 */
@Command(name = "output", mixinStandardHelpOptions = true,
    description = {"Print what you need of each resource the environment owns, read from the cloud now (nothing is stored):",
        "  every resource: id (its cloud id)",
        "  bucket: uri (s3://, gs:// or https://ACCOUNT.blob.core.windows.net/CONTAINER)",
        "  instance: privateIp, and publicIp when it has one",
        "  kubernetes_cluster: endpoint, credentials (the aws/gcloud/az command for kubeconfig), version",
        "  inference_endpoint: invokeUrl",
        "  identity: arn and instanceProfile (AWS), email (GCP), clientId and principalId (Azure)",
        "  network: subnets (name=id,...), and securityGroup on AWS",
        "An environment with nothing applied says so. Keys are the same on every cloud; --format json for scripts."})
final class OutputCommand implements Callable<Integer> {
    /** The JSON document's version: a 1.x only adds fields. */
    static final String FORMAT_VERSION = "1.0";

    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;
    @Mixin CloudOptions cloud;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (default) or json.")
    Format format;

    /** One resource and its outputs (the driver's; the cloud id is the resource's own). */
    private record Resource(ObservedResource observed, Map<String, String> outputs) {
    }

    @Override
    public Integer call() {
        Services s = root.services;
        if (format == Format.markdown) throw new MlctlException("output prints text or json");
        ConfigRepo repo = s.loadConfig(config.paths);
        List<Environment> envs = repo.select(config.env);
        JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode doc = mapper.createObjectNode().put("formatVersion", FORMAT_VERSION);
        ArrayNode all = doc.putArray("environments");
        for (int i = 0; i < envs.size(); i++) {
            Environment env = envs.get(i);
            List<Resource> resources = new ArrayList<>();
            try (Driver driver = s.driver(env, cloud.sandbox)) {
                Inventory inv = Commands.engine(s, driver, cloud).inventory(env);
                // Duplicates are left-overs the next apply deletes: not what a person connects to.
                for (ObservedResource r : inv.resources().values()) resources.add(new Resource(r, driver.outputs(env, r)));
            }
            if (format == Format.json) {
                ObjectNode e = all.addObject().put("name", env.name()).put("provider", env.provider().id()).put("region", env.region());
                ArrayNode rs = e.putArray("resources");
                for (Resource r : resources) {
                    ObjectNode o = rs.addObject().put("address", r.observed().address().toString()).put("type", r.observed().address().type().id())
                        .put("name", r.observed().address().name()).put("id", r.observed().cloudId());
                    ObjectNode outputs = o.putObject("outputs");
                    r.outputs().forEach(outputs::put);
                }
            } else {
                text(s, env, resources, i > 0);
            }
        }
        if (format == Format.json) s.out().println(mapper.writeValueAsString(doc));
        s.out().flush();
        return 0;
    }

    private static void text(Services s, Environment env, List<Resource> resources, boolean after) {
        if (after) s.out().println();
        String where = env.name() + " (" + env.provider().id() + ", " + env.region() + ")";
        if (resources.isEmpty()) {
            s.out().println(where + ": nothing applied yet (the environment owns no resources)");
            return;
        }
        s.out().println(where + ": " + resources.size() + (resources.size() == 1 ? " resource" : " resources"));
        for (Resource r : resources) {
            s.out().println();
            s.out().println(r.observed().address());
            Map<String, String> lines = new LinkedHashMap<>();
            lines.put("id", r.observed().cloudId());
            lines.putAll(r.outputs());
            int width = lines.keySet().stream().mapToInt(String::length).max().orElse(0);
            // Plain values, not quoted: a credentials command or a URL is copied as it is.
            lines.forEach((k, v) -> s.out().println("  " + k + " ".repeat(width - k.length()) + " = " + v));
        }
    }
}
