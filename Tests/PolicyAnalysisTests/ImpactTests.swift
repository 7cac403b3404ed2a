import Advisories
import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

/// `impact --advisory` and `--isolate` on a site with an outside zone: which assets match, every flow that reaches
/// them by source zone with lower-SL and outside sources flagged, the ports the advisory names, the ranking, and the
/// mitigation block written for the matches.
@Suite struct ImpactTests {
  static let policy = """
    site impact
    zone internet {
      level 4; security-level 1
      network outside
      assets vendor-vpn
    }
    zone ops {
      level 3; security-level 2
      network 10.30.0.0/24
    }
    zone ctl {
      level 3; security-level 3
      network 10.40.0.0/24
    }
    asset vendor-vpn { address 198.51.100.7 }
    asset hmi-1 { address 10.30.0.31; role hmi }
    asset eng-1 { address 10.30.0.40 }
    asset plc-1 {
      address 10.40.0.10; criticality high
      vendor "ACME Controls Inc."; product "Widget PLC"; model "WP-100"; version "2.1"
    }
    asset plc-2 {
      address 10.40.0.11; criticality critical
      vendor "ACME Controls"; product "Widget PLC"; model "WP-100"; version "2.4"
    }
    asset plc-3 {
      address 10.40.0.12; criticality critical
      vendor "ACME Controls"; product "Widget PLC"; model "WP-100"; version "3.0"
    }
    asset rtu-1 {
      address 10.40.0.20; criticality low
      vendor "ACME Controls"; product "Widget RTU"; model "WR-7"; version "1.0"
    }
    conduit internet-ctl {
      between internet and ctl
      security-level 3; owner "ot"; justification "vendor remote support"
      expires 2027-06-30
      allow vendor-vpn -> plc-1 service tcp/8080
    }
    conduit ops-ctl {
      between ops and ctl
      security-level 3; owner "ot"; justification "polling"
      allow role hmi -> plc-1, plc-2 service modbus
      allow eng-1 -> rtu-1 service ssh
    }

    """

  /// An advisory naming `WP-100` below 3.0 and `WR-7` in every version, with TCP port 502 and port 161/udp in its
  /// text.
  static let advisory = """
    {"document": {"csaf_version": "2.0", "title": "ACME Widget", "tracking": {"id": "TEST-IMPACT-1"},
      "notes": [{"category": "summary", "text": "Exploitable over TCP port 502 and port 161/udp."}]},
     "product_tree": {"branches": [{"category": "vendor", "name": "ACME Controls ", "branches": [
       {"category": "product_name", "name": "Widget PLC WP-100", "branches": [
         {"category": "product_version_range", "name": "vers:generic/<3.0",
          "product": {"name": "ACME Widget PLC WP-100 < 3.0", "product_id": "P-PLC",
                      "product_identification_helper": {"model_numbers": ["WP-100"]}}}]},
       {"category": "product_name", "name": "Widget RTU WR-7", "branches": [
         {"category": "product_version_range", "name": "vers:all/*",
          "product": {"name": "ACME Widget RTU WR-7", "product_id": "P-RTU",
                      "product_identification_helper": {"model_numbers": ["WR-7"]}}}]}]}]},
     "vulnerabilities": [
       {"cve": "CVE-2099-0001", "scores": [{"products": ["P-PLC", "P-RTU"], "cvss_v3": {"baseScore": 9.8, "vectorString": "CVSS:3.1/AV:N"}}],
        "product_status": {"known_affected": ["P-PLC", "P-RTU"]},
        "remediations": [{"category": "mitigation", "details": "Block 502/tcp.", "product_ids": ["P-PLC"]},
                         {"category": "vendor_fix", "details": "Update.", "product_ids": ["P-PLC", "P-RTU"]}]}]}
    """

  static func findings(mitigations: [String] = []) throws -> (policy: Policy, findings: [ImpactFinding]) {
    let checked = try checkPolicy(text: policy, mitigationsActive: !mitigations.isEmpty)
    #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
    let advisory = try CSAFReader.read(Array(Self.advisory.utf8), file: "test.json").get()
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(mitigations: mitigations, ignoringGateways: true),
      diagnostics: &diagnostics)
    return (checked.policy, Impact.findings(of: [advisory], in: checked.policy, ruleset: ruleset))
  }

  @Test func matchesAreRankedByCriticalityThenExposureThenScore() throws {
    let findings = try Self.findings().findings
    #expect(findings.map(\.asset) == ["plc-2", "plc-1", "rtu-1"])
    #expect(findings.map(\.level) == [.lowerSecurityLevel, .outside, .lowerSecurityLevel])
    #expect(findings.map(\.evidence) == [.modelAndVersion, .modelAndVersion, .modelAndVersion])
    #expect(findings.allSatisfy { $0.highestScore == 9.8 && $0.vulnerabilities.map(\.cve) == ["CVE-2099-0001"] })
    #expect(
      findings.map(\.remediations) == [["mitigation", "vendor_fix"], ["mitigation", "vendor_fix"], ["vendor_fix"]])
  }

  @Test func everyFlowThatReachesAnAssetIsListedBySourceZoneWithItsFlag() throws {
    let findings = try Self.findings().findings
    let plc1 = try #require(findings.first { $0.asset == "plc-1" })
    #expect(plc1.zones.map(\.name) == ["ctl"])
    #expect(plc1.exposure.map(\.zone.name) == ["internet", "ops"])
    #expect(plc1.exposure.map(\.zone.isOutside) == [true, false])
    #expect(plc1.exposure.map(\.isLowerSecurityLevel) == [true, true])
    let internet = plc1.exposure[0].flows
    #expect(
      internet.map { "\($0.sources) -> \($0.destination) \($0.kind)/\($0.selectors)" } == [
        "198.51.100.7 -> 10.40.0.10 tcp/8080...8080"
      ])
    #expect(internet.first?.rules.map { $0.range.startLocation.line } == [38])
    #expect(plc1.exposure[1].flows.map(\.selectors) == [502...502])
  }

  @Test func portsTheAdvisoryNamesAreCheckedAgainstTheExposure() throws {
    let findings = try Self.findings().findings
    let plc2 = try #require(findings.first { $0.asset == "plc-2" })
    #expect(plc2.ports.map(\.port.description) == ["udp/161", "tcp/502"])
    #expect(plc2.ports.map(\.zones) == [[], ["ops"]])
    let rtu = try #require(findings.first { $0.asset == "rtu-1" })
    #expect(rtu.ports.map(\.isExposed) == [false, false])
  }

  @Test func aVersionOutsideTheRangeIsNoMatch() throws {
    #expect(!(try Self.findings().findings.contains { $0.asset == "plc-3" }))
  }

  @Test func theRevokeBlockNamesEachFlaggedZoneWithItsServicesAndAssets() throws {
    let findings = try Self.findings().findings
    let block = try MitigationDraft.write(
      name: "widget", strategy: .revoke, findings: findings, keeps: ["hmi-1 -> plc-1 service modbus"])
    #expect(
      block == """
        # TEST-IMPACT-1: ACME Widget
        mitigation widget {
          reason "TEST-IMPACT-1: revoke what lower-SL and outside zones reach on the assets it hits, until they are patched"
          revoke service tcp/8080 from zone internet to plc-1
          revoke service tcp/22, tcp/502 from zone ops to plc-1, plc-2, rtu-1
          allow hmi-1 -> plc-1 service modbus
        }

        """)
    let isolate = try MitigationDraft.write(name: "widget", strategy: .isolate, findings: findings, keeps: [])
    #expect(isolate.contains("  isolate plc-2, plc-1, rtu-1\n"))
  }

  @Test func aMitigationIsNotWrittenForNothingNorUnderAnUnwritableName() throws {
    #expect(throws: MitigationDraftError.self) {
      try MitigationDraft.write(name: "widget", strategy: .isolate, findings: [], keeps: [])
    }
    let findings = try Self.findings().findings
    #expect(throws: MitigationDraftError.self) {
      try MitigationDraft.write(name: "bad name", strategy: .isolate, findings: findings, keeps: [])
    }
    #expect(throws: MitigationDraftError.self) {
      try MitigationDraft.write(name: "w", strategy: .isolate, findings: findings, keeps: ["a -> b service ssh\n}"])
    }
  }

  @Test func isolatingAnAssetCutsEveryFlowItTakesPartInAndNamesTheInitiators() throws {
    let checked = try checkPolicy(text: Self.policy)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(ignoringGateways: true), diagnostics: &diagnostics)
    let plc1 = AddressSet(try #require(IPPrefix("10.40.0.10/32")))
    let impact = IsolationImpact.of(plc1, in: checked.policy, ruleset: ruleset)
    #expect(
      impact.flows.map { "\($0.sources) -> \($0.destinations) \($0.selectors)" }.sorted() == [
        "10.30.0.31 -> 10.40.0.10 502...502", "198.51.100.7 -> 10.40.0.10 8080...8080",
      ])
    #expect(impact.flows.flatMap { $0.losers.map(\.name) }.sorted() == ["hmi-1", "vendor-vpn"])
    let nothing = IsolationImpact.of(
      AddressSet(try #require(IPPrefix("10.40.0.99/32"))), in: checked.policy, ruleset: ruleset)
    #expect(nothing.isEmpty)
  }

  @Test func anAdvisoryTitleCannotWriteAStatementIntoTheBlockNorALineIntoTheReport() throws {
    let hostile = Self.advisory.replacingOccurrences(
      of: #""title": "ACME Widget""#, with: #""title": "ACME\n}\nmitigation evil {\n  reason \"x\\\"\u001b[2J""#)
    let checked = try checkPolicy(text: Self.policy)
    let advisory = try CSAFReader.read(Array(hostile.utf8), file: "hostile.json").get()
    #expect(advisory.title.contains("\n"))
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(ignoringGateways: true), diagnostics: &diagnostics)
    let findings = Impact.findings(of: [advisory], in: checked.policy, ruleset: ruleset)
    let block = try MitigationDraft.write(name: "widget", strategy: .isolate, findings: findings, keeps: [])
    var parseDiagnostics = DiagnosticEngine()
    let parsed = Parser.parse(SourceFile(path: "block", text: block), diagnostics: &parseDiagnostics)
    #expect(parseDiagnostics.diagnostics.isEmpty, "\(parseDiagnostics.diagnostics.map(\.message))")
    #expect(parsed.declarations.count == 1)
    #expect(block.split(separator: "\n").first?.hasPrefix("# TEST-IMPACT-1: ACME } mitigation evil {") == true)
    let text = ImpactTextRenderer().render(
      findings, advisories: 1, problems: [], names: FlowDescription([checked.policy]))
    #expect(!text.contains("\u{1b}"))
    #expect(!text.split(separator: "\n").contains { $0.hasPrefix("mitigation evil") || $0 == "}" })
  }

  @Test func anAssetHitByTwoAdvisoriesIsReportedOnceWithBoth() throws {
    let checked = try checkPolicy(text: Self.policy)
    let first = try CSAFReader.read(Array(Self.advisory.utf8), file: "a.json").get()
    let second = try CSAFReader.read(
      Array(Self.advisory.replacingOccurrences(of: "TEST-IMPACT-1", with: "TEST-IMPACT-2").utf8), file: "b.json"
    ).get()
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(ignoringGateways: true), diagnostics: &diagnostics)
    let findings = Impact.findings(of: [first, second], in: checked.policy, ruleset: ruleset)
    #expect(findings.count == 6)
    let assets = AssetImpact.grouping(findings)
    #expect(assets.map(\.first.asset) == ["plc-2", "plc-1", "rtu-1"])
    #expect(
      assets.map { $0.findings.map(\.advisory) } == Array(repeating: ["TEST-IMPACT-1", "TEST-IMPACT-2"], count: 3))
    let text = ImpactTextRenderer().render(
      findings, advisories: 2, problems: [], names: FlowDescription([checked.policy]))
    #expect(text.components(separatedBy: "\nplc-1 (high; 'ctl' SL-T 3): 2 advisories, highest score 9.8\n").count == 2)
    #expect(text.hasSuffix("6 matches on 3 assets from 2 advisories; 3 exposed, 3 to lower-SL or outside zones\n"))
  }
}
