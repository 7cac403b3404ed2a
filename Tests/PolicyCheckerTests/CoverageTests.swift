import PolicyLanguage
import Testing

@Suite("Coverage of the case tables")
struct CoverageTests {
  static let allCases =
    namesAndSyntaxCases + baselineCases + zoneAndGatewayCases + conduitAndRuleCases + acceptRiskCases
    + hostileNameCases

  /// The checks of CHECKS.md's sections "Names and syntax", "Baseline", "Zones and gateways" and "Conduits and rules"
  /// that the checker implements, and functions-unsupported.
  static let requiredChecks: [CheckID] = [
    .syntax, .unknownName, .duplicateDefinition, .emptyGlob, .badPrefix, .badPort, .badValue, .missingStatement,
    .missingFile, .unknownCheck, .nameCollision, .includeCycle, .serviceCycle,
    .baselineRow, .duplicateAddress, .assetClash, .baselineZoneMismatch, .unzonedAsset, .dualHomedAsset,
    .zoneMembership,
    .overlappingZones, .missingSecurityLevel, .missingLevel, .unusedZone, .unenforcedConduit, .hairpinConduit,
    .noManagement,
    .duplicateConduit, .endpointOutsideConduit, .emptyRule, .familyMismatch, .purdueSkip, .slStepUp,
    .conduitSLBelowZone, .slCapabilityGap, .broadSource, .allPorts, .unknownDevice, .generalPurposeService,
    .expiredConduit, .expiringConduit, .missingJustification, .missingOwner, .emptyConduit, .unusedService,
    .redundantRule,
    .dedicatedZone,
    .functionsUnsupported,
  ]

  @Test("every required check fires in some case", arguments: requiredChecks)
  func fires(_ id: CheckID) {
    #expect(Self.allCases.contains { $0.expected.contains { $0.id == id } }, "no case expects [\(id)]")
  }

  @Test(
    "checks with a warning and an error form have cases for both",
    arguments: [
      CheckID.purdueSkip, .broadSource, .allPorts, .expiredConduit,
    ])
  func bothSeverities(_ id: CheckID) {
    let severities = Set(Self.allCases.flatMap(\.expected).filter { $0.id == id }.map(\.severity))
    #expect(severities == [.warning, .error])
  }

  @Test("case names are unique")
  func uniqueNames() {
    let names = Self.allCases.map(\.name)
    #expect(Set(names).count == names.count)
  }
}
