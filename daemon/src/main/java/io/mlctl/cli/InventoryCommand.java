package io.mlctl.cli;

import io.mlctl.MlctlException;
import io.mlctl.inventory.Inventory;
import io.mlctl.inventory.ObservedResource;
import io.mlctl.provider.Driver;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Values;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

@Command(name = "inventory", mixinStandardHelpOptions = true,
    description = "List what the environment owns in the cloud: address, cloud id, and the attributes the plan compares.")
final class InventoryCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;
    @Mixin ConfigOptions config;
    @Mixin CloudOptions cloud;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (default) or json.")
    Format format;

    @Override
    public Integer call() {
        Services s = root.services;
        if (format == Format.markdown) throw new MlctlException("inventory prints text or json");
        ConfigRepo repo = s.loadConfig(config.paths);
        List<Environment> envs = repo.select(config.env);
        JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ArrayNode all = mapper.createArrayNode();
        for (Environment env : envs) {
            Inventory inv;
            try (Driver driver = s.driver(env, cloud.sandbox)) {
                inv = Commands.engine(s, driver, cloud).inventory(env);
            }
            if (format == Format.json) {
                ObjectNode e = all.addObject();
                e.put("environment", env.name()).put("provider", env.provider().id()).put("region", env.region());
                ArrayNode rs = e.putArray("resources");
                for (ObservedResource r : inv.resources().values()) rs.add(json(mapper, r, false));
                for (ObservedResource r : inv.duplicates()) rs.add(json(mapper, r, true));
            } else {
                s.out().println(env.name() + " (" + env.provider().id() + ", " + env.region() + "): " + inv.size() + " owned resources");
                for (ObservedResource r : inv.resources().values()) {
                    s.out().println("  " + r.address() + "  " + r.cloudId());
                    r.attributes().forEach((k, v) -> s.out().println("      " + k + " = " + Values.render(v)));
                }
                for (ObservedResource r : inv.duplicates()) s.out().println("  " + r.address() + "  " + r.cloudId() + "  (duplicate: the next apply deletes it)");
            }
        }
        if (format == Format.json) s.out().println(mapper.writeValueAsString(envs.size() == 1 ? all.get(0) : all));
        s.out().flush();
        return 0;
    }

    private static ObjectNode json(JsonMapper mapper, ObservedResource r, boolean duplicate) {
        ObjectNode o = mapper.createObjectNode();
        o.put("address", r.address().toString()).put("cloudId", r.cloudId());
        o.set("attributes", Values.toJson(r.attributes()));
        o.set("tags", Values.toJson(r.tags()));
        if (duplicate) o.put("duplicate", true);
        return o;
    }
}
