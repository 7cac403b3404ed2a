import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

/// Golden files: every sample policy, every gateway and every target beside its expected output in `Golden/`.
/// A mismatch writes `.got` beside the golden file; `CONDUIT_RECORD_GOLDEN=1` re-records.
@Suite struct GoldenTests {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden")

  struct Case: CustomTestStringConvertible, Sendable {
    var policy: String
    var gateway: String?
    var target: String

    var testDescription: String { "\(policy) \(gateway ?? "-") \(target)" }

    var goldenName: String {
      let site = URL(fileURLWithPath: policy).deletingPathExtension().lastPathComponent
      return "\(site)-\(gateway ?? "none").\(target)"
    }
  }

  /// Every sample policy with each of its gateways and every target. A sample that cannot be read or loaded throws,
  /// failing the tests built on these cases rather than dropping its cases.
  static var cases: [Case] {
    get throws {
      var result: [Case] = []
      for policy in try samplePolicies() {
        let checked = try compileInputs(policy)
        let gateways = checked.policy.gateways.map { Optional($0.name) }
        for gateway in gateways.isEmpty ? [nil] : gateways {
          for target in targets {
            result.append(Case(policy: policy, gateway: gateway, target: target))
          }
        }
      }
      return result
    }
  }

  /// `payload` is the nft artifact's batch as text (`NftablesBatch.payloadText`): its bytes, reviewable without root.
  static let targets = ["nft", "payload", "iptables", "ip6tables", "flows.json"]

  /// The `.conduit` files under `Policies/`; throws when the directory cannot be read.
  static func samplePolicies() throws -> [String] {
    let policies = packageRoot.appendingPathComponent("Policies")
    return try FileManager.default.subpathsOfDirectory(atPath: policies.path).filter { $0.hasSuffix(".conduit") }
      .map { policies.appendingPathComponent($0).path }.sorted()
  }

  static func compileInputs(_ policy: String) throws -> CheckedPolicy {
    try Pipeline.check(PolicyRequest(policyPath: policy, today: CalendarDay("2026-11-28")!))
  }

  /// The backend of a golden target (`nft` is the text the nft artifact's batch is also built from).
  static func backend(_ target: String) -> any Backend {
    switch target {
    case "nft": NftablesTextBackend()
    case "payload": NftablesArtifactBackend()
    case "iptables": IptablesBackend(family: .ipv4)
    case "ip6tables": IptablesBackend(family: .ipv6)
    default: FlowsBackend()
    }
  }

  /// Compiles through the pipeline `conduit compile` runs, with paths relative to the package root.
  static func compile(_ testCase: Case) throws -> String {
    let request = CompileRequest(
      policy: PolicyRequest(policyPath: testCase.policy, today: CalendarDay("2026-11-28")!), gateway: testCase.gateway)
    let compiled = try Pipeline.compile(request, backend: backend(testCase.target))
    #expect(compiled.diagnostics.isEmpty)
    let text =
      testCase.target == "payload"
      ? try NftablesArtifact(decoding: Array(compiled.output.joined())).batch.payloadText()
      : String(decoding: compiled.output.joined(), as: UTF8.self)
    return text.replacingOccurrences(of: packageRoot.path + "/", with: "")
  }

  @Test func everySampleHasGoldenCases() throws {
    #expect(try Self.samplePolicies().count >= 3)
    #expect(try Self.cases.count >= 12)
  }

  /// A golden file without a case is a case that went missing (a sample or a gateway renamed, a target dropped).
  @Test func everyGoldenFileHasItsCase() throws {
    let names = Set(try Self.cases.map(\.goldenName))
    let files = try FileManager.default.contentsOfDirectory(atPath: Self.goldenDirectory.path)
      .filter { name in Self.targets.contains { name.hasSuffix(".\($0)") } }
    #expect(!files.isEmpty)
    for file in files { #expect(names.contains(file), "\(file) has no case") }
  }

  @Test(arguments: try cases)
  func outputMatchesGoldenFile(_ testCase: Case) throws {
    let actual = try Self.compile(testCase)
    let golden = Self.goldenDirectory.appendingPathComponent(testCase.goldenName)
    let got = golden.appendingPathExtension("got")
    if ProcessInfo.processInfo.environment["CONDUIT_RECORD_GOLDEN"] == "1" {
      try actual.write(to: golden, atomically: true, encoding: .utf8)
      try? FileManager.default.removeItem(at: got)
      return
    }
    guard FileManager.default.fileExists(atPath: golden.path) else {
      try actual.write(to: got, atomically: true, encoding: .utf8)
      Issue.record("\(testCase.goldenName) is missing: see \(got.path); record it with CONDUIT_RECORD_GOLDEN=1")
      return
    }
    let expected = try String(contentsOf: golden, encoding: .utf8)
    if actual != expected {
      try actual.write(to: got, atomically: true, encoding: .utf8)
    } else {
      try? FileManager.default.removeItem(at: got)
    }
    #expect(
      actual == expected,
      "\(testCase.goldenName) differs: see \(got.path); re-record with CONDUIT_RECORD_GOLDEN=1 if the change is intended"
    )
  }
}

/// iptables' time match cannot express dates after 2038-01-19 03:14:07: a later expiry gets no rule and a warning.
@Suite struct IptablesExpiryTests {
  @Test func anExpiryBeyond2038IsWarnedAboutAndNotWritten() throws {
    func rendered(_ expires: String) throws -> (text: String, diagnostics: [Diagnostic]) {
      let site = """
        site y2038
        zone ops {
          level 3; security-level 2
          network 10.30.0.0/24
        }
        zone ctl {
          level 2; security-level 2
          network 10.40.0.0/24
        }
        gateway gw {
          interface eth1 ops
          interface eth2 ctl
        }
        conduit ops-ctl {
          between ops and ctl
          owner "ot"; justification "test"; expires \(expires)
          allow 10.30.0.1 -> 10.40.0.1 service tcp/502
        }

        """
      let checked = try checkPolicy(text: site)
      var diagnostics = DiagnosticEngine()
      let ruleset = try Lowering.lower(
        checked.policy, options: LoweringOptions(today: CalendarDay("2026-11-28")), diagnostics: &diagnostics)
      let backend = IptablesBackend(family: .ipv4)
      let output = try #require(
        try backend.compile(
          ruleset, context: RenderContext(effectiveDate: "2026-11-28", compiler: "conduit tests"),
          diagnostics: &diagnostics))
      return (String(decoding: output.joined(), as: UTF8.self), diagnostics.diagnostics)
    }
    let last = try rendered("2038-01-18")
    #expect(last.text.contains("-m time --datestart 2038-01-19T00:00:00 -j DROP"))
    #expect(!last.diagnostics.contains { $0.id == .expiryNotEnforced })
    let beyond = try rendered("2038-01-19")
    #expect(!beyond.text.contains("-m time"))
    #expect(beyond.diagnostics.contains { $0.id == .expiryNotEnforced && $0.severity == .warning })
  }
}
