package io.mlctl.provider.azure;

import com.azure.core.exception.HttpResponseException;
import com.azure.core.management.exception.ManagementError;
import com.azure.core.management.exception.ManagementException;
import io.mlctl.provider.DriverException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resource Manager failures as one line each. Throttling, 5xx and operations that collide with one
 * in progress are retryable (the engine backs off; the SDK's pipeline already waited what
 * {@code Retry-After} said); {@code AuthorizationFailed} names the action and the scope; a quota names
 * the VM family and the region. Nothing else of ARM's error bodies reaches the user.
 */
public final class AzureErrors {
    private static final Pattern ACTION = Pattern.compile("perform action '([^']+)' over scope '([^']+)'");
    private static final Pattern QUOTA = Pattern.compile("approved ([A-Za-z0-9_ ]+?) (Cores|cores|vCPUs)? ?quota", Pattern.CASE_INSENSITIVE);
    private static final Pattern LOCATION = Pattern.compile("Location: ([A-Za-z0-9]+)");
    private static final Pattern NUMBERS = Pattern.compile("Current Limit: ([0-9]+), Current Usage: ([0-9]+), Additional Required: ([0-9]+)");
    private static final Set<String> NOT_FOUND = Set.of("ResourceNotFound", "ResourceGroupNotFound", "NotFound", "ParentResourceNotFound",
        "RoleAssignmentNotFound", "ContainerNotFound");
    private static final Set<String> RETRYABLE = Set.of("AnotherOperationInProgress", "RetryableError", "OperationNotAllowedWhileUpdating",
        "Conflict.OperationInProgress", "TooManyRequests", "InternalServerError", "ServiceUnavailable", "PrincipalNotFound");

    private AzureErrors() {
    }

    /** Runs one API call; {@code what} names it for a person ("create virtual network nlp-vnet"). */
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

    /** A GET that may find nothing: empty on 404, anything else translated. */
    public static <T> Optional<T> find(String what, Supplier<T> call) {
        try {
            return Optional.ofNullable(call.get());
        } catch (RuntimeException e) {
            if (notFound(e)) return Optional.empty();
            throw translate(what, e);
        }
    }

    /** Whether the failure says the thing is not there (404, or an ARM "not found" code). */
    public static boolean notFound(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof ManagementException m && m.getValue() != null && NOT_FOUND.contains(m.getValue().getCode())) return true;
        return t instanceof HttpResponseException h && h.getResponse() != null && h.getResponse().getStatusCode() == 404;
    }

    /** The ARM error code ("StorageAccountAlreadyTaken"), if the failure carries one. */
    public static Optional<String> code(Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof ManagementException m && m.getValue() != null) return Optional.ofNullable(m.getValue().getCode());
        return Optional.empty();
    }

    /** HTTP status of the failure, or 0 when none came back. */
    public static int status(Throwable e) {
        Throwable t = unwrap(e);
        return t instanceof HttpResponseException h && h.getResponse() != null ? h.getResponse().getStatusCode() : 0;
    }

    public static DriverException translate(String what, Throwable e) {
        Throwable t = unwrap(e);
        if (t instanceof DriverException d) return d;
        if (t instanceof com.azure.identity.CredentialUnavailableException) {
            return new DriverException(what + ": no Azure credentials found (set AZURE_CLIENT_ID and AZURE_TENANT_ID with a secret or "
                + "certificate, use a managed or workload identity, or run 'az login')", false, t);
        }
        if (t instanceof com.azure.core.exception.ClientAuthenticationException) {
            return new DriverException(what + ": Azure refused the credentials (" + oneLine(t.getMessage()) + "); check them or run 'az login' again", false, t);
        }
        if (t instanceof ManagementException m && m.getValue() != null) {
            ManagementError err = m.getValue();
            String code = err.getCode() == null ? "" : err.getCode();
            String message = oneLine(err.getMessage());
            int status = status(m);
            if (status == 401 || code.equals("InvalidAuthenticationToken") || code.equals("ExpiredAuthenticationToken")
                || code.equals("AuthenticationFailed") || code.equals("InvalidAuthenticationTokenTenant")) {
                return new DriverException(what + ": Azure refused the credentials (" + code + "); check them or run 'az login' again", false, t);
            }
            if (code.equals("AuthorizationFailed") || code.equals("LinkedAuthorizationFailed")) {
                Matcher a = ACTION.matcher(message);
                String detail = a.find() ? "not authorized to perform " + a.group(1) + " on " + a.group(2) : message;
                return new DriverException(what + ": " + detail + " (AuthorizationFailed); grant the credential a role that allows it", false, t);
            }
            Optional<String> quota = quota(code, message);
            if (quota.isPresent()) return new DriverException(what + ": " + quota.get(), false, t);
            boolean retryable = status == 429 || status >= 500 || RETRYABLE.contains(code);
            return new DriverException(what + ": " + message + " (" + code + ")", retryable, t);
        }
        if (t instanceof HttpResponseException h) {
            int status = status(h);
            return new DriverException(what + ": HTTP " + status + " " + oneLine(h.getMessage()), status == 429 || status >= 500, t);
        }
        if (t instanceof IOException || t instanceof UncheckedIOException || t instanceof java.util.concurrent.TimeoutException) {
            return new DriverException(what + ": " + oneLine(String.valueOf(t.getMessage())), true, t);
        }
        return new DriverException(what + ": " + oneLine(String.valueOf(t.getMessage())), false, t);
    }

    /**
     * "Operation could not be completed as it results in exceeding approved standardNCSv3Family Cores
     * quota. Additional details - ... Location: eastus, Current Limit: 0, Current Usage: 0, Additional Required: 6 ..."
     * becomes "quota exceeded: standardNCSv3Family cores in eastus (limit 0, in use 0, 6 more needed)".
     */
    static Optional<String> quota(String code, String message) {
        boolean quotaCode = code.equals("QuotaExceeded") || code.equals("OperationNotAllowed") || code.endsWith("QuotaExceeded");
        if (!quotaCode || !message.toLowerCase(java.util.Locale.ROOT).contains("quota")) return Optional.empty();
        Matcher q = QUOTA.matcher(message);
        String family = q.find() ? q.group(1).trim() + " cores" : "a quota";
        Matcher l = LOCATION.matcher(message);
        String where = l.find() ? " in " + l.group(1) : "";
        Matcher n = NUMBERS.matcher(message);
        String numbers = n.find() ? " (limit " + n.group(1) + ", in use " + n.group(2) + ", " + n.group(3) + " more needed)" : "";
        return Optional.of("quota exceeded: " + family + where + numbers + "; request a quota increase for the subscription or pick another size or region");
    }

    private static String oneLine(String s) {
        if (s == null) return "";
        String first = s.strip().split("\\R", 2)[0];
        // The SDK prefixes "Status code 403, " and appends the whole JSON body: keep only the message.
        first = first.replaceFirst("^Status code [0-9]+, ", "");
        int json = first.indexOf(", {\"error\"");
        if (json < 0) json = first.indexOf("{\"error\"");
        if (json > 0) first = first.substring(0, json);
        return first.strip();
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException
            || (t instanceof RuntimeException && t.getClass() == RuntimeException.class) || t instanceof UncheckedIOException
            || reactor.core.Exceptions.isMultiple(t)) && t.getCause() != null && t.getCause() != t) {
            if (t instanceof UncheckedIOException && t.getCause() instanceof IOException io) return io;
            t = t.getCause();
        }
        return t;
    }
}
