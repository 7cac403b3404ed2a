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

  static let millbrook = GoldenFile.packageRoot.appendingPathComponent("Policies/water-treatment").path

  /// `diff POLICY POLICY --mitigation NAME`: what the emergency change removes, and nothing else.
  @Test func aMitigationAgainstThePolicyItselfListsExactlyTheFlowsItRemoves() throws {
    let arguments = [
      "diff", "millbrook.conduit", "millbrook.conduit", "--mitigation", "chem-lockdown", "--today", "2026-11-28",
    ]
    let result = try ConduitRunner.run(arguments, in: Self.millbrook)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(result.standardError.isEmpty)
    #expect(
      result.standardOutput == """
        conduit 'control-analyzers':
          - plc-chem-01, plc-chem-02 (10.40.0.21-10.40.0.22) -> ana-cl2-01, ana-cl2-02 (10.42.0.11-10.42.0.12) tcp/502  (millbrook.conduit:211)
        conduit 'operations-control':
          - plc-chem-01, plc-chem-02 (10.40.0.21-10.40.0.22) -> ot-ntp (10.30.0.5) udp/123  (millbrook.conduit:188)
          - ot-nms (10.30.0.50) -> plc-chem-01, plc-chem-02 (10.40.0.21-10.40.0.22) icmp/8  (millbrook.conduit:184)
        0 added, 3 removed

        """)
    let json = try ConduitRunner.run(arguments + ["--format", "json"], in: Self.millbrook)
    #expect(json.status == 1)
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any])
    #expect(document["mitigations"] as? [String] == ["chem-lockdown"])
    #expect((document["added"] as? [[String: Any]])?.isEmpty == true)
    let removed = try #require(document["removed"] as? [[String: Any]])
    #expect(
      removed.map {
        "\($0["sources"] ?? "") > \($0["destinations"] ?? "") \($0["protocol"] ?? "")/\($0["selectors"] ?? "")"
      } == [
        "10.40.0.21-10.40.0.22 > 10.42.0.11-10.42.0.12 tcp/502", "10.40.0.21-10.40.0.22 > 10.30.0.5 udp/123",
        "10.30.0.50 > 10.40.0.21-10.40.0.22 icmp/8",
      ])
    let plain = try ConduitRunner.run(
      ["diff", "millbrook.conduit", "millbrook.conduit", "--today", "2026-11-28", "--format", "json"],
      in: Self.millbrook)
    #expect(plain.status == 0)
    #expect(!plain.standardOutput.contains("mitigations"))
  }

  @Test func anUnknownMitigationIsAnErrorWithNothingToCompare() throws {
    let result = try ConduitRunner.run(
      ["diff", "millbrook.conduit", "millbrook.conduit", "--mitigation", "chem-lockdwn", "--today", "2026-11-28"],
      in: Self.millbrook)
    #expect(result.status == 2)
    #expect(result.standardOutput.isEmpty)
    #expect(
      result.standardError
        == "conduit: error: no mitigation 'chem-lockdwn' in 'millbrook.conduit'; its mitigations: island-mode, "
        + "chem-lockdown; no diff\n")
  }

  @Test func conflictingMitigationsAreErrorsWithNothingToCompare() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "conduit-diffcli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    for name in ["millbrook.conduit", "millbrook-assets.csv"] {
      try FileManager.default.copyItem(
        atPath: Self.millbrook + "/" + name, toPath: directory.appendingPathComponent(name).path)
    }
    let policy = try String(contentsOf: directory.appendingPathComponent("millbrook.conduit"), encoding: .utf8)
    let reopen = """

      mitigation dosing-maintenance {
        reason "vendor dosing maintenance"
        allow ews-01 -> plc-chem-01 service opcua
      }

      """
    try (policy + reopen).write(to: directory.appendingPathComponent("new.conduit"), atomically: true, encoding: .utf8)
    let base = ["diff", "millbrook.conduit", "new.conduit", "--today", "2026-11-28"]
    let alone = try ConduitRunner.run(base + ["--mitigation", "dosing-maintenance"], in: directory.path)
    #expect(alone.status == 1, "\(alone.standardError)")
    #expect(alone.standardOutput.contains("+ ews-01 (10.30.0.31) -> plc-chem-01 (10.40.0.21) tcp/4840  (new.conduit:"))
    #expect(alone.standardOutput.contains("(mitigation dosing-maintenance)"))
    let both = try ConduitRunner.run(
      base + ["--mitigation", "chem-lockdown", "--mitigation", "dosing-maintenance"], in: directory.path)
    #expect(both.status == 2)
    #expect(both.standardOutput.isEmpty)
    #expect(both.standardError.contains("[mitigation-conflict]"))
    #expect(
      both.standardError.hasSuffix(
        "conduit: 'new.conduit' has errors with mitigations 'chem-lockdown', 'dosing-maintenance'; no diff\n"))
  }
}
