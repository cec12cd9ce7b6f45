package io.mlctl.cli;

import io.mlctl.catalog.Catalog;
import io.mlctl.plan.Plan;
import io.mlctl.util.BuildInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

@Command(name = "version", mixinStandardHelpOptions = true,
    description = {"Print the version, the commit it was built from, the plan format and the date of each built-in catalog "
        + "(machine types, regions, prices: a catalog older than a cloud's new machine type refuses it)."})
final class VersionCommand implements Callable<Integer> {
    @ParentCommand MlctlCommand root;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "text", description = "text (default) or json.")
    ReportFormat format;

    @Override
    public Integer call() {
        Services s = root.services;
        BuildInfo build = BuildInfo.current();
        if (format == ReportFormat.json) s.out().print(json(build, s.catalog()));
        else lines(build, s.catalog()).forEach(s.out()::println);
        s.out().flush();
        return 0;
    }

    /** What a person reads (also {@code mlctl --version}). */
    static List<String> lines(BuildInfo build, Catalog catalog) {
        List<String> out = new ArrayList<>();
        out.add("mlctl " + version(build) + " (commit " + build.commit() + ")");
        out.add("plan format " + Plan.FORMAT_VERSION);
        for (Catalog.Info i : catalog.infos()) out.add("catalog " + i.provider().id() + " " + i.date() + " (" + i.source() + ")");
        return out;
    }

    static String json(BuildInfo build, Catalog catalog) {
        JsonMapper mapper = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        ObjectNode doc = mapper.createObjectNode();
        doc.put("version", version(build));
        doc.put("commit", build.commit());
        doc.put("planFormatVersion", Plan.FORMAT_VERSION);
        ArrayNode catalogs = doc.putArray("catalogs");
        for (Catalog.Info i : catalog.infos()) {
            catalogs.addObject().put("provider", i.provider().id()).put("source", i.source()).put("date", i.date().toString());
        }
        return mapper.writeValueAsString(doc) + "\n";
    }

    /** A build without a manifest (classes run from target/classes) is a development build. */
    private static String version(BuildInfo build) {
        return build.version().equals(BuildInfo.UNKNOWN) ? "dev" : build.version();
    }
}
