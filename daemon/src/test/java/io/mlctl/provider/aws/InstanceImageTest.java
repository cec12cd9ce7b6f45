package io.mlctl.provider.aws;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlctl.provider.CreateRequest;
import io.mlctl.provider.ManagedResources;
import io.mlctl.provider.TagMarker;
import io.mlctl.spec.Environment;
import io.mlctl.spec.Provider;
import io.mlctl.spec.ResourceSpec;
import io.mlctl.testing.MotoServer;
import io.mlctl.testing.Specs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.services.ec2.model.Instance;

/** The instance image: Deep Learning AMI of the machine type's architecture and GPU, on its own root device. */
@ExtendWith(MotoServer.class)
class InstanceImageTest {
    static final String ENV = """
        apiVersion: mlctl.io/v1
        kind: Environment
        metadata: {name: ami}
        spec:
          provider: aws
          region: us-east-1
          resources:
            - {type: network, name: net, cidr: 10.0.0.0/16, subnets: [{name: a, cidr: 10.0.1.0/24, zone: us-east-1a}]}
            - {type: instance, name: arm, machineType: g5.xlarge, subnet: net/a}
        """;

    AwsClients clients;
    InstanceKind kind;
    Map<String, String> images = new java.util.HashMap<>();

    @BeforeEach
    void setUp(MotoServer.Instance moto) {
        clients = new AwsClients("us-east-1", AwsSettings.fromEnvironment(Map.of("AWS_ENDPOINT_URL", moto.endpoint().toString(),
            "AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test")));
        // Registered images belong to the test account, not to "amazon": the kind is told to look at our own.
        kind = new InstanceKind(Specs.CATALOG.of(Provider.AWS), List.of("self"));
        register("Deep Learning ARM64 AMI OSS Nvidia Driver GPU PyTorch 2.3 (Amazon Linux 2)", ARM64);
        register("Deep Learning ARM64 Base AMI (Amazon Linux 2023)", ARM64);
        register("Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.3 (Ubuntu 22.04)", X86_64);
        register("Deep Learning Base AMI (Amazon Linux 2023)", X86_64);
        register("Deep Learning AMI Neuron (Ubuntu 22.04)", X86_64);
    }

    // moto's RegisterImage keeps neither architecture nor root device; a copy keeps the source's architecture.
    static final String ARM64 = "ami-0e9271c829888680e"; // moto's Amazon Linux 2022 arm64
    static final String X86_64 = "ami-999844e0"; // moto's x86_64 Deep Learning AMI, root on /dev/xvda

    private void register(String name, String source) {
        images.put(name, clients.ec2.copyImage(b -> b.name(name).sourceImageId(source).sourceRegion("us-east-1")).imageId());
    }

    private String rootDeviceOf(String imageId) {
        return clients.ec2.describeImages(b -> b.imageIds(imageId)).images().get(0).rootDeviceName();
    }

    @AfterEach
    void tearDown() {
        clients.close();
    }

    @ParameterizedTest
    @CsvSource({"g5g.xlarge, arm64", "m6g.large, arm64", "c7gn.2xlarge, arm64", "t4g.small, arm64", "r6gd.large, arm64",
        "a1.medium, arm64", "g5.xlarge, x86_64", "g4dn.xlarge, x86_64", "p4d.24xlarge, x86_64", "m5.large, x86_64",
        "inf2.xlarge, x86_64", "m7i-flex.large, x86_64"})
    void architectureFollowsTheFamily(String type, String arch) {
        assertThat(InstanceKind.architecture(type)).isEqualTo(arch);
    }

    @ParameterizedTest
    @CsvSource({
        "g5g.xlarge, Deep Learning ARM64 AMI OSS Nvidia Driver GPU PyTorch 2.3 (Amazon Linux 2)",
        "m6g.large, Deep Learning ARM64 Base AMI (Amazon Linux 2023)",
        "p3.2xlarge, Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.3 (Ubuntu 22.04)",
        "m5.large, Deep Learning Base AMI (Amazon Linux 2023)"})
    void theImageMatchesArchitectureAndGpu(String type, String image) {
        InstanceKind.ImageChoice choice = kind.image(clients, type);
        assertThat(choice.name()).isEqualTo(image);
        assertThat(choice.imageId()).isEqualTo(images.get(image));
        assertThat(choice.rootDevice()).isEqualTo(rootDeviceOf(choice.imageId()));
    }

    @Test
    void noImageForTheArchitectureIsOneLine() {
        InstanceKind amazonOnly = new InstanceKind(Specs.CATALOG.of(Provider.AWS)); // moto's own DLAMIs are all x86_64
        assertThat(amazonOnly.image(clients, "m5.large").name()).startsWith("Deep Learning");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> amazonOnly.image(clients, "g5g.xlarge"))
            .hasMessage("no Amazon Deep Learning AMI for arm64 (machine type g5g.xlarge) found in us-east-1");
    }

    @Test
    void theRootVolumeIsMappedOnTheImagesOwnRootDevice() {
        Environment env = Specs.env(ENV);
        ManagedResources<AwsClients> kinds = new ManagedResources<>(TagMarker.INSTANCE, List.of(new NetworkKind(), kind));
        for (ResourceSpec r : env.resources()) kinds.create(clients, env, r, CreateRequest.first("token-" + r.address()));
        Instance i = clients.ec2.describeInstances(b -> b.filters(NetworkKind.owned(env))).reservations().get(0).instances().get(0);
        String gpuImage = images.get("Deep Learning OSS Nvidia Driver AMI GPU PyTorch 2.3 (Ubuntu 22.04)");
        assertThat(i.imageId()).isEqualTo(gpuImage);
        assertThat(rootDeviceOf(gpuImage)).isEqualTo("/dev/sda1");
        assertThat(i.blockDeviceMappings()).extracting(m -> m.deviceName()).contains("/dev/sda1").doesNotContain("/dev/xvda");
    }
}
