package org.callvault;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.Test;

/**
 * The package rules of docs/design.md, so that a change that breaks one fails the build: every
 * dependency points one way, protocol code is plain Java, and the composition root is imported by
 * nothing. Over the service's own classes, not its tests.
 */
class ArchitectureTest {

  private static final JavaClasses SERVICE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("org.callvault");

  /**
   * RTP/RTCP, SIP/SDP/metadata, G.711 and WAV: parsers and formats that any framework could drive.
   */
  private static final String[] PROTOCOL = {
    "org.callvault.media.rtp..", "org.callvault.sip..", "org.callvault.export.pcm.."
  };

  @Test
  void thePackagesHaveNoCycles() {
    check(slices().matching("org.callvault.(**)").should().beFreeOfCycles());
  }

  @Test
  void protocolCodeImportsNoFrameworkAndNoCall() {
    check(
        noClasses()
            .that()
            .resideInAnyPackage(PROTOCOL)
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                "org.apache.pekko..",
                "io.netty..",
                "org.callvault.call..",
                "org.callvault.core.."));
  }

  @Test
  void theCallKnowsNoNettyAndNoMedia() {
    check(
        noClasses()
            .that()
            .resideInAPackage("org.callvault.call..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage("io.netty..", "org.callvault.media.."));
  }

  @Test
  void mediaKnowsNoCallAndNoHttp() {
    check(
        noClasses()
            .that()
            .resideInAPackage("org.callvault.media..")
            .should()
            .dependOnClassesThat()
            .resideInAnyPackage(
                "org.callvault.call..", "org.callvault.api..", "org.apache.pekko.http.."));
  }

  @Test
  void theSharedVocabularyDependsOnNoOtherPackageOfTheService() {
    check(
        classes()
            .that()
            .resideInAPackage("org.callvault.core..")
            .should()
            .onlyDependOnClassesThat()
            .resideOutsideOfPackages(
                "org.callvault.api..",
                "org.callvault.call..",
                "org.callvault.catalog..",
                "org.callvault.cli..",
                "org.callvault.cluster..",
                "org.callvault.export..",
                "org.callvault.media..",
                "org.callvault.sip..",
                "org.callvault.siprec..",
                "org.callvault.store.."));
  }

  @Test
  void credentialsAndRolesKnowNothingOfCallsOrTheirStorage() {
    check(
        classes()
            .that()
            .resideInAPackage("org.callvault.api.access..")
            .should()
            .onlyDependOnClassesThat()
            .resideOutsideOfPackages(
                "org.callvault.call..",
                "org.callvault.catalog..",
                "org.callvault.cluster..",
                "org.callvault.core..",
                "org.callvault.export..",
                "org.callvault.media..",
                "org.callvault.sip..",
                "org.callvault.siprec..",
                "org.callvault.store.."));
  }

  /**
   * The read model is built from the ledger and read by the API; the ledger knows nothing of it.
   */
  @Test
  void theCallsKnowNothingOfTheirReadModel() {
    check(
        noClasses()
            .that()
            .resideInAnyPackage(
                "org.callvault.call..", "org.callvault.media..", "org.callvault.store..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("org.callvault.catalog.."));
  }

  @Test
  void nothingImportsTheCompositionRoot() {
    check(
        noClasses()
            .that()
            .resideOutsideOfPackage("org.callvault.cluster..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("org.callvault.cluster.."));
  }

  private static void check(ArchRule rule) {
    rule.check(SERVICE);
  }
}
