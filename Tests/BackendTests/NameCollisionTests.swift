import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel
import Testing

/// name-collision: two names that become the same generated chain name after the backend's limits.
@Suite struct NameCollisionTests {
  static func ruleset(conduits: [(name: String, zones: (String, String))]) throws -> (Ruleset, SourceFile) {
    var text = "site s\n"
    let zones = Set(conduits.flatMap { [$0.zones.0, $0.zones.1] }).sorted()
    for (index, zone) in zones.enumerated() {
      text += "zone \(zone) {\n  level 2; security-level 2\n  network 10.\(index).0.0/16\n}\n"
      text += "asset host-\(zone) { address 10.\(index).0.1 }\n"
    }
    for conduit in conduits {
      text += "conduit \(conduit.name) {\n  between \(conduit.zones.0) and \(conduit.zones.1)\n"
      text += "  allow host-\(conduit.zones.0) -> host-\(conduit.zones.1) service ssh\n}\n"
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-names-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("site.conduit").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let checked = try checkPolicy(at: path, checkOptions: CheckOptions(today: CalendarDay("2026-11-28")!))
    #expect(!checked.hasErrors)
    var diagnostics = DiagnosticEngine()
    return (try Lowering.lower(checked.policy, diagnostics: &diagnostics), checked.policy.files[0].file)
  }

  @Test func nftablesChainsCollideWhenOnlyPunctuationDiffers() throws {
    let (ruleset, file) = try Self.ruleset(conduits: [("ops-ctl", ("ops", "ctl")), ("ops_ctl", ("ops", "dmz"))])
    var diagnostics = DiagnosticEngine()
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    #expect(names.conduitChains == ["c_ops_ctl", "c_ops_ctl"])
    let collisions = diagnostics.diagnostics.filter { $0.id == .nameCollision }
    #expect(collisions.count == 2)
    let first = try #require(collisions.first)
    #expect(first.severity == .error)
    #expect(first.range?.file == file)
    #expect(first.message == "conduit 'ops_ctl' and conduit 'ops-ctl' both become the nftables chain 'c_ops_ctl'")
  }

  @Test func iptablesChainsCollideAfterTwentyEightCharacters() throws {
    let long = "enterprise-to-operations-historian"
    let (ruleset, _) = try Self.ruleset(conduits: [(long + "-a", ("ent", "ops")), (long + "-b", ("ent", "dmz"))])
    var diagnostics = DiagnosticEngine()
    let names = IptablesNames(ruleset, family: .ipv4, diagnostics: &diagnostics)
    #expect(names.conduitChains.allSatisfy { $0.count <= 28 })
    #expect(names.logChains.allSatisfy { $0.count <= 28 })
    #expect(diagnostics.diagnostics.contains { $0.id == .nameCollision && $0.message.contains("'c-enterprise-to-operations-h'") })
  }

  @Test func distinctNamesDoNotCollide() throws {
    let (ruleset, _) = try Self.ruleset(conduits: [("ops-ctl", ("ops", "ctl")), ("ops-dmz", ("ops", "dmz"))])
    var diagnostics = DiagnosticEngine()
    _ = NftablesNames(ruleset, diagnostics: &diagnostics)
    _ = IptablesNames(ruleset, family: .ipv4, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
  }
}
