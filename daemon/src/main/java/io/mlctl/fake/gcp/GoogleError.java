package io.mlctl.fake.gcp;

import java.util.Map;

/**
 * An error a fake answers with, shaped as Google's APIs answer it: an HTTP status with
 * {@code {"error": {"code", "message", "status", "errors": [{"reason"}], "details": [ErrorInfo]}}}
 * over REST, the matching gRPC status over gRPC.
 */
public final class GoogleError extends RuntimeException {
    private final int httpStatus;
    private final String status;
    private final String reason;
    private final Map<String, String> metadata;

    public GoogleError(int httpStatus, String status, String reason, String message, Map<String, String> metadata) {
        super(message);
        this.httpStatus = httpStatus;
        this.status = status;
        this.reason = reason;
        this.metadata = Map.copyOf(metadata);
    }

    public static GoogleError notFound(String what) {
        return new GoogleError(404, "NOT_FOUND", "notFound", "The resource '" + what + "' was not found", Map.of());
    }

    public static GoogleError alreadyExists(String what) {
        return new GoogleError(409, "ALREADY_EXISTS", "alreadyExists", "The resource '" + what + "' already exists", Map.of());
    }

    public static GoogleError invalid(String message) {
        return new GoogleError(400, "INVALID_ARGUMENT", "invalid", message, Map.of());
    }

    public static GoogleError failedPrecondition(String message) {
        return new GoogleError(400, "FAILED_PRECONDITION", "failedPrecondition", message, Map.of());
    }

    public static GoogleError conflict(String message) {
        return new GoogleError(409, "ABORTED", "conflict", message, Map.of());
    }

    /** What Google answers when the caller lacks {@code permission} on {@code resource}. */
    public static GoogleError permissionDenied(String permission, String resource) {
        return new GoogleError(403, "PERMISSION_DENIED", "IAM_PERMISSION_DENIED",
            "Permission '" + permission + "' denied on resource '" + resource + "' (or it may not exist).",
            Map.of("permission", permission, "resource", resource));
    }

    public int httpStatus() {
        return httpStatus;
    }

    public String status() {
        return status;
    }

    public String reason() {
        return reason;
    }

    public Map<String, String> metadata() {
        return metadata;
    }

    /** The REST body. */
    public String json() {
        StringBuilder details = new StringBuilder();
        if (!metadata.isEmpty()) {
            StringBuilder md = new StringBuilder();
            metadata.forEach((k, v) -> md.append(md.length() == 0 ? "" : ",").append(Json.quote(k)).append(':').append(Json.quote(v)));
            details.append(",\"details\":[{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":").append(Json.quote(reason))
                .append(",\"domain\":\"googleapis.com\",\"metadata\":{").append(md).append("}}]");
        }
        return "{\"error\":{\"code\":" + httpStatus + ",\"message\":" + Json.quote(getMessage()) + ",\"status\":" + Json.quote(status)
            + ",\"errors\":[{\"message\":" + Json.quote(getMessage()) + ",\"domain\":\"global\",\"reason\":" + Json.quote(reason) + "}]"
            + details + "}}";
    }

    /** The gRPC status. */
    public io.grpc.Status grpcStatus() {
        return io.grpc.Status.fromCode(io.grpc.Status.Code.valueOf(status)).withDescription(getMessage());
    }

    /** The gRPC error, with an {@code ErrorInfo} in its status details as Google sends it. */
    public io.grpc.StatusRuntimeException grpcException() {
        com.google.rpc.Status.Builder s = com.google.rpc.Status.newBuilder()
            .setCode(io.grpc.Status.Code.valueOf(status).value()).setMessage(getMessage());
        if (!metadata.isEmpty()) {
            s.addDetails(com.google.protobuf.Any.pack(com.google.rpc.ErrorInfo.newBuilder().setReason(reason)
                .setDomain("googleapis.com").putAllMetadata(metadata).build()));
        }
        return io.grpc.protobuf.StatusProto.toStatusRuntimeException(s.build());
    }
}
