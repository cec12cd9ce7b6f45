package io.mlctl.provider.sandbox;

import io.mlctl.MlctlException;
import io.mlctl.provider.DriverException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Injected failures, read from {@code faults.json}: a list of
 * {@code {"op": "create", "target": "bucket.data", "error": "throttle|server|denied", "times": 2}}.
 * Each match fails once and counts down, so retries can be exercised end to end.
 */
final class SandboxFaults {
    private final Path file;
    private final ObjectMapper mapper;

    SandboxFaults(Path file, ObjectMapper mapper) {
        this.file = file;
        this.mapper = mapper;
    }

    synchronized void maybeFail(String op, String target) {
        if (!Files.exists(file)) return;
        ArrayNode faults;
        try {
            JsonNode n = mapper.readTree(Files.readString(file));
            if (!(n instanceof ArrayNode a)) throw new MlctlException("sandbox faults file " + file + " must hold a JSON array");
            faults = a;
        } catch (IOException e) {
            throw new MlctlException("cannot read sandbox faults file " + file + ": " + e.getMessage());
        }
        for (JsonNode f : faults) {
            if (!op.equals(f.path("op").asString()) || !target.equals(f.path("target").asString("*").replace("*", target))) continue;
            int times = f.path("times").asInt(1);
            if (times <= 0) continue;
            ((ObjectNode) f).put("times", times - 1);
            SandboxCloud.writeText(file, mapper.writeValueAsString(faults));
            String error = f.path("error").asString("server");
            throw switch (error) {
                case "throttle" -> new DriverException(op + " " + target + ": Throttling: Rate exceeded (injected)", true);
                case "denied" -> new DriverException(op + " " + target + ": AccessDenied: not authorized to perform " + op + " (injected)", false);
                default -> new DriverException(op + " " + target + ": 503 Service Unavailable (injected)", true);
            };
        }
    }
}
