package io.mlctl.cost.update;

import io.mlctl.util.Redaction;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * GET over the JDK's HTTP client for the price sources. Errors name the host and path only, never the
 * query or the headers (GCP's API key travels in a header), so nothing secret reaches a message or a log.
 */
final class PriceHttp {
    private final HttpClient client;
    private final Duration timeout;

    PriceHttp(boolean followRedirects, Duration timeout) {
        // Redirects only where no credential is sent: a redirect would carry the headers to another host.
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
            .followRedirects(followRedirects ? HttpClient.Redirect.NORMAL : HttpClient.Redirect.NEVER).build();
        this.timeout = timeout;
    }

    /** The body of a 200 answer as a stream (AWS's offer files are hundreds of MB: never held in memory). */
    InputStream open(String source, URI uri, Map<String, String> headers) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout).header("Accept", "application/json").GET();
        headers.forEach(b::header);
        HttpResponse<InputStream> r;
        try {
            r = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new PriceSourceException(source, "cannot reach " + where(uri) + " (offline?): " + reason(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PriceSourceException(source, "interrupted while reading " + where(uri), e);
        }
        if (r.statusCode() != 200) {
            String body;
            try (InputStream in = r.body()) {
                body = new String(in.readNBytes(65_536), StandardCharsets.UTF_8);
            } catch (IOException e) {
                body = "";
            }
            // Mask what was sent (an API key an error echoes) in the whole body first: cut first, a key split at the cut would show.
            for (String v : headers.values()) {
                if (v.length() >= 8) body = body.replace(v, "***").replace(v.startsWith("Bearer ") ? v.substring(7) : v, "***");
            }
            if (body.length() > 300) body = body.substring(0, 300);
            throw new PriceSourceException(source, where(uri) + " answered HTTP " + r.statusCode()
                + (body.isBlank() ? "" : ": " + Redaction.text(PriceSourceException.oneLine(body))));
        }
        return r.body();
    }

    String text(String source, URI uri, Map<String, String> headers) {
        try (InputStream in = open(source, uri, headers)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PriceSourceException(source, "reading " + where(uri) + " failed: " + reason(e), e);
        }
    }

    /** Scheme, host, port and path: the query may hold filters and page tokens, and is left out. */
    static String where(URI uri) {
        return uri.getScheme() + "://" + uri.getAuthority() + (uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    static String reason(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + " " + Redaction.text(m);
    }
}
