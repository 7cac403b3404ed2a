import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyTestSupport
import Testing

@testable import IptablesBackend
@testable import NftablesBackend

/// An interface name the checker accepts is the name every backend writes: `$` is an ordinary character of Linux
/// interface names, of nft strings in sets and of iptables arguments, so it stays (only log prefixes, where nft
/// expands variables, replace it).
@Suite struct InterfaceNameWritingTests {
  static let site =
    TestSites.operationsAndControl + """
      gateway gw {
        interface "ops$1" ops
        interface eth2 ctl
      }
      conduit ops-ctl {
        between ops and ctl
        security-level 3; owner "ot"; justification "polling"
        allow role hmi -> plc-1 service modbus
      }

      """

  @Test func anInterfaceNameWithADollarSignIsWrittenAsItIsByEveryBackend() throws {
    let checked = try checkPolicy(text: Self.site)
    #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: "gw"), diagnostics: &diagnostics)
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let text = NftablesTextRenderer().render(ruleset, names: names)
    #expect(text.contains("\"ops$1\" . 10.30.0.0/24"), "\(text)")
    #expect(!text.contains("ops_1"))
    let artifact = try NftablesArtifact(
      batch: NetlinkLinearizer().batch(ruleset, names: names), flowTable: FlowTable(ruleset), compiler: "conduit tests",
      site: nil, gateway: "gw", mitigations: [], effectiveDate: "2026-12-01",
      policyDigest: String(repeating: "ab", count: 32), sources: ["site.conduit"])
    #expect(artifact.interfaces == ["eth2", "ops$1"])
    let iptablesNames = IptablesNames(ruleset, family: .ipv4, diagnostics: &diagnostics)
    let iptables = IptablesRestoreRenderer().render(ruleset, family: .ipv4, names: iptablesNames)
    #expect(iptables.contains("-i ops$1 -s 10.30.0.0/24"), "\(iptables)")
    #expect(!iptables.contains("ops_1"))
  }
}
