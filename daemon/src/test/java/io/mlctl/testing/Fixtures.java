package io.mlctl.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locations of the repository's own files, and small spec-writing helpers. */
public final class Fixtures {
    private Fixtures() {
    }

    public static Path repoRoot() {
        String p = System.getProperty("mlctl.repoRoot");
        Path root = p != null ? Path.of(p) : Path.of("..");
        return root.toAbsolutePath().normalize();
    }

    public static Path examples() {
        return repoRoot().resolve("examples");
    }

    public static Path write(Path dir, String name, String text) {
        try {
            Path f = dir.resolve(name);
            Files.createDirectories(f.getParent());
            Files.writeString(f, text);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A small AWS environment: network, bucket, identity and an instance that uses them. */
    public static String smallEnv(String name) {
        return """
            apiVersion: mlctl.io/v1
            kind: Environment
            metadata:
              name: %s
            spec:
              provider: aws
              region: us-east-1
              resources:
                - type: network
                  name: net
                  cidr: 10.0.0.0/16
                  subnets:
                    - name: train
                      cidr: 10.0.1.0/24
                      zone: us-east-1a
                - type: bucket
                  name: %s-data
                  versioning: true
                - type: identity
                  name: trainer
                  grants:
                    - actions: [storage.read]
                      resource: bucket/%s-data
                - type: instance
                  name: gpu-1
                  machineType: g4dn.xlarge
                  subnet: net/train
                  identity: trainer
            """.formatted(name, name, name);
    }
}
