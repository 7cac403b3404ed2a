import Foundation
import Testing

@Suite struct DiffCommandTests {
  @Test func equalPoliciesPrintNothingAndExitZero() throws {
    let policy = try ConduitRunner.fixture("riverside/riverside.conduit")
    let result = try ConduitRunner.run(["diff", policy, policy, "--today", "2026-11-28"])
    #expect(result.status == 0)
    #expect(result.standardOutput.isEmpty)
  }

  @Test func aChangeListsAddedAndRemovedFlowsByConduit() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "conduit-diffcli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let fixtures = try ConduitRunner.fixture("riverside")
    for name in ["riverside.conduit", "riverside-assets.csv"] {
      try FileManager.default.copyItem(
        atPath: fixtures + "/" + name, toPath: directory.appendingPathComponent(name).path)
    }
    let original = try String(contentsOf: directory.appendingPathComponent("riverside.conduit"), encoding: .utf8)
    let changed = original.replacingOccurrences(
      of: "  allow plc-1 -> historian service opcua", with: "  allow plc-2 -> historian service opcua")
    try changed.write(to: directory.appendingPathComponent("new.conduit"), atomically: true, encoding: .utf8)
    let result = try ConduitRunner.run(
      ["diff", "riverside.conduit", "new.conduit", "--today", "2026-11-28"], in: directory.path)
    #expect(result.status == 1)
    #expect(
      result.standardOutput == """
        conduit 'operations-control':
          + plc-2 (10.40.0.11) -> historian (10.30.0.50) tcp/4840  (new.conduit:60)
          - plc-1 (10.40.0.10) -> historian (10.30.0.50) tcp/4840  (riverside.conduit:60)
        1 added, 1 removed

        """)
    let json = try ConduitRunner.run(
      ["diff", "riverside.conduit", "new.conduit", "--today", "2026-11-28", "--format", "json"], in: directory.path)
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect((document["added"] as? [[String: Any]])?.first?["sources"] as? String == "10.40.0.11")
  }
}
