package io.mlctl.util;

import io.mlctl.spec.Values;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** SHA-256 of canonical JSON (maps sorted by {@link Values}). */
public final class Hashing {
    private static final ObjectMapper MAPPER = JsonMapper.builder().build();

    private Hashing() {
    }

    public static String sha256(Object value) {
        return sha256Text(MAPPER.writeValueAsString(Values.toJson(Values.freeze(value))));
    }

    public static String sha256Text(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
