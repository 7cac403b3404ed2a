import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel
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

  static var cases: [Case] {
    var result: [Case] = []
    for policy in samplePolicies() {
      guard let checked = try? compileInputs(policy) else { continue }
      let gateways = checked.policy.gateways.map { Optional($0.name) }
      for gateway in gateways.isEmpty ? [nil] : gateways {
        for target in ["nft", "iptables", "ip6tables", "flows.json"] {
          result.append(Case(policy: policy, gateway: gateway, target: target))
        }
      }
    }
    return result
  }

  static func samplePolicies() -> [String] {
    let policies = packageRoot.appendingPathComponent("Policies")
    let enumerator = FileManager.default.enumerator(at: policies, includingPropertiesForKeys: nil)
    return (enumerator?.compactMap { $0 as? URL } ?? []).filter { $0.pathExtension == "conduit" }.map(\.path).sorted()
  }

  static func compileInputs(_ policy: String) throws -> CheckedPolicy {
    try checkPolicy(at: policy, checkOptions: CheckOptions(today: CalendarDay("2026-11-28")!))
  }

  /// Compiles like `conduit compile`, with paths relative to the package root.
  static func compile(_ testCase: Case) throws -> String {
    let checked = try compileInputs(testCase.policy)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: testCase.gateway), diagnostics: &diagnostics)
    let text: String
    switch testCase.target {
    case "nft":
      text = NftablesTextRenderer().render(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics))
    case "iptables", "ip6tables":
      let family: AddressFamily = testCase.target == "iptables" ? .ipv4 : .ipv6
      text = IptablesRestoreRenderer().render(
        ruleset, family: family, names: IptablesNames(ruleset, family: family, diagnostics: &diagnostics))
    default:
      text = FlowsJSONRenderer().render(ruleset)
    }
    #expect(checked.diagnostics.isEmpty && diagnostics.diagnostics.isEmpty)
    return text.replacingOccurrences(of: packageRoot.path + "/", with: "")
  }

  @Test func everySampleHasGoldenCases() {
    #expect(Self.cases.count >= 12)
  }

  @Test(arguments: cases)
  func outputMatchesGoldenFile(_ testCase: Case) throws {
    let actual = try Self.compile(testCase)
    let golden = Self.goldenDirectory.appendingPathComponent(testCase.goldenName)
    let got = golden.appendingPathExtension("got")
    if ProcessInfo.processInfo.environment["CONDUIT_RECORD_GOLDEN"] == "1" {
      try actual.write(to: golden, atomically: true, encoding: .utf8)
      try? FileManager.default.removeItem(at: got)
      return
    }
    let expected = try? String(contentsOf: golden, encoding: .utf8)
    if actual != expected {
      try actual.write(to: got, atomically: true, encoding: .utf8)
    } else {
      try? FileManager.default.removeItem(at: got)
    }
    #expect(
      actual == expected,
      "\(testCase.goldenName) differs: see \(got.path); re-record with CONDUIT_RECORD_GOLDEN=1 if the change is intended")
  }
}
