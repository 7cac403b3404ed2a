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

/// name-collision: two names that become the same generated chain name after the characters a backend cannot write
/// are replaced; long names are shortened with a hash suffix and never collide.
@Suite struct NameCollisionTests {
  /// The lowered ruleset of a site with these conduits, its file, and what the checker found; the checker may find
  /// no error but name-collision.
  static func ruleset(conduits: [(name: String, zones: (String, String))]) throws -> (Ruleset, SourceFile) {
    let (ruleset, file, _) = try checkedRuleset(conduits: conduits)
    return (ruleset, file)
  }

  static func checkedRuleset(site: String = "s", conduits: [(name: String, zones: (String, String))]) throws
    -> (Ruleset, SourceFile, [Diagnostic])
  {
    var text = "site \(site)\n"
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
    let checked = try Pipeline.check(PolicyRequest(policyPath: path, today: CalendarDay("2026-11-28")!))
    #expect(checked.diagnostics.allSatisfy { $0.severity != .error || $0.id == .nameCollision })
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, diagnostics: &diagnostics)
    return (ruleset, checked.policy.files[0].file, checked.diagnostics)
  }

  @Test func nftablesChainsCollideWhenOnlyPunctuationDiffers() throws {
    let (ruleset, file, checked) = try Self.checkedRuleset(
      conduits: [("ops-ctl", ("ops", "ctl")), ("ops_ctl", ("ops", "dmz"))])
    let found = checked.filter { $0.id == .nameCollision }
    #expect(
      found.map(\.message) == [
        "conduit 'ops_ctl' and conduit 'ops-ctl' both become the nftables chain 'c_ops_ctl'",
        "conduit 'ops_ctl' and conduit 'ops-ctl' both become the nftables chain 'c_ops_ctl_log'",
      ])
    #expect(found.allSatisfy { $0.severity == .error && $0.range?.file == file })
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

  @Test func longIptablesChainsAreShortenedWithAHashSuffixInsteadOfColliding() throws {
    let long = "enterprise-to-operations-historian"
    let (ruleset, _, checked) = try Self.checkedRuleset(
      conduits: [(long + "-a", ("ent", "ops")), (long + "-b", ("ent", "dmz"))])
    #expect(!checked.contains { $0.id == .nameCollision })
    var diagnostics = DiagnosticEngine()
    let names = IptablesNames(ruleset, family: .ipv4, diagnostics: &diagnostics)
    #expect(names.conduitChains == ["c-enterprise-to-ope-5864c32d", "c-enterprise-to-ope-cd48cd07"])
    #expect(names.logChains == ["c-enterprise-to-5864c32d-log", "c-enterprise-to-cd48cd07-log"])
    #expect((names.conduitChains + names.logChains).allSatisfy { $0.count <= IptablesNames.maximumLength })
    #expect(diagnostics.diagnostics.isEmpty)
  }

  @Test func longNftablesNamesAreShortenedWithAHashSuffixWithinTheKernelsLimit() throws {
    let long = String(repeating: "x", count: 300)
    let (ruleset, _, checked) = try Self.checkedRuleset(conduits: [
      (long + "a", ("ops", "ctl")), (long + "b", ("ops", "dmz")),
    ])
    #expect(!checked.contains { $0.id == .nameCollision })
    var diagnostics = DiagnosticEngine()
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    #expect(Set(names.conduitChains).count == 2)
    for (chain, log) in zip(names.conduitChains, names.logChains) {
      #expect(chain.utf8.count == NftablesNames.maximumNameBytes - 4)
      #expect(log == chain + "_log")
      #expect(chain.hasPrefix("c_" + String(repeating: "x", count: 200)))
    }
    var again = DiagnosticEngine()
    #expect(NftablesNames(ruleset, diagnostics: &again).conduitChains == names.conduitChains)
  }

  @Test func aLongSiteNameGivesATableNameWithinTheKernelsLimit() throws {
    let site = String(repeating: "plant", count: 60)
    let (ruleset, _, checked) = try Self.checkedRuleset(site: site, conduits: [("ops-ctl", ("ops", "ctl"))])
    #expect(!checked.contains { $0.severity == .error })
    var diagnostics = DiagnosticEngine()
    let table = NftablesNames(ruleset, diagnostics: &diagnostics).table
    #expect(table.utf8.count == NftablesNames.maximumNameBytes)
    #expect(table.hasPrefix("conduit_plantplant"))
    #expect(table.contains(#/_[0-9a-f]{8}$/#))
  }

  @Test func distinctNamesDoNotCollide() throws {
    let (ruleset, _) = try Self.ruleset(conduits: [("ops-ctl", ("ops", "ctl")), ("ops-dmz", ("ops", "dmz"))])
    var diagnostics = DiagnosticEngine()
    _ = NftablesNames(ruleset, diagnostics: &diagnostics)
    _ = IptablesNames(ruleset, family: .ipv4, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
  }
}
