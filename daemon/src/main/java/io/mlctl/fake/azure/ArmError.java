package io.mlctl.fake.azure;

import java.util.LinkedHashMap;
import java.util.Map;

/** An answer in Resource Manager's error shape: {@code {"error": {"code": ..., "message": ...}}}. */
public final class ArmError extends RuntimeException {
    private final int status;
    private final String code;

    public ArmError(int status, String code, String message) {
        super(message);
        this.status = status;
        this.code = code;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, Object> body() {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", getMessage());
        return Map.of("error", error);
    }

    public static ArmError badRequest(String code, String message) {
        return new ArmError(400, code, message);
    }

    public static ArmError conflict(String code, String message) {
        return new ArmError(409, code, message);
    }

    public static ArmError notFound(String type, String name, String group) {
        return new ArmError(404, "ResourceNotFound", "The Resource '" + type + "/" + name + "' under resource group '" + group + "' was not found. "
            + "For more details please go to https://aka.ms/ARMResourceNotFoundFix");
    }

    /** What ARM answers when the caller's role lacks {@code action} at {@code scope}. */
    public static ArmError authorizationFailed(String action, String scope) {
        return new ArmError(403, "AuthorizationFailed", "The client '00000000-0000-0000-0000-00000000c11e' with object id "
            + "'00000000-0000-0000-0000-00000000c11e' does not have authorization to perform action '" + action + "' over scope '" + scope
            + "' or the scope is invalid. If access was recently granted, please refresh your credentials.");
    }

    /** What Compute answers when a VM family's regional cores quota is used up. */
    public static ArmError quota(String family, String location, int limit, int usage, int required) {
        return new ArmError(409, "OperationNotAllowed", "Operation could not be completed as it results in exceeding approved " + family
            + " Cores quota. Additional details - Deployment Model: Resource Manager, Location: " + location + ", Current Limit: " + limit
            + ", Current Usage: " + usage + ", Additional Required: " + required + ", (Minimum) New Limit Required: " + (usage + required)
            + ". Submit a request for Quota increase at https://aka.ms/ProdportalCRP.");
    }
}
