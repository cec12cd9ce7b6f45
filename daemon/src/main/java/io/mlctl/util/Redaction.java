package io.mlctl.util;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes credentials out of text before anyone sees it: the user and password of a URL
 * ({@code https://TOKEN@host}, {@code https://user:pass@host}) and the values of query parameters
 * that carry secrets ({@code ?access_token=…}, {@code private_token}, {@code sig}, …), wherever a URL
 * appears in a log line, error, status page or webhook payload.
 */
public final class Redaction {
    public static final String MASK = "***";
    /** scheme://userinfo@ — userinfo is anything up to the first @ before the host, without / ? # or whitespace. */
    private static final Pattern USERINFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^/?#\\s@]+@");
    private static final Pattern SECRET_QUERY = Pattern.compile(
        "(?i)([?&;](?:access_token|private_token|token|auth|authorization|password|passwd|pwd|secret|client_secret|api_key|apikey|key|sig|signature|"
            + "x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential|code)=)[^&#\\s\"']*");

    private Redaction() {
    }

    /** {@code text} with every credential a URL can carry replaced by {@value #MASK}. */
    public static String text(String text) {
        if (text == null || text.isEmpty()) return text;
        String out = USERINFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK + "@"));
        return SECRET_QUERY.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
    }
}
