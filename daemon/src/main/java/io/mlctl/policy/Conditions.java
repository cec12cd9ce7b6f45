package io.mlctl.policy;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Policy conditions in CEL, compiled once against the variables a policy sees and checked to be boolean. Values passed in
 * are plain maps and lists of strings, booleans, numbers; integers become CEL ints (Java longs).
 */
public final class Conditions {
    /** Variables of a resource-level policy. */
    public static final List<String> RESOURCE_VARIABLES = List.of("resource", "environment");
    /** Variables of an environment-level policy. */
    public static final List<String> ENVIRONMENT_VARIABLES = List.of("environment", "resources", "cost");

    private static final MapType OBJECT = MapType.create(SimpleType.STRING, SimpleType.DYN);
    /** A size written 1000 and one written 1000.0 compare as numbers do: spec values are ints or doubles as the author typed them. */
    private static final dev.cel.common.CelOptions OPTIONS = dev.cel.common.CelOptions.current().enableHeterogeneousNumericComparisons(true).build();
    private static final CelCompiler RESOURCE = compiler(RESOURCE_VARIABLES);
    private static final CelCompiler ENVIRONMENT = compiler(ENVIRONMENT_VARIABLES);
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().setOptions(OPTIONS).build();

    private Conditions() {
    }

    private static CelCompiler compiler(List<String> variables) {
        var b = CelCompilerFactory.standardCelCompilerBuilder().setOptions(OPTIONS).setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .setResultType(SimpleType.BOOL);
        for (String v : variables) b.addVar(v, v.equals("resources") ? ListType.create(OBJECT) : OBJECT);
        return b.build();
    }

    /** A compiled condition. */
    public record Compiled(CelRuntime.Program program) {
        /** True when compliant; an evaluation error is returned as its message (the caller fails closed). */
        public Result evaluate(Map<String, Object> variables) {
            return evaluateValues(celValues(variables));
        }

        /** As {@link #evaluate}, with every value already as {@link #celValues} makes it (converted once, evaluated many times). */
        Result evaluateValues(Map<String, Object> values) {
            try {
                // A resolver over the map, rather than the map: CEL copies a map it is given into one of its own on every call.
                Object out = program.eval((String name) -> Optional.ofNullable(values.get(name)));
                return out instanceof Boolean b ? new Result(b, Optional.empty()) : new Result(false, Optional.of("the condition gave " + out + ", not true or false"));
            } catch (CelEvaluationException e) {
                return new Result(false, Optional.of(oneLine(e.getMessage())));
            }
        }
    }

    public record Result(boolean compliant, Optional<String> error) {
    }

    /** A condition that does not compile: CEL's message, and where in the expression (1-based line and column). */
    public static final class CompileError extends Exception {
        public final int line;
        public final int column;

        CompileError(String message, int line, int column) {
            super(message);
            this.line = line;
            this.column = column;
        }
    }

    public static Compiled compile(String expression, boolean environmentLevel) throws CompileError {
        CelValidationResult r = (environmentLevel ? ENVIRONMENT : RESOURCE).compile(expression);
        if (r.hasError()) {
            CelIssue first = r.getErrors().get(0);
            String vars = String.join(", ", environmentLevel ? ENVIRONMENT_VARIABLES : RESOURCE_VARIABLES);
            String msg = oneLine(first.getMessage()).replace(" (in container '')", "");
            if (msg.contains("undeclared reference")) {
                msg += " (a " + (environmentLevel ? "policy without match.types" : "policy with match.types") + " sees " + vars + ")";
            }
            return throwAt(msg, first);
        }
        try {
            CelAbstractSyntaxTree ast = r.getAst();
            return new Compiled(RUNTIME.createProgram(ast));
        } catch (dev.cel.common.CelValidationException | CelEvaluationException e) {
            throw new CompileError(oneLine(e.getMessage()), 1, 1);
        }
    }

    private static Compiled throwAt(String message, CelIssue issue) throws CompileError {
        var loc = issue.getSourceLocation();
        int line = loc == null || loc.getLine() <= 0 ? 1 : loc.getLine();
        // CEL's columns are 0-based.
        int column = loc == null || loc.getColumn() < 0 ? 1 : loc.getColumn() + 1;
        throw new CompileError(message, line, column);
    }

    /**
     * Integers as longs (CEL's int), maps and lists copied through; everything else as it is. A map or list that holds
     * nothing to convert (a spec's attributes, which are frozen with longs already) is returned as it is, not copied.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> celValues(Map<String, Object> in) {
        return converts(in) ? (Map<String, Object>) cel(in) : in;
    }

    /** Whether {@link #cel} would change anything in {@code v}: a number of another type, or a map key that is not a string. */
    private static boolean converts(Object v) {
        if (io.mlctl.spec.Values.isPlain(v)) return false;
        if (v instanceof Integer || v instanceof Short || v instanceof Float || v instanceof java.math.BigDecimal
            || v instanceof java.math.BigInteger) return true;
        if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) if (!(e.getKey() instanceof String) || converts(e.getValue())) return true;
            return false;
        }
        if (v instanceof List<?> l) {
            for (Object x : l) if (converts(x)) return true;
        }
        return false;
    }

    private static Object cel(Object v) {
        if (v instanceof Integer i) return i.longValue();
        if (v instanceof Short s) return s.longValue();
        if (v instanceof Float f) return f.doubleValue();
        if (v instanceof java.math.BigDecimal d) return d.doubleValue();
        if (v instanceof java.math.BigInteger b) return b.longValue();
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), cel(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(cel(x)));
            return out;
        }
        return v;
    }

    private static String oneLine(String s) {
        if (s == null) return "";
        // CEL's messages carry a source excerpt with a caret on later lines: the first line says it.
        String first = s.strip().lines().findFirst().orElse("");
        return first.replaceFirst("^ERROR: <input>:\\d+:\\d+: ", "");
    }
}
