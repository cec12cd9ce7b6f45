package io.mlctl.spec;

import io.mlctl.catalog.Catalog;
import io.mlctl.schema.SchemaValidator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads a config repository (files and folders of YAML environment specs), validates every document
 * against the schema and the semantic rules, and reports every error in one {@link SpecException}.
 */
public final class ConfigLoader {
    private final YamlLoader yaml;
    private final SchemaValidator schema;
    private final Catalog catalog;
    private final SchemaDefaults defaults;
    private final Path base;

    public ConfigLoader(YamlLoader yaml, SchemaValidator schema, Catalog catalog, Path base) {
        this.yaml = yaml;
        this.schema = schema;
        this.catalog = catalog;
        this.defaults = new SchemaDefaults(schema.schemaTree());
        this.base = base.toAbsolutePath().normalize();
    }

    /** Documents of this kind are policies, validated against their own schema; every other one is an environment. */
    public static final String POLICY_KIND = "Policy";
    /** Examples that mlctl policy test checks the policies against. */
    public static final String POLICY_TEST_KIND = "PolicyTest";
    private io.mlctl.schema.SchemaValidator policyTestSchema;

    private io.mlctl.schema.SchemaValidator policyTestSchema() {
        if (policyTestSchema == null) {
            policyTestSchema = new io.mlctl.schema.SchemaValidator(io.mlctl.schema.SchemaValidator.POLICY_TEST_SCHEMA);
        }
        return policyTestSchema;
    }
    private io.mlctl.schema.SchemaValidator policySchema;

    private io.mlctl.schema.SchemaValidator policySchema() {
        if (policySchema == null) policySchema = new io.mlctl.schema.SchemaValidator(io.mlctl.schema.SchemaValidator.POLICY_SCHEMA);
        return policySchema;
    }

    /** The PATH {@code -}: one spec read from standard input, named {@value #STDIN_NAME} in errors. */
    public static final Path STDIN = Path.of("-");
    public static final String STDIN_NAME = "<stdin>";

    public ConfigRepo load(List<Path> paths) {
        return load(paths, null);
    }

    /** As {@link #load(List)}, reading the path {@link #STDIN} (at most once) from {@code stdin}. */
    public ConfigRepo load(List<Path> paths, java.io.Reader stdin) {
        List<SpecError> errors = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        if (paths.stream().filter(STDIN::equals).count() > 1) {
            throw new io.mlctl.MlctlException("- (the spec on standard input) can be given only once");
        }
        for (Path p : paths) {
            if (p.equals(STDIN)) {
                if (stdin == null) throw new io.mlctl.MlctlException("- (a spec on standard input) is not accepted here");
                files.add(p);
            } else if (!Files.exists(p)) {
                errors.add(new SpecError(SourcePosition.ofFile(display(p)), "no such file or directory"));
            } else if (Files.isDirectory(p)) {
                try {
                    files.addAll(specFiles(p));
                } catch (IOException e) {
                    errors.add(new SpecError(SourcePosition.ofFile(display(p)), "cannot list directory: " + e.getMessage()));
                }
            } else {
                files.add(p);
            }
        }
        List<Environment> envs = new ArrayList<>();
        List<YamlDocument> policies = new ArrayList<>();
        List<ConfigRepo.PolicyTest> tests = new ArrayList<>();
        Map<String, SourcePosition> names = new HashMap<>();
        for (Path f : files) {
            List<YamlDocument> docs;
            try {
                docs = f.equals(STDIN) ? yaml.load(stdin, STDIN_NAME) : yaml.load(f, display(f));
            } catch (SpecException e) {
                errors.addAll(e.errors());
                continue;
            }
            for (YamlDocument doc : docs) {
                if (doc.root() == null || doc.root().isNull()) continue;
                if (POLICY_KIND.equals(doc.root().path("kind").asString(""))) {
                    List<SpecError> policyErrors = policySchema().validate(doc);
                    errors.addAll(policyErrors);
                    if (policyErrors.isEmpty()) policies.add(doc);
                    continue;
                }
                if (POLICY_TEST_KIND.equals(doc.root().path("kind").asString(""))) {
                    List<SpecError> testErrors = policyTestSchema().validate(doc);
                    errors.addAll(testErrors);
                    if (!testErrors.isEmpty()) continue;
                    // The example environment is checked like any spec, but is not one of the repository's environments.
                    List<SpecError> envErrors = new ArrayList<>();
                    Environment example = environment(doc.embedded("/spec/environment"), envErrors);
                    errors.addAll(envErrors);
                    if (envErrors.isEmpty()) tests.add(new ConfigRepo.PolicyTest(doc.root().at("/metadata/name").asString(), example, doc));
                    continue;
                }
                List<SpecError> checkErrors = new ArrayList<>();
                Environment env = environment(doc, checkErrors);
                errors.addAll(checkErrors);
                if (env == null) continue;
                SourcePosition first = names.putIfAbsent(env.name(), doc.positionOf("/metadata/name"));
                if (first != null) {
                    errors.add(new SpecError(doc.positionOf("/metadata/name"),
                        "duplicate environment name '" + env.name() + "' (first defined at " + first + ")"));
                } else if (checkErrors.isEmpty()) {
                    envs.add(env);
                }
            }
        }
        if (!errors.isEmpty()) throw new SpecException(errors);
        return new ConfigRepo(envs, policies, tests);
    }

    /** An Environment document checked against the schema and the semantic rules; null when it fails the schema. */
    private Environment environment(YamlDocument doc, List<SpecError> errors) {
        List<SpecError> schemaErrors = schema.validate(doc);
        if (!schemaErrors.isEmpty()) {
            errors.addAll(schemaErrors);
            return null;
        }
        SpecChecker checker = new SpecChecker(doc, catalog, defaults);
        Environment env = checker.check();
        errors.addAll(checker.errors());
        return env;
    }

    /** The spec files in {@code folder} and below, sorted: .yaml and .yml, none in or named as a hidden entry. fmt reads the same. */
    public static List<Path> specFiles(Path folder) throws IOException {
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(Files::isRegularFile).filter(ConfigLoader::isSpecFile).filter(f -> !isHidden(folder, f)).sorted().toList();
        }
    }

    private static boolean isSpecFile(Path f) {
        String n = f.getFileName().toString();
        return n.endsWith(".yaml") || n.endsWith(".yml");
    }

    private static boolean isHidden(Path root, Path f) {
        for (Path part : root.relativize(f)) {
            if (part.toString().startsWith(".")) return true;
        }
        return false;
    }

    private String display(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        return abs.startsWith(base) ? base.relativize(abs).toString() : p.toString();
    }
}
