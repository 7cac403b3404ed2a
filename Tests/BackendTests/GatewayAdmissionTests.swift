import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import PolicyLanguage
import Testing

@testable import NftablesBackend

/// What the lock-out guard judges by: the admission read back from an artifact's batch answers like the one of the
/// ruleset it was compiled from, for every sample gateway with and without its mitigations, at the edges of every
/// management source and zone.
@Suite struct GatewayAdmissionTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var policy: String
    var gateway: String
    var mitigations: [String]
    var testDescription: String {
      "\(URL(fileURLWithPath: policy).lastPathComponent) \(gateway)" + mitigations.map { " +\($0)" }.joined()
    }
  }

  static var cases: [Case] {
    get throws {
      try GoldenTests.samplePolicies().flatMap { policy in
        let checked = try GoldenTests.compileInputs(policy)
        return checked.policy.gateways.flatMap { gateway in
          [Case(policy: policy, gateway: gateway.name, mitigations: [])]
            + checked.policy.mitigations.map { Case(policy: policy, gateway: gateway.name, mitigations: [$0.name]) }
        }
      }
    }
  }

  static func ruleset(_ testCase: Case) throws -> Ruleset {
    let checked = try GoldenTests.compileInputs(testCase.policy)
    var diagnostics = DiagnosticEngine()
    return try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: testCase.gateway, mitigations: testCase.mitigations),
      diagnostics: &diagnostics)
  }

  /// Addresses at and beside every bound of `ranges`.
  static func probes(_ ranges: [(AddressFamily, ClosedRange<UInt128>)]) -> [IPAddress] {
    ranges.flatMap { family, range in
      [range.lowerBound, range.upperBound].flatMap { bound in
        [bound &- 1, bound, bound &+ 1].compactMap { value -> IPAddress? in
          family == .ipv4
            ? (value <= UInt128(UInt32.max) ? .v4(IPv4Address(UInt32(value))) : nil) : .v6(IPv6Address(value))
        }
      }
    }
  }

  @Test(arguments: try cases) func theBatchAdmitsWhatTheRulesetAdmits(_ testCase: Case) throws {
    let ruleset = try Self.ruleset(testCase)
    var diagnostics = DiagnosticEngine()
    let artifact = try NftablesArtifactBackend().artifact(
      ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics),
      context: RenderContext(effectiveDate: "2026-11-28", compiler: "conduit tests"))
    let fromRuleset = GatewayAdmission(ruleset)
    let fromBatch = try GatewayAdmission(artifact)
    #expect(fromBatch.filtersInput == fromRuleset.filtersInput)
    #expect(fromBatch.isolated == ruleset.isolated)
    let clients = Self.probes(
      fromRuleset.services.map { ($0.family, $0.sources) } + fromRuleset.zones.map { ($0.family, $0.addresses) })
    let interfaces = Set(fromRuleset.zones.map(\.interface)).sorted() + ["lo", "mgmt0"]
    let ports = Set(fromRuleset.services.flatMap { [$0.ports.lowerBound, $0.ports.upperBound] } + [22, 2222]).sorted()
    var admitted = 0
    for client in clients {
      for interface in interfaces {
        for port in ports {
          let expected = fromRuleset.verdict(client: client, interface: interface, port: port)
          var actual = fromBatch.verdict(client: client, interface: interface, port: port)
          if case .admitted = actual, case .admitted = expected { actual = expected }
          #expect(actual == expected, "\(client) on \(interface) to \(port)")
          if case .admitted = expected { admitted += 1 }
        }
      }
    }
    if fromRuleset.filtersInput, !fromRuleset.services.isEmpty { #expect(admitted > 0) }
  }

  @Test func anAdmittedClientIsNamedByItsManagementLine() throws {
    let testCase = Case(
      policy: try #require(try GoldenTests.samplePolicies().first { $0.hasSuffix("eastmoor.conduit") }),
      gateway: "gw-sub", mitigations: [])
    let ruleset = try Self.ruleset(testCase)
    var diagnostics = DiagnosticEngine()
    let artifact = try NftablesArtifactBackend().artifact(
      ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics),
      context: RenderContext(effectiveDate: "2026-11-28", compiler: "conduit tests"))
    let admission = try GatewayAdmission(artifact)
    let verdict = admission.verdict(client: try #require(IPAddress("10.61.20.30")), interface: "enp3s0.20", port: 22)
    guard case .admitted(let element?) = verdict else {
      Issue.record("ews-01 is not admitted on enp3s0.20: \(verdict)")
      return
    }
    let place = try #require(artifact.batch.origins.elementPlaces[element])
    #expect(place.hasSuffix("eastmoor.conduit:80:3"), "\(place)")
    #expect(
      admission.verdict(client: try #require(IPAddress("10.61.20.30")), interface: "enp1s0", port: 22) == .spoofed)
    #expect(
      admission.verdict(client: try #require(IPAddress("10.61.20.31")), interface: "enp3s0.20", port: 22)
        == .notAdmitted)
  }
}
