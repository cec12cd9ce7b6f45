package io.mlctl.provider.aws;

import io.mlctl.provider.DriverException;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/** Turns SDK failures into one-line driver errors, marking what is worth retrying. */
final class AwsErrors {
    private static final Set<String> THROTTLING = Set.of("Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
        "TooManyRequestsException", "SlowDown", "RequestThrottled", "RequestThrottledException", "ProvisionedThroughputExceededException",
        "PriorRequestNotComplete", "ServiceUnavailable", "InternalError", "InternalFailure");
    private static final Set<String> DENIED = Set.of("AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
        "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure", "SignatureDoesNotMatch", "ExpiredToken");

    private AwsErrors() {
    }

    static <T> T call(String what, Supplier<T> call) {
        try {
            return call.get();
        } catch (SdkException e) {
            throw translate(what, e);
        }
    }

    private static final int SUB_CREATE_ATTEMPTS = 4;

    /**
     * A sub-resource create that takes no client token, the caller having looked already: sent once;
     * after a throttle, a 5xx or a lost answer, look again (the lost answer may have created it) and
     * only then send again. Retrying here rather than failing the step keeps a throttling storm from
     * restarting a whole step (a network, an identity) for each of its sub-resources.
     */
    static <T> T createLooking(java.util.function.Supplier<T> create, java.util.function.Supplier<Optional<T>> lookAgain) {
        for (int attempt = 1; ; attempt++) {
            try {
                return create.get();
            } catch (DriverException e) {
                if (!e.retryable() || attempt >= SUB_CREATE_ATTEMPTS) throw e;
                try {
                    Thread.sleep(100L << (attempt - 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                Optional<T> found = lookAgain.get();
                if (found.isPresent()) return found.get();
            }
        }
    }

    static void run(String what, Runnable call) {
        call(what, () -> {
            call.run();
            return null;
        });
    }

    static String code(SdkException e) {
        if (e instanceof AwsServiceException ase && ase.awsErrorDetails() != null && ase.awsErrorDetails().errorCode() != null) {
            return ase.awsErrorDetails().errorCode();
        }
        return "";
    }

    static DriverException translate(String what, SdkException e) {
        if (e instanceof AwsServiceException ase) {
            String code = code(e);
            String message = ase.awsErrorDetails() != null && ase.awsErrorDetails().errorMessage() != null
                ? ase.awsErrorDetails().errorMessage() : "";
            message = message.replaceAll("\\s+", " ").trim();
            if (DENIED.contains(code) || ase.statusCode() == 403) {
                return new DriverException("AWS refused " + what + ": " + (code.isEmpty() ? "403" : code)
                    + (message.isEmpty() ? "" : " (" + message + ")") + "; check the IAM permissions of the credentials in use", false, e);
            }
            boolean retryable = THROTTLING.contains(code) || ase.statusCode() == 429 || ase.statusCode() >= 500 || ase.isThrottlingException();
            return new DriverException(what + " failed: " + (code.isEmpty() ? "HTTP " + ase.statusCode() : code)
                + (message.isEmpty() ? "" : ": " + message), retryable, e);
        }
        if (e instanceof SdkClientException && e.getMessage() != null && e.getMessage().startsWith("Unable to load credentials")) {
            return new DriverException(what + " failed: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                + "use SSO, or run with an instance role)", false, e);
        }
        if (e instanceof SdkClientException) {
            return new DriverException(what + " failed: cannot reach AWS (" + firstLine(e.getMessage()) + ")", true, e);
        }
        return new DriverException(what + " failed: " + firstLine(e.getMessage()), false, e);
    }

    /** The credentials may not do this here (an SCP that denies a region, a region not enabled for the account). */
    static boolean denied(Throwable e) {
        return e instanceof AwsServiceException ase && (DENIED.contains(code(ase)) || ase.statusCode() == 403);
    }

    static boolean is(SdkException e, String... codes) {
        String c = code(e);
        for (String x : codes) if (x.equals(c)) return true;
        return false;
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
