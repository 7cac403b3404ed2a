import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyModel
import Testing

/// The block `impact --emit-mitigation` writes does what the report says: appended to the Millbrook sample, `diff
/// --mitigation` of it removes exactly the flows `impact --isolate` of the matched assets lists (isolate), or exactly
/// the flagged zones' flows to them (revoke), and a kept flow survives.
@Suite struct EmittedMitigationTests {
  static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Policies/water-treatment")
  static let today = CalendarDay("2026-11-28")!

  /// The sample copied to a new folder, with the block emitted for `strategy` appended; the two policies' paths.
  static func emitted(_ strategy: MitigationStrategy, keeps: [String] = []) throws -> (old: String, new: String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("emitted-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for file in ["millbrook.conduit", "millbrook-assets.csv"] {
      try FileManager.default.copyItem(
        at: sample.appendingPathComponent(file), to: folder.appendingPathComponent(file))
    }
    let old = folder.appendingPathComponent("millbrook.conduit").path
    let result = try Pipeline.impact(
      AdvisoryImpactRequest(
        policy: PolicyRequest(policyPath: old, today: today),
        advisoryPaths: [sample.appendingPathComponent("advisories").path],
        emission: MitigationEmission(name: "m580", strategy: strategy, keeps: keeps)))
    let new = folder.appendingPathComponent("new.conduit").path
    let text = try String(contentsOfFile: old, encoding: .utf8) + "\n" + (try #require(result.mitigation))
    try text.write(toFile: new, atomically: true, encoding: .utf8)
    return (old, new)
  }

  static func removed(_ paths: (old: String, new: String)) throws -> [DiffPart] {
    let difference = try Pipeline.diff(
      old: PolicyRequest(policyPath: paths.old, today: today), new: PolicyRequest(policyPath: paths.new, today: today),
      mitigations: ["m580"]
    ).difference
    #expect(difference.added.isEmpty)
    return difference.removed
  }

  static func covers(
    _ part: DiffPart, _ sources: AddressRange, _ destinations: AddressRange, _ kind: MatchKind,
    _ selectors: ClosedRange<UInt16>
  ) -> Bool {
    part.kind == kind && part.sources.first <= sources.first && sources.last <= part.sources.last
      && part.destinations.first <= destinations.first && destinations.last <= part.destinations.last
      && part.selectors.lowerBound <= selectors.lowerBound && selectors.upperBound <= part.selectors.upperBound
  }

  @Test func theIsolateBlockRemovesExactlyWhatIsolatingTheAssetsCuts() throws {
    let paths = try Self.emitted(.isolate)
    defer {
      try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: paths.old).deletingLastPathComponent().path)
    }
    let removed = try Self.removed(paths)
    let isolation = try Pipeline.impact(
      IsolationImpactRequest(
        policy: PolicyRequest(policyPath: paths.old, today: Self.today), endpoint: "plc-chem-01, plc-chem-02"))
    #expect(!isolation.impact.flows.isEmpty)
    for flow in isolation.impact.flows {
      #expect(
        removed.contains { Self.covers($0, flow.sources, flow.destinations, flow.kind, flow.selectors) },
        "\(flow.sources) -> \(flow.destinations) \(flow.kind) is not removed")
    }
    let isolated = AddressSet([IPPrefix("10.40.0.21/32")!, IPPrefix("10.40.0.22/32")!])
    for part in removed {
      let touches = [part.sources, part.destinations].contains { range in
        isolated.v4.intersects(range.bounds(as: UInt32.self))
      }
      #expect(touches, "\(part.sources) -> \(part.destinations) is removed but touches no isolated PLC")
    }
  }

  @Test func theRevokeBlockRemovesTheFlaggedZonesFlowsAndKeepsTheKeptOne() throws {
    let paths = try Self.emitted(.revoke, keeps: ["scada-srv-a, scada-srv-b -> plc-chem-* service opcua"])
    defer {
      try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: paths.old).deletingLastPathComponent().path)
    }
    let removed = try Self.removed(paths)
    #expect(
      removed.map { "\($0.sources) -> \($0.destinations) \($0.kind)/\($0.selectors.lowerBound)" } == [
        "10.30.0.50 -> 10.40.0.21-10.40.0.22 icmp/8"
      ])
  }
}
