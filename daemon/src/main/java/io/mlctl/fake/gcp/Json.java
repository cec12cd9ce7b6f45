package io.mlctl.fake.gcp;

import com.google.api.client.json.GenericJson;
import com.google.api.client.json.gson.GsonFactory;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.util.Collection;
import java.util.Map;

/**
 * Strict reading and faithful writing of Google's JSON. Request bodies are parsed with the vendor's
 * own types: protobuf messages with {@code JsonFormat.parser()} (strict: an unknown field is an
 * error), the Storage JSON API's generated model with its unknown keys refused; either way a field
 * the real API does not have is answered 400, as Google answers it.
 */
public final class Json {
    private Json() {
    }

    public static <B extends Message.Builder> B parse(String body, B builder) {
        try {
            JsonFormat.parser().merge(body == null || body.isBlank() ? "{}" : body, builder);
            return builder;
        } catch (InvalidProtocolBufferException e) {
            throw GoogleError.invalid("Invalid JSON payload received. " + e.getMessage());
        }
    }

    /** A message as Google's REST APIs write it (enums as numbers when the client asked for {@code enum-encoding=int}). */
    public static String print(com.google.protobuf.MessageOrBuilder m, boolean enumsAsInts) {
        try {
            JsonFormat.Printer p = JsonFormat.printer().omittingInsignificantWhitespace();
            return (enumsAsInts ? p.printingEnumsAsInts() : p).print(m);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses into a generated Storage model class; any key the model does not know is refused. */
    public static <T extends GenericJson> T parseModel(String body, Class<T> type) {
        try {
            T value = GsonFactory.getDefaultInstance().fromString(body == null || body.isBlank() ? "{}" : body, type);
            refuseUnknown(type.getSimpleName(), value);
            return value;
        } catch (IOException | IllegalArgumentException e) {
            throw GoogleError.invalid("Invalid JSON payload received. " + e.getMessage());
        }
    }

    private static void refuseUnknown(String where, Object value) {
        if (value instanceof GenericJson g) {
            if (!g.getUnknownKeys().isEmpty()) {
                throw GoogleError.invalid("Invalid JSON payload received. Unknown name \"" + g.getUnknownKeys().keySet().iterator().next()
                    + "\" at '" + where + "': Cannot find field.");
            }
            for (Map.Entry<String, Object> e : g.entrySet()) refuseUnknown(where + "." + e.getKey(), e.getValue());
        } else if (value instanceof Collection<?> c) {
            for (Object o : c) refuseUnknown(where, o);
        }
    }

    public static String printModel(GenericJson value) {
        try {
            return GsonFactory.getDefaultInstance().toString(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
