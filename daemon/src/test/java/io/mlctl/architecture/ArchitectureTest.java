package io.mlctl.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine knows no cloud: adding a provider is a new package under {@code io.mlctl.provider}
 * plus one registration line in the CLI, and these rules keep it so.
 */
class ArchitectureTest {
    static final String[] ENGINE = {"io.mlctl.spec..", "io.mlctl.schema..", "io.mlctl.graph..", "io.mlctl.inventory..",
        "io.mlctl.plan..", "io.mlctl.planner..", "io.mlctl.apply..", "io.mlctl.engine..", "io.mlctl.gitops.."};
    static final String[] CLOUDS = {"io.mlctl.provider.aws..", "io.mlctl.provider.sandbox..", "io.mlctl.provider.gcp..",
        "io.mlctl.provider.azure..", "software.amazon..", "com.google.cloud..", "com.azure.."};

    static JavaClasses classes;

    @BeforeAll
    static void load() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.mlctl");
    }

    @Test
    void theEngineDependsOnNoCloud() {
        ArchRule rule = noClasses().that().resideInAnyPackage(ENGINE)
            .should().dependOnClassesThat().resideInAnyPackage(CLOUDS)
            .because("clouds are reached through io.mlctl.provider.Driver, chosen by io.mlctl.provider.Providers");
        rule.check(classes);
    }

    @Test
    void theProviderFrameworkDependsOnNoProvider() {
        ArchRule rule = noClasses().that().resideInAPackage("io.mlctl.provider")
            .should().dependOnClassesThat().resideInAnyPackage("io.mlctl.provider.(*)..")
            .because("each provider package builds on the framework, never the other way round");
        rule.check(classes);
    }

    @Test
    void noProviderDependsOnAnother() {
        ArchRule rule = noClasses().that().resideInAPackage("io.mlctl.provider.aws..")
            .should().dependOnClassesThat().resideInAnyPackage("io.mlctl.provider.sandbox..", "io.mlctl.provider.gcp..", "io.mlctl.provider.azure..");
        rule.check(classes);
    }

    @Test
    void noProviderDependsOnAnotherGcpIncluded() {
        ArchRule rule = noClasses().that().resideInAPackage("io.mlctl.provider.gcp..")
            .should().dependOnClassesThat().resideInAnyPackage("io.mlctl.provider.sandbox..", "io.mlctl.provider.aws..", "io.mlctl.provider.azure..");
        rule.check(classes);
    }

    @Test
    void noProviderDependsOnAnotherAzureIncluded() {
        ArchRule rule = noClasses().that().resideInAPackage("io.mlctl.provider.azure..")
            .should().dependOnClassesThat().resideInAnyPackage("io.mlctl.provider.sandbox..", "io.mlctl.provider.aws..", "io.mlctl.provider.gcp..");
        rule.check(classes);
    }

    @Test
    void nothingButTheFakesCommandsDependsOnTheFakes() {
        // The local fakes of Google's and Azure's APIs ship in the jar for bin/gcp-fakes and bin/azure-fakes; drivers and the engine never reach them.
        ArchRule rule = noClasses().that().resideOutsideOfPackage("io.mlctl.fake..")
            .should().dependOnClassesThat().resideInAnyPackage("io.mlctl.fake..")
            .because("a driver must talk to a fake only over the wire, as to the real cloud");
        rule.check(classes);
    }

    @Test
    void theRuleWouldCatchAPackageThatNamesACloud() {
        // The CLI is the composition root and registers the AWS driver: the same rule over it must fail.
        ArchRule overCli = noClasses().that().resideInAnyPackage("io.mlctl.cli..").should().dependOnClassesThat().resideInAnyPackage(CLOUDS);
        org.assertj.core.api.Assertions.assertThat(overCli.evaluate(classes).hasViolation()).isTrue();
    }

    @Test
    void theRulesSeeTheClassesTheyJudge() {
        // A rule over an empty import passes vacuously: make sure the engine and a provider were imported.
        org.assertj.core.api.Assertions.assertThat(classes.contain("io.mlctl.engine.Engine")).isTrue();
        org.assertj.core.api.Assertions.assertThat(classes.contain("io.mlctl.provider.aws.AwsDriver")).isTrue();
        org.assertj.core.api.Assertions.assertThat(classes.contain("io.mlctl.provider.gcp.GcpDriver")).isTrue();
        org.assertj.core.api.Assertions.assertThat(classes.contain("io.mlctl.provider.azure.AzureDriver")).isTrue();
        org.assertj.core.api.Assertions.assertThat(classes.contain("io.mlctl.fake.gcp.GcpFakes")).isTrue();
    }
}
