package io.mlctl.testing;

import io.mlctl.catalog.Catalog;
import io.mlctl.schema.SchemaValidator;
import io.mlctl.spec.ConfigLoader;
import io.mlctl.spec.ConfigRepo;
import io.mlctl.spec.Environment;
import io.mlctl.spec.YamlLoader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Environments made from YAML text through the real loader. */
public final class Specs {
    public static final SchemaValidator SCHEMA = new SchemaValidator();
    public static final Catalog CATALOG = Catalog.loadDefault();

    private Specs() {
    }

    public static ConfigRepo load(Path... paths) {
        return new ConfigLoader(new YamlLoader(), SCHEMA, CATALOG, Path.of("").toAbsolutePath()).load(List.of(paths));
    }

    public static Environment env(String yaml) {
        try {
            Path dir = Files.createTempDirectory("mlctl-spec");
            Path f = Fixtures.write(dir, "env.yaml", yaml);
            Environment e = load(f).environments().get(0);
            Files.delete(f);
            Files.delete(dir);
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
