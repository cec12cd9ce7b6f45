package io.mlctl.policy;

import io.mlctl.catalog.Catalog;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceType;
import io.mlctl.spec.SourcePosition;
import io.mlctl.spec.SpecError;
import io.mlctl.spec.SpecException;
import io.mlctl.spec.YamlDocument;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;

/** Compiles the policy documents of a config repository (already valid against their schema) into a {@link PolicySet}. */
public final class Policies {
    private Policies() {
    }

    /** Every condition compiled; all problems at once, each at its {@code file:line:col}. */
    public static PolicySet compile(List<YamlDocument> docs, Catalog catalog) {
        List<SpecError> errors = new ArrayList<>();
        List<Policy> out = new ArrayList<>();
        Map<String, SourcePosition> names = new HashMap<>();
        for (YamlDocument doc : docs) {
            JsonNode root = doc.root();
            String name = root.at("/metadata/name").asString();
            SourcePosition first = names.putIfAbsent(name, doc.positionOf("/metadata/name"));
            if (first != null) {
                errors.add(new SpecError(doc.positionOf("/metadata/name"), "duplicate policy name '" + name + "' (first defined at " + first + ")"));
                continue;
            }
            JsonNode spec = root.get("spec");
            Policy.Match match = match(spec.path("match"));
            String condition = spec.get("condition").asString();
            Conditions.Compiled program;
            try {
                program = Conditions.compile(condition, match.types().isEmpty());
            } catch (Conditions.CompileError e) {
                errors.add(new SpecError(at(doc.textPositionOf("/spec/condition"), e), "policy " + name + ": the condition does not compile: "
                    + e.getMessage()));
                continue;
            }
            Policy.Enforcement enforcement = "warn".equals(spec.path("enforcement").asString("deny")) ? Policy.Enforcement.WARN : Policy.Enforcement.DENY;
            out.add(new Policy(name, enforcement, match, condition, spec.get("message").asString(), program, doc.positionOf("")));
        }
        if (!errors.isEmpty()) throw new SpecException(errors);
        return new PolicySet(out, catalog);
    }

    /** Where in the file the compiler's line and column fall: exact for a condition on one line (plain or quoted). */
    private static SourcePosition at(SourcePosition condition, Conditions.CompileError e) {
        return e.line == 1 ? new SourcePosition(condition.file(), condition.line(), condition.column() + e.column - 1) : condition;
    }

    private static Policy.Match match(JsonNode m) {
        Set<ResourceType> types = new LinkedHashSet<>();
        m.path("types").forEach(t -> types.add(ResourceType.of(t.asString()).orElseThrow()));
        Set<Provider> providers = new LinkedHashSet<>();
        m.path("providers").forEach(p -> providers.add(Provider.of(p.asString())));
        Map<String, String> labels = new LinkedHashMap<>();
        m.path("labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asString()));
        Set<String> environments = new LinkedHashSet<>();
        m.path("environments").forEach(e -> environments.add(e.asString()));
        return new Policy.Match(types, providers, labels, environments);
    }
}
