package io.mlctl.fake.gcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.grpc.GrpcTransportChannel;
import com.google.api.gax.rpc.AlreadyExistsException;
import com.google.api.gax.rpc.FixedTransportChannelProvider;
import com.google.api.gax.rpc.InvalidArgumentException;
import com.google.api.gax.rpc.NotFoundException;
import com.google.cloud.iam.admin.v1.IAMClient;
import com.google.cloud.iam.admin.v1.IAMSettings;
import com.google.iam.admin.v1.CreateRoleRequest;
import com.google.iam.admin.v1.CreateServiceAccountRequest;
import com.google.iam.admin.v1.GetRoleRequest;
import com.google.iam.admin.v1.ListServiceAccountsRequest;
import com.google.iam.admin.v1.PatchServiceAccountRequest;
import com.google.iam.admin.v1.Role;
import com.google.iam.admin.v1.ServiceAccount;
import com.google.protobuf.FieldMask;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** IAM admin over gRPC through the real Java client: service account and custom role rules as the API reference states them. */
class IamFakeTest {
    static final String P = "mlctl-test-project";
    GcpFakes fakes;
    ManagedChannel channel;
    IAMClient iam;

    @BeforeEach
    void start() throws Exception {
        fakes = GcpFakes.start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", fakes.grpcPort()).usePlaintext().build();
        iam = IAMClient.create(IAMSettings.newBuilder().setCredentialsProvider(NoCredentialsProvider.create())
            .setTransportChannelProvider(FixedTransportChannelProvider.create(GrpcTransportChannel.create(channel))).build());
    }

    @AfterEach
    void stop() {
        iam.close();
        channel.shutdownNow();
        fakes.close();
    }

    ServiceAccount create(String id, String description) {
        return iam.createServiceAccount(CreateServiceAccountRequest.newBuilder().setName("projects/" + P).setAccountId(id)
            .setServiceAccount(ServiceAccount.newBuilder().setDisplayName("d").setDescription(description)).build());
    }

    @Test
    void anAccountIsMadeReadListedAndPatched() throws Exception {
        ServiceAccount sa = create("trainer-one", "first");
        assertThat(sa.getEmail()).isEqualTo("trainer-one@" + P + ".iam.gserviceaccount.com");
        assertThat(sa.getUniqueId()).isNotEmpty();
        assertThat(iam.getServiceAccount("projects/" + P + "/serviceAccounts/" + sa.getEmail())).isEqualTo(sa);
        assertThat(iam.getServiceAccount("projects/-/serviceAccounts/" + sa.getUniqueId()).getEmail()).isEqualTo(sa.getEmail());
        ServiceAccount patched = iam.patchServiceAccount(PatchServiceAccountRequest.newBuilder()
            .setServiceAccount(sa.toBuilder().setDescription("second")).setUpdateMask(FieldMask.newBuilder().addPaths("description")).build());
        assertThat(patched.getDescription()).isEqualTo("second");
        assertThat(iam.listServiceAccountsCallable().call(ListServiceAccountsRequest.newBuilder().setName("projects/" + P).build()).getAccountsList())
            .extracting(ServiceAccount::getEmail).containsExactly(sa.getEmail());
        // Google-shaped REST reads.
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + fakes.httpPort()
            + "/v1/projects/" + P + "/serviceAccounts/" + sa.getEmail())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).contains("\"email\":\"" + sa.getEmail() + "\"").contains("\"description\":\"second\"");
        assertThat(fakes.iam().hasServiceAccount(sa.getEmail())).isTrue();
        iam.deleteServiceAccount("projects/" + P + "/serviceAccounts/" + sa.getEmail());
        assertThat(fakes.iam().hasServiceAccount(sa.getEmail())).isFalse();
        assertThatThrownBy(() -> iam.getServiceAccount("projects/" + P + "/serviceAccounts/" + sa.getEmail())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void accountIdsFollowTheDocumentedRules() {
        for (String bad : new String[] {"short", "a".repeat(31), "1starts-with-digit", "ends-with-dash-", "Has-Upper-Case", "under_score"}) {
            assertThatThrownBy(() -> create(bad, "")).as(bad).isInstanceOf(InvalidArgumentException.class);
        }
        assertThatThrownBy(() -> create("long-description", "x".repeat(257))).isInstanceOf(InvalidArgumentException.class);
        create("taken-account", "");
        assertThatThrownBy(() -> create("taken-account", "")).isInstanceOf(AlreadyExistsException.class);
    }

    @Test
    void aPatchNeedsAMaskOfPatchableFields() {
        ServiceAccount sa = create("patch-target", "x");
        assertThatThrownBy(() -> iam.patchServiceAccount(PatchServiceAccountRequest.newBuilder().setServiceAccount(sa).build()))
            .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> iam.patchServiceAccount(PatchServiceAccountRequest.newBuilder().setServiceAccount(sa.toBuilder().setEmail("x@y"))
            .setUpdateMask(FieldMask.newBuilder().addPaths("email")).build())).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void customRolesAreMadeWithKnownPermissionsAndGrantableOnlyWhileNotDeleted() {
        Role r = iam.createRole(CreateRoleRequest.newBuilder().setParent("projects/" + P).setRoleId("myDeleter")
            .setRole(Role.newBuilder().setTitle("t").addIncludedPermissions("storage.objects.delete")).build());
        assertThat(r.getName()).isEqualTo("projects/" + P + "/roles/myDeleter");
        assertThat(fakes.iam().grantableRole(r.getName())).isTrue();
        assertThat(iam.getRole(GetRoleRequest.newBuilder().setName(r.getName()).build()).getIncludedPermissionsList()).containsExactly("storage.objects.delete");
        assertThatThrownBy(() -> iam.createRole(CreateRoleRequest.newBuilder().setParent("projects/" + P).setRoleId("myDeleter")
            .setRole(Role.newBuilder().addIncludedPermissions("storage.objects.delete")).build())).isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> iam.createRole(CreateRoleRequest.newBuilder().setParent("projects/" + P).setRoleId("no-dashes")
            .setRole(Role.newBuilder().addIncludedPermissions("storage.objects.delete")).build())).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> iam.createRole(CreateRoleRequest.newBuilder().setParent("projects/" + P).setRoleId("noPerms")
            .setRole(Role.newBuilder()).build())).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> iam.createRole(CreateRoleRequest.newBuilder().setParent("projects/" + P).setRoleId("badPerm")
            .setRole(Role.newBuilder().addIncludedPermissions("delete everything")).build())).isInstanceOf(InvalidArgumentException.class);
        iam.deleteRole(com.google.iam.admin.v1.DeleteRoleRequest.newBuilder().setName(r.getName()).build());
        assertThat(fakes.iam().grantableRole(r.getName())).isFalse();
        assertThatThrownBy(() -> iam.getRole(GetRoleRequest.newBuilder().setName("roles/not.a.role").build())).isInstanceOf(NotFoundException.class);
    }
}
