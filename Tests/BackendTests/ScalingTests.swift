import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel
import Testing

/// Per-packet cost stays flat: the forward chain has the same rules whatever the number of policy rules, which all
/// go into the maps.
@Suite struct ScalingTests {
  static func policy(rules: Int) -> String {
    var text = """
      site scale
      zone ops {
        level 3; security-level 2
        network 10.30.0.0/16
      }
      zone ctl {
        level 1; security-level 3
        network 10.40.0.0/16
      }
      gateway gw {
        interface eth1 ops
        interface eth2 ctl
        management service ssh from 10.30.0.1
      }
      conduit ops-ctl {
        between ops and ctl
        security-level 3; owner "ot"; justification "scale"

      """
    for index in 0..<rules {
      let host = index % 250 + 1
      let subnet = index / 250 % 250
      text += "  allow 10.30.\(subnet).\(host) -> 10.40.\(subnet).\(host) service tcp/\(1024 + index % 4000)\n"
    }
    return text + "}\n"
  }

  static func forwardChain(rules: Int) throws -> (chain: [String], elements: Int) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-scale-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("scale.conduit").path
    try policy(rules: rules).write(toFile: path, atomically: true, encoding: .utf8)
    let checked = try Pipeline.check(PolicyRequest(policyPath: path, today: CalendarDay("2026-11-28")!))
    #expect(!checked.hasErrors)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, diagnostics: &diagnostics)
    let text = NftablesTextRenderer().render(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics))
    let lines = text.split(separator: "\n").map(String.init)
    let start = try #require(lines.firstIndex(of: "  chain forward {"))
    let end = try #require(lines[start...].firstIndex(of: "  }"))
    return (Array(lines[(start + 1)..<end]), ruleset.elements.count)
  }

  @Test func forwardChainIsTheSameForTenAndTenThousandRules() throws {
    let small = try Self.forwardChain(rules: 10)
    let large = try Self.forwardChain(rules: 10_000)
    #expect(small.elements == 10)
    #expect(large.elements == 10_000)
    #expect(small.chain == large.chain)
    #expect(small.chain.count == 25)  // 20 and the 5 drop-tracking rules before the log rule
  }

  /// The lines of map `name` in the nft text of `policy(rules:)` with `extra` rules added to its conduit.
  static func mapLines(_ name: String, rules: Int, extra: String) throws -> [String] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-scale-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("scale.conduit").path
    var text = policy(rules: rules)
    text.insert(contentsOf: extra, at: try #require(text.lastIndex(of: "}")))
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    let checked = try Pipeline.check(PolicyRequest(policyPath: path, today: CalendarDay("2026-11-28")!))
    #expect(!checked.hasErrors)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, diagnostics: &diagnostics)
    let lines = NftablesTextRenderer().render(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics))
      .split(separator: "\n").map(String.init)
    let start = try #require(lines.firstIndex(of: "  map \(name) {"))
    let end = try #require(lines[start...].firstIndex(of: "  }"))
    return Array(lines[(start + 1)..<end])
  }

  /// A flow of one source, one destination and one port is looked up in a hash map, whose cost does not grow with
  /// its size; only ranges and prefixes go to the interval map.
  @Test func oneFlowElementsGoToTheHashMapAndRangesToTheIntervalMap() throws {
    let extra =
      "  allow 10.30.251.0/24 -> 10.40.251.7 service tcp/502\n  allow 10.30.0.1 -> 10.40.0.1 service tcp/20-21\n"
    let exact = try Self.mapLines("exact_flows_v4", rules: 10, extra: extra)
    let intervals = try Self.mapLines("flows_v4", rules: 10, extra: extra)
    #expect(exact.first == "    type ipv4_addr . ipv4_addr . inet_proto . inet_service : verdict; counter")
    #expect(exact.filter { $0.contains(": jump ") }.count == 10)
    #expect(!exact.contains { $0.contains("-") || $0.contains("/") })
    #expect(
      intervals.first == "    type ipv4_addr . ipv4_addr . inet_proto . inet_service : verdict; flags interval; counter"
    )
    #expect(
      intervals.filter { $0.contains(": jump ") }.map { $0.trimmingCharacters(in: .whitespaces) } == [
        "10.30.0.1 . 10.40.0.1 . tcp . 20-21 comment \"scale.conduit:29\" : jump c_ops_ctl,",
        "10.30.251.0/24 . 10.40.251.7 . tcp . 502 comment \"scale.conduit:28\" : jump c_ops_ctl",
      ])
  }
}
