package io.mlctl.provider.gcp;

import com.google.api.gax.rpc.ApiException;
import com.google.api.gax.rpc.ErrorDetails;
import com.google.api.gax.rpc.StatusCode;
import com.google.cloud.BaseServiceException;
import io.mlctl.provider.DriverException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Google API failures as one line each. Throttling, unavailability and timeouts are retryable (the
 * engine backs off); a missing permission names the permission and the resource; a quota names the
 * quota and the region; nothing else of Google's multi-line error bodies reaches the user.
 */
public final class GcpErrors {
    private static final Set<StatusCode.Code> RETRYABLE = Set.of(StatusCode.Code.UNAVAILABLE, StatusCode.Code.DEADLINE_EXCEEDED,
        StatusCode.Code.RESOURCE_EXHAUSTED, StatusCode.Code.ABORTED, StatusCode.Code.INTERNAL, StatusCode.Code.UNKNOWN);
    private static final Pattern PERMISSION = Pattern.compile("(?:Permission|permission)\\s+'?([a-z]+\\.[A-Za-z]+\\.[A-Za-z.]+)'?"
        + "|Required '([a-z]+\\.[A-Za-z]+\\.[A-Za-z.]+)' permission");
    private static final Pattern QUOTA = Pattern.compile("Quota '([A-Z0-9_]+)' exceeded\\.\\s*Limit: ([0-9.]+)(?: in region ([a-z0-9-]+))?");

    private GcpErrors() {
    }

    /** Runs one API call; {@code what} names it for a person ("compute.networks.insert vision-gcp-net"). */
    public static <T> T call(String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (RuntimeException e) {
            throw translate(what, e);
        }
    }

    public static void run(String what, Runnable call) {
        call(what, () -> {
            call.run();
            return null;
        });
    }

    /** Waits on a long-running operation's future and translates what it failed with. */
    public static <T> T await(String what, java.util.concurrent.Future<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DriverException("interrupted while waiting for " + what, true, e);
        } catch (ExecutionException e) {
            throw translate(what, e.getCause() == null ? e : e.getCause());
        }
    }

    /** Whether the failure says the thing is not there (404 / NOT_FOUND). */
    public static boolean notFound(Throwable e) {
        Throwable t = google(unwrap(e));
        if (t instanceof ApiException a) return a.getStatusCode().getCode() == StatusCode.Code.NOT_FOUND;
        if (t instanceof BaseServiceException b) return b.getCode() == 404;
        return false;
    }

    /** Whether the failure says the name is taken (409 / ALREADY_EXISTS). */
    public static boolean alreadyExists(Throwable e) {
        Throwable t = google(unwrap(e));
        // Over REST gax reads a 409 as ABORTED; a 409 that is not Google's "alreadyExists" (a stale etag) says ABORTED in its body.
        if (t instanceof ApiException a) return a.getStatusCode().getCode() == StatusCode.Code.ALREADY_EXISTS;
        if (t instanceof BaseServiceException b) return b.getCode() == 409;
        return false;
    }

    public static DriverException translate(String what, Throwable e) {
        Throwable t = google(unwrap(e));
        if (t instanceof DriverException d) return d;
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        Optional<String> quota = quota(message);
        if (quota.isPresent()) return new DriverException(what + ": " + quota.get(), false, t);
        if (t instanceof ApiException a) {
            StatusCode.Code code = a.getStatusCode().getCode();
            if (code == StatusCode.Code.PERMISSION_DENIED) return new DriverException(what + ": " + permission(a, message), false, t);
            if (code == StatusCode.Code.UNAUTHENTICATED) return credentials(what, t);
            boolean retry = RETRYABLE.contains(code) || a.isRetryable();
            return new DriverException(what + ": " + code + ": " + firstLine(message), retry, t);
        }
        if (t instanceof BaseServiceException b) {
            if (b.getCode() == 403) return new DriverException(what + ": " + permissionFromMessage(message), false, t);
            if (b.getCode() == 401) return credentials(what, t);
            boolean retry = b.isRetryable() || b.getCode() == 429 || b.getCode() >= 500 || b.getCode() == 0;
            return new DriverException(what + ": " + (b.getCode() > 0 ? "HTTP " + b.getCode() + ": " : "") + firstLine(message), retry, t);
        }
        if (isMissingCredentials(t)) return credentials(what, t);
        if (t instanceof java.io.IOException || t instanceof java.io.UncheckedIOException) {
            return new DriverException(what + ": " + firstLine(message), true, t);
        }
        return new DriverException(what + ": " + firstLine(message), false, t);
    }

    /** "Quota 'NVIDIA_V100_GPUS' exceeded. Limit: 0.0 in region us-central1." as one line naming both. */
    static Optional<String> quota(String message) {
        if (message == null) return Optional.empty();
        Matcher m = QUOTA.matcher(message);
        if (m.find()) {
            String limit = m.group(2).endsWith(".0") ? m.group(2).substring(0, m.group(2).length() - 2) : m.group(2);
            return Optional.of("quota " + m.group(1) + " exceeded" + (m.group(3) == null ? "" : " in region " + m.group(3))
                + " (limit " + limit + "); request more in the console under IAM & Admin > Quotas");
        }
        if (message.contains("QUOTA_EXCEEDED")) return Optional.of("quota exceeded: " + firstLine(message));
        return Optional.empty();
    }

    private static String permission(ApiException a, String message) {
        ErrorDetails details = a.getErrorDetails();
        if (details != null && details.getErrorInfo() != null) {
            String p = details.getErrorInfo().getMetadataMap().get("permission");
            String resource = details.getErrorInfo().getMetadataMap().get("resource");
            if (p != null) return "permission denied: the credentials lack " + p + (resource == null ? "" : " on " + resource);
        }
        return permissionFromMessage(message);
    }

    private static String permissionFromMessage(String message) {
        Matcher m = PERMISSION.matcher(message == null ? "" : message);
        if (m.find()) {
            String p = m.group(1) != null ? m.group(1) : m.group(2);
            Matcher r = Pattern.compile("(?:for|on resource) '?([a-z]+/[^' ]+)'?").matcher(message);
            return "permission denied: the credentials lack " + p + (r.find() ? " on " + r.group(1) : "");
        }
        return "permission denied: " + firstLine(message);
    }

    static boolean isMissingCredentials(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("default credentials were not found") || m.contains("Application Default Credentials"))) return true;
        }
        return false;
    }

    static DriverException credentials(String what, Throwable e) {
        if (isMissingCredentials(e)) {
            return new DriverException("no Google Cloud credentials found for " + what + ": run 'gcloud auth application-default login' "
                + "or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file", false, e);
        }
        return new DriverException(what + ": the Google Cloud credentials were refused: " + firstLine(e.getMessage()), false, e);
    }

    private static final Pattern JSON_MESSAGE = Pattern.compile("\"message\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern WRAPPERS = Pattern.compile("^(?:[a-z][\\w$]*(?:\\.[\\w$]+)+(?:Exception|Error): )+(?:[A-Z][A-Z_]+: )?");

    /**
     * The part of a client library's message a person should read: Google's own {@code "message"} from
     * an HTTP error body when the message carries one, without the wrapping exception class names
     * ({@code io.grpc.StatusRuntimeException: CODE: }), one line.
     */
    static String firstLine(String s) {
        if (s == null) return "";
        Matcher json = JSON_MESSAGE.matcher(s);
        String text = json.find() ? json.group(1).replace("\\\"", "\"").replace("\\n", " ") : s;
        String line = WRAPPERS.matcher(text.strip()).replaceFirst("");
        int nl = line.indexOf('\n');
        if (nl >= 0) line = line.substring(0, nl).strip();
        return line.length() > 300 ? line.substring(0, 300) + "…" : line;
    }

    /**
     * The failure as Google said it. gax's REST transport builds its exception from the HTTP status
     * alone (a 409 ALREADY_EXISTS reads as ABORTED, a 400 FAILED_PRECONDITION as INVALID_ARGUMENT, the
     * message is the reason phrase, and the details are lost); Google's error body is only in the
     * cause. Rebuilt from that body: its {@code status} (or, for Compute, which sends none, its first
     * {@code errors[].reason}), its {@code message}, and its {@code ErrorInfo} details.
     */
    public static Throwable google(Throwable e) {
        if (!(e instanceof ApiException a)) return e;
        for (Throwable t = a.getCause(); t != null; t = t.getCause()) {
            if (!(t instanceof com.google.api.client.http.HttpResponseException h) || h.getContent() == null) continue;
            try {
                com.google.gson.JsonObject error = com.google.gson.JsonParser.parseString(h.getContent()).getAsJsonObject().getAsJsonObject("error");
                if (error == null || !error.has("message")) return e;
                StatusCode.Code code = a.getStatusCode().getCode();
                String reason = error.has("errors") && error.getAsJsonArray("errors").size() > 0
                    && error.getAsJsonArray("errors").get(0).getAsJsonObject().has("reason")
                    ? error.getAsJsonArray("errors").get(0).getAsJsonObject().get("reason").getAsString() : "";
                if (error.has("status")) {
                    try {
                        code = StatusCode.Code.valueOf(error.get("status").getAsString());
                    } catch (IllegalArgumentException unknown) {
                        // keep the one the HTTP status gave
                    }
                } else if (REASONS.containsKey(reason)) {
                    code = REASONS.get(reason);
                }
                ErrorDetails details = null;
                if (error.has("details")) {
                    java.util.List<com.google.protobuf.Any> any = new java.util.ArrayList<>();
                    for (com.google.gson.JsonElement d : error.getAsJsonArray("details")) {
                        com.google.gson.JsonObject o = d.getAsJsonObject();
                        if (!o.has("@type") || !o.get("@type").getAsString().endsWith("google.rpc.ErrorInfo")) continue;
                        com.google.rpc.ErrorInfo.Builder info = com.google.rpc.ErrorInfo.newBuilder();
                        if (o.has("reason")) info.setReason(o.get("reason").getAsString());
                        if (o.has("metadata")) o.getAsJsonObject("metadata").entrySet().forEach(m -> info.putMetadata(m.getKey(), m.getValue().getAsString()));
                        any.add(com.google.protobuf.Any.pack(info.build()));
                    }
                    if (!any.isEmpty()) details = ErrorDetails.builder().setRawErrorMessages(any).build();
                }
                return com.google.api.gax.rpc.ApiExceptionFactory.createException(new RuntimeException(error.get("message").getAsString(), a),
                    com.google.api.gax.httpjson.HttpJsonStatusCode.of(code), a.isRetryable(), details);
            } catch (RuntimeException notJson) {
                return e;
            }
        }
        return e;
    }

    /** Compute's error bodies carry no status, only reasons. */
    private static final java.util.Map<String, StatusCode.Code> REASONS = java.util.Map.of(
        "alreadyExists", StatusCode.Code.ALREADY_EXISTS, "notFound", StatusCode.Code.NOT_FOUND,
        "conditionNotMet", StatusCode.Code.FAILED_PRECONDITION, "resourceNotReady", StatusCode.Code.UNAVAILABLE,
        "rateLimitExceeded", StatusCode.Code.RESOURCE_EXHAUSTED, "forbidden", StatusCode.Code.PERMISSION_DENIED,
        "resourceInUseByAnotherResource", StatusCode.Code.FAILED_PRECONDITION);

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException
            || (t instanceof RuntimeException && !(t instanceof ApiException) && !(t instanceof BaseServiceException)
                && !(t instanceof DriverException) && t.getCause() instanceof ApiException)) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
