package io.mlctl.fake.azure;

import java.util.Map;
import java.util.Optional;

/**
 * One resource type the fake serves ({@code Microsoft.Network/virtualNetworks}). The fake does what
 * ARM does for every type (resource group and parent must exist, {@code api-version} given, body
 * checked against the SDK {@link #model()}, {@code location} required and fixed for tracked types,
 * PUT 201/200 with a long-running operation, PATCH as JSON merge patch, DELETE 202/204, ids, names,
 * {@code provisioningState}, Resource Graph rows); a type adds only its own rules.
 */
public interface ArmType {
    /**
     * How a write completes: at once ({@code provisioningState: Succeeded} in the answer), or through a
     * polled operation; {@code ACCEPTED} as storage accounts do: a create answers 202 with no body and
     * is polled, updates and deletes complete at once.
     */
    enum Lro { SYNC, ASYNC, ACCEPTED }

    /** Which Resource Graph table lists it ({@code NONE}: Graph does not, e.g. subnets, blob containers). */
    enum Graph { RESOURCES, AUTHORIZATION, NONE }

    /** {@code Microsoft.Network/virtualNetworks}, child types with their parents' ({@code .../virtualNetworks/subnets}). */
    String type();

    /** The SDK model a PUT body must fit ({@code VirtualNetworkInner.class}); null when {@link #checkPut} checks the shape itself. */
    Class<?> model();

    /** The SDK model a PATCH body must fit, when it differs from the PUT's ({@code StorageAccountUpdateParameters}). */
    default Class<?> patchModel() {
        return model();
    }

    /** A tracked resource has a {@code location} and {@code tags}; proxy resources (subnets, containers) have neither. */
    default boolean tracked() {
        return true;
    }

    default Lro lro() {
        return Lro.ASYNC;
    }

    /** The status of a PUT that created the resource: 201, or 200 where the API answers every PUT so (management policies). */
    default int createdStatus() {
        return 201;
    }

    default Graph graph() {
        return tracked() ? Graph.RESOURCES : Graph.NONE;
    }

    /** The Resource Graph row of a stored resource (a copy): what Graph adds that ARM's GET never shows (a VM's power state). */
    default Map<String, Object> graphRow(Map<String, Object> row) {
        return row;
    }

    /** Whether PATCH is allowed (JSON merge patch of the stored resource, then checked as a PUT would be). */
    default boolean patchable() {
        return true;
    }

    /** This type's own refusals of a PUT (a reference to nothing, a field that cannot change, a clash): throw {@link ArmError}. */
    default void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
    }

    /**
     * What is stored and answered for an accepted PUT: the body with this type's defaults and
     * read-only values; the fake then sets {@code id}, {@code name}, {@code type} and
     * {@code properties.provisioningState}.
     */
    default Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
        return body;
    }

    /** Refuses a DELETE (409 while something still uses it). */
    default void checkDelete(ArmFake arm, ArmId id, Map<String, Object> existing) {
    }

    /** Side effects once a write is accepted: {@code now} is what is stored, empty after a delete. */
    default void afterWrite(ArmFake arm, ArmId id, Optional<Map<String, Object>> now) {
    }

    /** {@code POST <id>/<action>} (listKeys, ...): the answer's body, or a 404 when the type has no such action. */
    default Object action(ArmFake arm, ArmId id, String action, Map<String, Object> body) {
        throw new ArmError(404, "NotFound", "No HTTP resource was found that matches the request URI: action '" + action + "' on " + type());
    }
}
