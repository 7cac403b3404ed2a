import Foundation
import Testing

/// A policy whose names are hostile to every output language (a conduit name with `"`, `$`, `\` and `;` that
/// spells an nft command, a conduit name of 300 characters, a site name of 200) checks clean, and every target it
/// compiles to loads into the kernel, filters as the policy says, and leaves a foreign table alone.
@Suite(.serialized) struct HostileNamesKernelTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ConduitCLITests/Fixtures/hostile-names")
  static let policy = fixtures.appendingPathComponent("hostile.conduit").path
  static let site = "s" + String(repeating: "ite", count: 66) + "x"
  static let foreign = "table inet foreign {\n  chain keep {\n    counter\n  }\n}\n"

  final class OutputDirectory {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-hostile-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
  }

  /// `conduit compile` of the fixture for `target`, written to a file in `directory`.
  static func compile(_ target: String, into directory: OutputDirectory) throws -> URL {
    let output = directory.url.appendingPathComponent("out.\(target)")
    let result = try ConduitExecutable.run([
      "compile", policy, "--target", target, "--today", "2026-12-01", "-o", output.path,
    ])
    #expect(result.status == 0, "compile --target \(target): \(result.standardError)")
    return output
  }

  static func lab() throws -> NetworkLab {
    try NetworkLab(interfaces: [
      LabInterface("eth2", hosts: ["10.30.0.31"]), LabInterface("eth3", hosts: ["10.40.0.10"]),
      LabInterface("eth5", hosts: ["10.50.0.5"]),
    ])
  }

  /// Both conduits' flows pass, a port no rule names does not.
  static func expectFiltering(_ lab: NetworkLab, _ what: String) throws {
    let results = try lab.probe([
      .tcp(from: "10.30.0.31", to: "10.40.0.10", port: 502), .tcp(from: "10.30.0.31", to: "10.50.0.5", port: 4840),
      .tcp(from: "10.30.0.31", to: "10.40.0.10", port: 503),
    ])
    #expect(results.map(\.reached) == [true, true, false], "\(what): \(results)")
  }

  static func expectForeignTableUntouched(_ lab: NetworkLab, _ listed: String, _ what: String) throws {
    let now = try lab.runInGateway("nft", ["list", "table", "inet", "foreign"]).check("nft list table").standardOutput
    #expect(now == listed, "\(what) changed the foreign table")
  }

  @Test(.kernelTests) func everyTargetOfHostileNamesLoadsAndLeavesAForeignTableAlone() throws {
    let directory = try OutputDirectory()
    let text = try String(contentsOf: Self.compile("nft-text", into: directory), encoding: .utf8)
    let artifact = try Self.compile("nft", into: directory)
    let iptables = try String(contentsOf: Self.compile("iptables", into: directory), encoding: .utf8)
    let ip6tables = try String(contentsOf: Self.compile("ip6tables", into: directory), encoding: .utf8)
    let table = "conduit_" + Self.site

    let lab = try Self.lab()
    defer { lab.close() }
    try lab.loadNftables(script: Self.foreign)
    let foreign = try lab.runInGateway("nft", ["list", "table", "inet", "foreign"]).check("list").standardOutput
    #expect(foreign.contains("chain keep"))

    try lab.loadNftables(script: text)
    let byText = try lab.nftListRulesetWithSortedElements()
    #expect(byText.contains("table inet \(table) {"))
    #expect(byText.contains("log prefix \"conduit ops_ctl _x _ ; delete table inet foreign \""))
    try Self.expectForeignTableUntouched(lab, foreign, "nft -f")
    try Self.expectFiltering(lab, "nft -f")

    try lab.runInGateway("nft", ["delete", "table", "inet", table]).check("nft delete table")
    let applied = try ConduitExecutable.run(["apply", artifact.path, "--netns", lab.gatewayNamespace])
    #expect(applied.status == 0, "\(applied.standardError)")
    #expect(try lab.nftListRulesetWithSortedElements() == byText)
    try Self.expectForeignTableUntouched(lab, foreign, "conduit apply")
    try Self.expectFiltering(lab, "conduit apply")

    try lab.runInGateway("nft", ["delete", "table", "inet", table]).check("nft delete table")
    try lab.loadIptables(ipv4: iptables, ipv6: ip6tables)
    let saved = try lab.runInGateway("iptables-save", ["-t", "filter"]).check("iptables-save").standardOutput
    #expect(saved.contains("--log-prefix \"conduit ops_ctl _x -"))
    try Self.expectForeignTableUntouched(lab, foreign, "iptables-restore")
    try Self.expectFiltering(lab, "iptables-restore")
  }
}
