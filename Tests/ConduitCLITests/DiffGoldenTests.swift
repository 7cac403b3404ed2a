import Foundation
import Testing

/// Golden files for `conduit diff`: a realistic change request on every sample site, its text and JSON output
/// beside the expected ones in `Golden/diff/`.
@Suite struct DiffGoldenTests {

  /// A change request: the sample site and the lines it edits (each old line must occur exactly once).
  struct Change: CustomTestStringConvertible, Sendable {
    var name: String
    var site: String
    var policy: String
    var baseline: String
    var edits: [(old: String, new: String)]

    var testDescription: String { name }
  }

  static let changes = [
    Change(
      name: "millbrook-pump-engineering", site: "water-treatment", policy: "millbrook.conduit",
      baseline: "millbrook-assets.csv",
      edits: [
        (
          "  allow ews-02 -> plc-pump-* service s7comm log",
          "  allow ews-01, ews-02 -> plc-pump-* service s7comm log"
        ),
        ("  allow idmz-av -> corp-av service https\n", ""),
        ("  allow ot-nms -> zone control service ping", "  allow ot-nms -> zone control service ping, snmp"),
      ]),
    Change(
      name: "eastmoor-remote-maintenance", site: "substation", policy: "eastmoor.conduit",
      baseline: "eastmoor-assets.csv",
      edits: [
        (
          "  allow cc-nms-01 -> rtac-*, gps-01, sw-st-01, station-hmi service snmp, ping",
          "  allow cc-nms-01 -> rtac-*, gps-01, sw-st-01, station-hmi service snmp"
        ),
        ("  allow rem-jump-01 -> rtac-* service https log", "  allow rem-jump-01 -> rtac-* service https, ssh log"),
      ]),
    Change(
      name: "cell3-edge-collection", site: "manufacturing-cell", policy: "cell3.conduit",
      baseline: "cell3-assets.json",
      edits: [
        ("  allow edge-c3-01 -> plc-c3-02 service opcua", "  allow edge-c3-01 -> plc-c3-* service opcua"),
        ("  allow hmi-c3-03 -> plc-c3-02 service s7comm\n", ""),
      ]),
  ]

  @Test(arguments: changes)
  func diffOfAChangeRequestMatchesItsGoldenFiles(_ change: Change) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-diff-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let site = GoldenFile.packageRoot.appendingPathComponent("Policies/\(change.site)")
    for name in [change.policy, change.baseline] {
      try FileManager.default.copyItem(
        at: site.appendingPathComponent(name), to: directory.appendingPathComponent(name))
    }
    var text = try String(contentsOf: site.appendingPathComponent(change.policy), encoding: .utf8)
    for edit in change.edits {
      #expect(text.components(separatedBy: edit.old).count == 2, "'\(edit.old)' must occur once")
      text = text.replacingOccurrences(of: edit.old, with: edit.new)
    }
    let changed = "changed-" + change.policy
    try text.write(to: directory.appendingPathComponent(changed), atomically: true, encoding: .utf8)

    for format in ["text", "json"] {
      let result = try ConduitRunner.run(
        ["diff", change.policy, changed, "--today", "2026-11-28", "--format", format], in: directory.path)
      #expect(result.status == 1, "\(result.standardError)")
      try GoldenFile.compare(result.standardOutput, golden: "diff/\(change.name).\(format == "text" ? "txt" : "json")")
    }
    let reverse = try ConduitRunner.run(["diff", changed, change.policy, "--today", "2026-11-28"], in: directory.path)
    let forward = try ConduitRunner.run(["diff", change.policy, changed, "--today", "2026-11-28"], in: directory.path)
    let forwardCounts = try #require(Self.summary(forward.standardOutput))
    #expect(Self.summary(reverse.standardOutput) == Array(forwardCounts.reversed()))
  }

  /// "N added, M removed" of a text diff, as numbers.
  static func summary(_ output: String) -> [Int]? {
    guard let line = output.split(separator: "\n").last(where: { $0.hasSuffix("removed") }) else { return nil }
    let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    return numbers.count == 2 ? numbers : nil
  }
}
