import Foundation
import Testing

/// `conduit impact` on the Millbrook sample with the advisory shipped beside it (ICSA-23-201-01 hits its two
/// Modicon M580 dosing PLCs): the report, the isolation view and the emitted mitigations, kept in `Golden/impact/`;
/// the exit statuses of ADVISORIES.md; the JSON form; `-o` writes the block and nothing else.
@Suite struct SampleImpactTests {
  static let directory = GoldenFile.packageRoot.appendingPathComponent("Policies/water-treatment").path

  static let questions: [(arguments: [String], status: Int32)] = [
    (["--advisory", "advisories"], 1),
    (["--advisory", "advisories", "--mitigation", "chem-lockdown"], 1),
    (["--isolate", "plc-chem-01"], 1),
    (["--isolate", "hist-mirror"], 1),
    (["--advisory", "advisories", "--emit-mitigation", "m580-cve-2022-45788"], 1),
    (
      [
        "--advisory", "advisories", "--emit-mitigation", "m580-cve-2022-45788", "--keep",
        "scada-srv-a, scada-srv-b -> plc-chem-* service opcua",
      ], 1
    ),
    (
      [
        "--advisory", "advisories", "--emit-mitigation", "m580-cve-2022-45788", "--strategy", "revoke", "--keep",
        "scada-srv-a, scada-srv-b -> plc-chem-* service opcua",
      ], 1
    ),
  ]

  @Test func answersMatchTheirGoldenFile() throws {
    var transcript = ""
    for (arguments, status) in Self.questions {
      let command = ["impact", "millbrook.conduit"] + arguments + ["--today", "2026-11-28"]
      let result = try ConduitRunner.run(command, in: Self.directory)
      #expect(result.status == status, "\(arguments): \(result.standardError)")
      transcript +=
        "$ conduit "
        + command.map { $0.contains(" ") || $0.contains("*") ? "'\($0)'" : $0 }.joined(separator: " ") + "\n"
        + result.standardOutput + result.standardError + "exit \(result.status)\n\n"
    }
    try GoldenFile.compare(transcript, golden: "impact/millbrook.txt")
  }

  @Test func theJSONReportNamesBothPLCsWithTheirFlaggedSourceZone() throws {
    let result = try ConduitRunner.run(
      [
        "impact", "millbrook.conduit", "--advisory", "advisories/icsa-23-201-01.json", "--format", "json",
        "--today", "2026-11-28",
      ], in: Self.directory)
    #expect(result.status == 1)
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(document["matches"] as? Int == 2)
    let assets = try #require(document["assets"] as? [[String: Any]])
    #expect(assets.map { $0["asset"] as? String } == ["plc-chem-01", "plc-chem-02"])
    #expect(assets.allSatisfy { $0["exposure"] as? String == "lower-sl" && $0["highestScore"] as? Double == 7.5 })
    let advisories = try #require(assets.first?["advisories"] as? [[String: Any]])
    #expect(advisories.map { $0["advisory"] as? String } == ["ICSA-23-201-01"])
    #expect(advisories.first?["evidence"] as? String == "model+version")
    #expect((advisories.first?["vulnerabilities"] as? [[String: Any]])?.first?["cve"] as? String == "CVE-2022-45788")
    let zones = try #require(assets.first?["exposedFrom"] as? [[String: Any]])
    #expect(zones.map { $0["zone"] as? String } == ["operations"])
    #expect(zones.first?["lowerSecurityLevel"] as? Bool == true)
  }

  @Test func anAdvisoryThatHitsNothingExitsZeroAndAnUnreadableFileExitsTwo() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("impact-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let unrelated = folder.appendingPathComponent("unrelated.json")
    try Data(
      #"{"document":{"csaf_version":"2.0","title":"Other","tracking":{"id":"TEST-1"}},"product_tree":{"branches":[{"category":"vendor","name":"Nobody","branches":[{"category":"product_name","name":"Widget","branches":[{"category":"product_version","name":"1.0","product":{"name":"Widget 1.0","product_id":"P1"}}]}]}]},"vulnerabilities":[{"cve":"CVE-0000-0001","product_status":{"known_affected":["P1"]}}]}"#
        .utf8
    ).write(to: unrelated)
    let policy = "\(Self.directory)/millbrook.conduit"
    let clean = try ConduitRunner.run(
      ["impact", policy, "--advisory", unrelated.path, "--today", "2026-11-28"], in: folder.path)
    #expect(clean.status == 0, "\(clean.standardError)")
    #expect(
      clean.standardOutput.hasSuffix(
        "0 matches on 0 assets from 1 advisory; 0 exposed, 0 to lower-SL or outside zones\n"))
    let broken = folder.appendingPathComponent("broken.json")
    try Data("{not json".utf8).write(to: broken)
    let failed = try ConduitRunner.run(
      ["impact", policy, "--advisory", folder.path, "--today", "2026-11-28"], in: folder.path)
    #expect(failed.status == 2)
    #expect(failed.standardOutput.contains("note: \(broken.path): it is not JSON"))
  }

  @Test func theMitigationGoesToTheOutputFileAndTheReportToStandardOutput() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("impact-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let output = folder.appendingPathComponent("m580.conduit")
    let result = try ConduitRunner.run(
      [
        "impact", "millbrook.conduit", "--advisory", "advisories", "--emit-mitigation", "m580", "-o", output.path,
        "--today", "2026-11-28",
      ], in: Self.directory)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(result.standardOutput.contains("plc-chem-01 (critical; 'control' SL-T 3): 1 advisory, highest score 7.5"))
    let block = try String(contentsOf: output, encoding: .utf8)
    #expect(block.contains("mitigation m580 {\n"))
    #expect(block.contains("  isolate plc-chem-01, plc-chem-02\n"))
    let refused = try ConduitRunner.run(
      [
        "impact", "millbrook.conduit", "--advisory", "advisories", "--emit-mitigation", "m580", "-o",
        "millbrook.conduit", "--today", "2026-11-28",
      ], in: Self.directory)
    #expect(refused.status == 2)
  }

  @Test func aKeepThatIsNoRuleIsRefusedWithTheCheckersFindings() throws {
    let result = try ConduitRunner.run(
      [
        "impact", "millbrook.conduit", "--advisory", "advisories", "--emit-mitigation", "m580", "--keep",
        "scada-srv-a -> nobody service opcua", "--today", "2026-11-28",
      ], in: Self.directory)
    #expect(result.status == 1)
    #expect(result.standardError.contains("no mitigation written: the block does not check clean with the policy"))
    #expect(result.standardOutput.isEmpty)
  }

  @Test func aPolicyWithWarningsOfItsOwnStillGetsItsBlockAndTheBlocksOwnFindingsRefuseIt() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("impact-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for file in ["millbrook.conduit", "millbrook-assets.csv"] {
      try FileManager.default.copyItem(
        atPath: "\(Self.directory)/\(file)", toPath: folder.appendingPathComponent(file).path)
    }
    let policy = folder.appendingPathComponent("millbrook.conduit")
    let spare = "\nzone spare {\n  level 3; security-level 2\n  network 10.99.0.0/24\n}\n"
    try (try String(contentsOf: policy, encoding: .utf8) + spare).write(to: policy, atomically: true, encoding: .utf8)
    let checked = try ConduitRunner.run(["check", "millbrook.conduit", "--today", "2026-11-28"], in: folder.path)
    #expect(checked.standardOutput.contains("[unused-zone]"))
    let advisories = "\(Self.directory)/advisories"
    let emitted = try ConduitRunner.run(
      ["impact", "millbrook.conduit", "--advisory", advisories, "--emit-mitigation", "m580", "--today", "2026-11-28"],
      in: folder.path)
    #expect(emitted.status == 1, "\(emitted.standardError)")
    #expect(emitted.standardOutput.contains("mitigation m580 {"))
    let refused = try ConduitRunner.run(
      [
        "impact", "millbrook.conduit", "--advisory", advisories, "--emit-mitigation", "m580", "--keep",
        "ot-nms -> nobody service opcua", "--today", "2026-11-28",
      ], in: folder.path)
    #expect(refused.status == 1)
    #expect(refused.standardError.contains("no mitigation written: the block does not check clean with the policy"))
    #expect((refused.standardOutput + refused.standardError).contains("unknown asset 'nobody'"))
    #expect(!(refused.standardOutput + refused.standardError).contains("[unused-zone]"))
  }
}
