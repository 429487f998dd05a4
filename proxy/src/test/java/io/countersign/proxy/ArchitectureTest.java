package io.countersign.proxy;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module and package rules of docs/architecture.md, enforced: the arrows point from proxy to
 * policy and to ledger only; no Netty outside proxy; no package cycle inside proxy.
 */
class ArchitectureTest {
  private static JavaClasses classes;

  @BeforeAll
  static void importTheProductionClasses() {
    classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.countersign");
  }

  @Test
  void policyKnowsNeitherNettyNorTheLedgerNorTheProxy() {
    noClasses().that().resideInAPackage("io.countersign.policy..")
        .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "io.countersign.ledger..",
            "io.countersign.proxy..")
        .check(classes);
  }

  @Test
  void theLedgerKnowsNeitherNettyNorThePolicyNorTheProxy() {
    noClasses().that().resideInAPackage("io.countersign.ledger..")
        .should().dependOnClassesThat().resideInAnyPackage("io.netty..", "io.countersign.policy..",
            "io.countersign.proxy..")
        .check(classes);
  }

  @Test
  void theProxysPackagesHaveNoCycles() {
    slices().matching("io.countersign.proxy.(*)..").should().beFreeOfCycles().check(classes);
  }
}
