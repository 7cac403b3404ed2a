import Foundation
import Testing

@Suite struct QueryCommandTests {
  let today = ["--today", "2026-11-28"]

  func query(_ arguments: [String]) throws -> ConduitRunner.Result {
    try ConduitRunner.run(
      ["query", "riverside.conduit"] + arguments + today, in: try ConduitRunner.fixture("riverside"))
  }

  @Test func allowedExitsZeroAndNamesTheRule() throws {
    let result = try query(["--from", "hmi-1", "--to", "plc-1", "--service", "modbus"])
    #expect(result.status == 0)
    #expect(
      result.standardOutput == """
        allowed
          allowed hmi-1 (10.30.0.31) -> plc-1 (10.40.0.10) tcp/502 by conduit 'operations-control': riverside.conduit:58

        """)
  }

  @Test func partlyAllowedAndDeniedExitOne() throws {
    let partly = try query(["--from", "hmi-1", "--to", "plc-1", "--service", "modbus, tcp/503"])
    #expect(partly.status == 1)
    #expect(partly.standardOutput.hasPrefix("partly allowed\n"))
    #expect(partly.standardOutput.contains("denied  hmi-1 (10.30.0.31) -> plc-1 (10.40.0.10) tcp/503"))
    let denied = try query(["--from", "reporting-1", "--to", "plc-1"])
    #expect(denied.status == 1)
    #expect(denied.standardOutput == "denied\n  no conduit joins zone 'enterprise' and zone 'control'\n")
  }

  @Test func unknownNamesAreUsageErrors() throws {
    let result = try query(["--from", "hmi-1", "--to", "plc-9"])
    #expect(result.status == 64)
    #expect(result.standardError.contains("--to:1:1: error: unknown asset 'plc-9' [unknown-name]"))
  }

  /// A pair of mitigations that `compile` refuses (one reopens what the other isolates) gives no answer either.
  @Test func conflictingMitigationsGiveNoAnswer() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("query-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: URL(fileURLWithPath: try ConduitRunner.fixture("riverside")), to: folder)
    defer { try? FileManager.default.removeItem(at: folder) }
    let policy = folder.appendingPathComponent("riverside.conduit")
    let reopen = "\nmitigation reopen-plc-2 {\n  reason \"test\"\n  allow hmi-1 -> plc-2 service modbus\n}\n"
    try (try String(contentsOf: policy, encoding: .utf8) + reopen).write(to: policy, atomically: true, encoding: .utf8)
    let result = try ConduitRunner.run(
      [
        "query", "riverside.conduit", "--from", "hmi-1", "--to", "plc-2", "--mitigation", "isolate-plc-2",
        "--mitigation", "reopen-plc-2",
      ] + today, in: folder.path)
    #expect(result.status == 2)
    #expect(result.standardOutput.isEmpty)
    #expect((result.standardError + result.standardOutput).contains("[mitigation-conflict]"))
    let compiled = try ConduitRunner.run(
      [
        "compile", "riverside.conduit", "--mitigation", "isolate-plc-2", "--mitigation", "reopen-plc-2", "--target",
        "flows",
      ] + today, in: folder.path)
    #expect(compiled.status != 0)
  }
}
