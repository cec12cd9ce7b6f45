package io.mlctl.util;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Takes credentials out of text before anyone sees it: the user and password of a URL
 * ({@code https://TOKEN@host}, {@code https://user:pass@host}, also percent-encoded inside another URL),
 * the values of query parameters that carry secrets ({@code ?access_token=…}, {@code private_token},
 * {@code sig}, …) and the credentials of an {@code Authorization:} header, wherever they appear in a log
 * line, error, status page or webhook payload. A user name is masked with the password: a token is often
 * given as the user name, and {@code ssh://git@host} loses nothing a reader needs. The scp form
 * {@code git@host:org/repo} carries no secret and stays as it is.
 */
public final class Redaction {
    public static final String MASK = "***";
    /**
     * scheme://userinfo@ — userinfo runs to the last @ before the host (a password may hold an unencoded @),
     * and holds none of / ? # or characters a URL cannot carry, so it never runs past the end of the URL
     * into the quotes or spaces around it.
     */
    private static final Pattern USERINFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^/?#\\s\"'<>\\\\{}|^`\\[\\]]+@");
    /** The same inside a percent-encoded URL (a redirect parameter): scheme%3A%2F%2Fuserinfo%40. */
    private static final Pattern ENCODED_USERINFO = Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*%3A%2F%2F)(?:(?!%2F|%3F|%23)[^/?#\\s&\"'<>])+%40");
    /** The value runs to the next parameter; one masked already stays as it is (with the text after it). */
    private static final Pattern SECRET_QUERY = Pattern.compile(
        "(?i)([?&;](?:access_token|private_token|refresh_token|id_token|session_token|token|auth|authorization|password|passwd|pwd|secret|"
            + "client_secret|api_key|apikey|key|sig|signature|x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|"
            + "x-goog-credential|code)=)(?:\\*\\*\\*|[^&#\\s\"']*)");
    private static final Pattern AUTHORIZATION = Pattern.compile("(?i)\\b(authorization\\s*[:=]\\s*(?:bearer|basic|token)\\s+)[^\\s\"',;]+");

    private Redaction() {
    }

    /** {@code text} with every credential a URL or an Authorization header can carry replaced by {@value #MASK}. */
    public static String text(String text) {
        if (text == null || text.isEmpty()) return text;
        String out = USERINFO.matcher(text).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK + "@"));
        out = ENCODED_USERINFO.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK + "%40"));
        out = SECRET_QUERY.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
        return AUTHORIZATION.matcher(out).replaceAll(m -> Matcher.quoteReplacement(m.group(1) + MASK));
    }
}
