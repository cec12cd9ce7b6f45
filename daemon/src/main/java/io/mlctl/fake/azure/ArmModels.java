package io.mlctl.fake.azure;

import com.azure.json.JsonProviders;
import com.azure.json.JsonReader;
import com.azure.json.JsonWriter;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;

/**
 * Request bodies checked against the Azure SDK's own model classes, as strictly as ARM checks them:
 * the body is read into the model ({@code fromJson}), its required properties checked
 * ({@code validate()}), and written back ({@code toJson}). A property the model does not know, or
 * one it never writes because it is read-only ({@code provisioningState}, {@code etag}, ...), is
 * missing from what comes back: the request is refused, naming it.
 */
public final class ArmModels {
    static final ObjectMapper JSON = new ObjectMapper();

    private ArmModels() {
    }

    public static Map<String, Object> parse(String json) {
        try {
            Object v = JSON.readValue(json, Object.class);
            if (!(v instanceof Map<?, ?>)) throw ArmError.badRequest("InvalidRequestContent", "The request content was invalid: not a JSON object.");
            return JSON.convertValue(v, new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw ArmError.badRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: " + String.valueOf(e.getMessage()).split("\\R", 2)[0]);
        }
    }

    public static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Refuses {@code body} (400) when {@code model} would not carry every property of it, or finds a required one missing. */
    public static void check(Class<?> model, Map<String, Object> body) {
        Object parsed;
        String back;
        try (JsonReader reader = JsonProviders.createReader(write(body))) {
            Method from = model.getMethod("fromJson", JsonReader.class);
            parsed = from.invoke(null, reader);
        } catch (InvocationTargetException e) {
            throw ArmError.badRequest("InvalidRequestContent", "The request content was invalid and could not be deserialized: "
                + e.getCause().getMessage());
        } catch (ReflectiveOperationException | IOException e) {
            throw new IllegalStateException("model " + model.getName() + " cannot read JSON", e);
        }
        try {
            Method validate = model.getMethod("validate");
            validate.invoke(parsed);
        } catch (InvocationTargetException e) {
            throw ArmError.badRequest("InvalidRequestContent", "The request content was invalid: " + e.getCause().getMessage());
        } catch (NoSuchMethodException e) {
            // models without validation
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        try {
            StringWriter out = new StringWriter();
            try (JsonWriter writer = JsonProviders.createWriter(out)) {
                model.getMethod("toJson", JsonWriter.class).invoke(parsed, writer);
                writer.flush();
            }
            back = out.toString();
        } catch (ReflectiveOperationException | IOException e) {
            throw new IllegalStateException("model " + model.getName() + " cannot write JSON", e);
        }
        Map<String, Object> roundTrip = parse(back);
        String extra = extra("", body, roundTrip, model.getSimpleName());
        if (extra != null) throw ArmError.badRequest("InvalidRequestContent", extra);
    }

    /** The first property of {@code sent} that {@code kept} lacks, as ARM words it; null when none. */
    @SuppressWarnings("unchecked")
    private static String extra(String path, Object sent, Object kept, String model) {
        if (sent instanceof Map<?, ?> s) {
            Map<String, Object> k = kept instanceof Map<?, ?> km ? (Map<String, Object>) km : Map.of();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) s).entrySet()) {
                if (e.getValue() == null) continue;
                String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                if (!k.containsKey(e.getKey())) {
                    return "The request content was invalid and could not be deserialized: 'Could not find member '" + e.getKey()
                        + "' on object of type '" + model + "'. Path '" + p + "'.' (an unknown or read-only property)";
                }
                String inner = extra(p, e.getValue(), k.get(e.getKey()), model);
                if (inner != null) return inner;
            }
        } else if (sent instanceof List<?> s && kept instanceof List<?> k) {
            for (int i = 0; i < s.size() && i < k.size(); i++) {
                String inner = extra(path + "[" + i + "]", s.get(i), k.get(i), model);
                if (inner != null) return inner;
            }
        }
        return null;
    }
}
