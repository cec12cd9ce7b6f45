package io.mlctl.fake.azure;

import com.azure.resourcemanager.authorization.models.RoleAssignmentCreateParameters;
import com.azure.resourcemanager.msi.fluent.models.IdentityInner;
import com.azure.resourcemanager.msi.models.IdentityUpdate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Managed identities and role assignments as ARM serves them: a user-assigned identity's PUT answers at
 * once with the principal, client and tenant ids Entra ID gave it; a role assignment is an extension
 * resource at any scope (which must exist), named by a GUID, of a built-in role, for a principal the
 * directory knows, never the same principal, role and scope twice, and never changed once made. Role
 * assignments are listed by Resource Graph's {@code authorizationresources} table, not {@code resources}.
 */
public final class IdentityTypes {
    /** The built-in role definitions the fake knows, by GUID (the same in every cloud and subscription). */
    public static final Map<String, String> BUILT_IN_ROLES = Map.of(
        "acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader",
        "b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor",
        "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "Storage Blob Data Reader",
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe", "Storage Blob Data Contributor",
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner",
        "4abbcc35-e782-43d8-92c5-2d3f1bd2253f", "Azure Kubernetes Service Cluster User Role",
        "f6c7c914-8db3-469d-8ca1-694a8f32e121", "AzureML Data Scientist");
    static final String IDENTITIES = "Microsoft.ManagedIdentity/userAssignedIdentities";
    static final String ROLE_ASSIGNMENTS = "Microsoft.Authorization/roleAssignments";
    private static final Pattern GUID = Pattern.compile("[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}");
    private static final Pattern ROLE_DEFINITION = Pattern.compile(
        "(?i)(?:/subscriptions/([^/]+))?/providers/Microsoft\\.Authorization/roleDefinitions/([^/]+)");
    private static final Pattern IDENTITY_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}");
    private static final Set<String> PRINCIPAL_TYPES = Set.of("User", "Group", "ServicePrincipal", "ForeignGroup", "Device");

    private IdentityTypes() {
    }

    static List<ArmType> all() {
        return List.of(new UserAssignedIdentities(), new RoleAssignments());
    }

    /**
     * What ARM answers when a role assignment names a principal the directory does not know yet (an
     * identity made seconds ago, before Entra ID replicated it): for tests, with {@code arm.faults().fail(...)}.
     */
    public static ArmError principalNotFound(String principalId) {
        return new ArmError(400, "PrincipalNotFound", "Principal " + principalId.replace("-", "") + " does not exist in the directory "
            + ArmFake.TENANT + ". Check that you have the correct principal ID. If you are creating this principal and then immediately "
            + "assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType "
            + "property to a value, such as ServicePrincipal, and retry the assignment.");
    }

    /** A user-assigned managed identity: synchronous, its ids filled in by the service and kept for its life. */
    static final class UserAssignedIdentities implements ArmType {
        @Override
        public String type() {
            return IDENTITIES;
        }

        @Override
        public Class<?> model() {
            return IdentityInner.class;
        }

        /** A PATCH ({@code UserAssignedIdentities_Update}) takes the update model: tags, and nothing Entra ID fills in. */
        @Override
        public Class<?> patchModel() {
            return IdentityUpdate.class;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            if (!IDENTITY_NAME.matcher(id.name()).matches()) {
                throw ArmError.badRequest("InvalidResourceName", "Resource name " + id.name() + " is invalid. The name can contain only letters, "
                    + "numbers, underscores and hyphens, must start with a letter or number, and be 3 to 128 characters long.");
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            Map<String, Object> before = existing.map(ArmFake::properties).orElse(Map.of());
            // The ids Entra ID gave the identity stay for its life, whatever a later PUT says.
            p.put("tenantId", ArmFake.TENANT);
            p.put("principalId", String.valueOf(before.getOrDefault("principalId", UUID.randomUUID().toString())));
            p.put("clientId", String.valueOf(before.getOrDefault("clientId", UUID.randomUUID().toString())));
            return body;
        }
    }

    /** A role assignment: an extension resource at its scope, created and deleted synchronously, never updated. */
    static final class RoleAssignments implements ArmType {
        @Override
        public String type() {
            return ROLE_ASSIGNMENTS;
        }

        @Override
        public Class<?> model() {
            return RoleAssignmentCreateParameters.class;
        }

        @Override
        public boolean tracked() {
            return false;
        }

        @Override
        public Lro lro() {
            return Lro.SYNC;
        }

        @Override
        public Graph graph() {
            return Graph.AUTHORIZATION;
        }

        @Override
        public boolean patchable() {
            return false;
        }

        @Override
        public void checkPut(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            if (!GUID.matcher(id.name()).matches()) {
                throw ArmError.badRequest("InvalidRoleAssignmentId", "The role assignment ID '" + id.name() + "' is not valid. The role assignment ID "
                    + "must be a GUID.");
            }
            Map<String, Object> p = ArmFake.properties(body);
            String roleDefinition = String.valueOf(p.get("roleDefinitionId"));
            Matcher m = ROLE_DEFINITION.matcher(roleDefinition);
            if (!m.matches() || !BUILT_IN_ROLES.containsKey(m.group(2).toLowerCase(Locale.ROOT))
                || (m.group(1) != null && !m.group(1).equalsIgnoreCase(id.subscription()))) {
                throw ArmError.badRequest("RoleDefinitionDoesNotExist", "The specified role definition with ID '" + roleDefinition + "' does not exist.");
            }
            String principal = String.valueOf(p.get("principalId"));
            boolean known = arm.list(IDENTITIES).stream().anyMatch(i -> principal.equalsIgnoreCase(String.valueOf(ArmFake.properties(i).get("principalId"))));
            if (!known) throw principalNotFound(principal);
            if (p.get("principalType") != null && !PRINCIPAL_TYPES.contains(String.valueOf(p.get("principalType")))) {
                throw ArmError.badRequest("InvalidPrincipalType", "The principal type '" + p.get("principalType") + "' is not valid.");
            }
            if (existing.isPresent()) {
                Map<String, Object> was = ArmFake.properties(existing.get());
                if (!principal.equalsIgnoreCase(String.valueOf(was.get("principalId")))
                    || !roleGuid(roleDefinition).equals(roleGuid(String.valueOf(was.get("roleDefinitionId"))))) {
                    throw ArmError.badRequest("RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal ID, and scope are not allowed "
                        + "to be updated.");
                }
                return;
            }
            for (Map<String, Object> other : arm.list(ROLE_ASSIGNMENTS)) {
                ArmId o = ArmId.parse(String.valueOf(other.get("id")));
                Map<String, Object> op = ArmFake.properties(other);
                if (o.scope().equalsIgnoreCase(id.scope()) && principal.equalsIgnoreCase(String.valueOf(op.get("principalId")))
                    && roleGuid(roleDefinition).equals(roleGuid(String.valueOf(op.get("roleDefinitionId"))))) {
                    throw ArmError.conflict("RoleAssignmentExists", "The role assignment already exists. The ID of the existing role assignment is "
                        + o.name().replace("-", "") + ".");
                }
            }
        }

        @Override
        public Map<String, Object> store(ArmFake arm, ArmId id, Map<String, Object> body, Optional<Map<String, Object>> existing) {
            Map<String, Object> p = ArmFake.properties(body);
            p.put("scope", id.scope());
            p.putIfAbsent("principalType", "ServicePrincipal");
            String now = Instant.now().toString();
            p.put("createdOn", existing.map(e -> ArmFake.properties(e).get("createdOn")).orElse(now));
            p.put("updatedOn", now);
            p.put("createdBy", "00000000-0000-0000-0000-00000000c11e");
            p.put("updatedBy", "00000000-0000-0000-0000-00000000c11e");
            return body;
        }
    }

    /** The GUID at the end of a role definition id, lowercase. */
    static String roleGuid(String roleDefinitionId) {
        return roleDefinitionId.substring(roleDefinitionId.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
    }
}
