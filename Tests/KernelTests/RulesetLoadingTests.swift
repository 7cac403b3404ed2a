import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel
import Testing

/// Every backend output is accepted by its tool's check mode, and the nft script replaces conduit's table: loading
/// it twice, or over another version, leaves exactly what a fresh load leaves.
@Suite(.serialized) struct RulesetLoadingTests {
  static func compile(_ testCase: SamplePacketTests.Case, mitigations: [String] = []) throws -> Ruleset {
    let checked = try Pipeline.check(
      PolicyRequest(policyPath: testCase.policy, today: CalendarDay("2026-11-28")!),
      mitigationsActive: !mitigations.isEmpty)
    var diagnostics = DiagnosticEngine()
    return try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: testCase.gateway, mitigations: mitigations),
      diagnostics: &diagnostics)
  }

  static func nftText(_ ruleset: Ruleset) -> String {
    var diagnostics = DiagnosticEngine()
    return NftablesTextRenderer().render(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics))
  }

  static var nftCases: [SamplePacketTests.Case] {
    get throws { try SamplePacketTests.cases.filter { $0.backend == .nftables } }
  }

  @Test(.kernelTests, arguments: try nftCases)
  func checkModesAcceptEveryOutput(_ testCase: SamplePacketTests.Case) throws {
    let ruleset = try Self.compile(testCase)
    let lab = try NetworkLab(interfaces: [LabInterface("eth0", hosts: ["192.0.2.1"])])
    defer { lab.close() }
    let nft = try lab.runInGateway("nft", ["-c", "-f", "-"], input: Self.nftText(ruleset))
    #expect(nft.status == 0, "\(nft.standardError)")
    for family in AddressFamily.allCases {
      var diagnostics = DiagnosticEngine()
      let text = IptablesRestoreRenderer().render(
        ruleset, family: family, names: IptablesNames(ruleset, family: family, diagnostics: &diagnostics))
      let tool = family == .ipv4 ? "iptables-restore" : "ip6tables-restore"
      let result = try lab.runInGateway(tool, ["--test"], input: text)
      #expect(result.status == 0, "\(tool): \(result.standardError)")
    }
  }

  @Test(.kernelTests, arguments: try nftCases)
  func loadingTwiceOrOverAnotherVersionEqualsAFreshLoad(_ testCase: SamplePacketTests.Case) throws {
    let current = Self.nftText(try Self.compile(testCase))
    let policy = try SamplePacketTests.checked(testCase.policy).policy
    let other =
      try policy.mitigations.first.map { Self.nftText(try Self.compile(testCase, mitigations: [$0.name])) } ?? current
    let fresh = try NetworkLab(interfaces: [LabInterface("eth0", hosts: ["192.0.2.1"])])
    defer { fresh.close() }
    try fresh.loadNftables(script: current)
    let expected = try fresh.nftListRulesetWithSortedElements()
    #expect(expected.contains("table inet conduit_"))

    let reloaded = try NetworkLab(interfaces: [LabInterface("eth0", hosts: ["192.0.2.1"])])
    defer { reloaded.close() }
    try reloaded.loadNftables(script: other)
    try reloaded.loadNftables(script: current)
    try reloaded.loadNftables(script: current)
    #expect(try reloaded.nftListRulesetWithSortedElements() == expected)
  }
}
