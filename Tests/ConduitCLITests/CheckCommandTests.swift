import Foundation
import Testing

@Suite struct CheckCommandTests {
  let today = ["--today", "2026-11-28"]

  @Test func cleanPolicyExitsZero() throws {
    let result = try ConduitRunner.run(["check", try ConduitRunner.fixture("riverside/riverside.conduit")] + today)
    #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    #expect(result.standardOutput == "no problems found\n")
  }

  @Test func brokenPolicyReportsEveryErrorWithItsPlaceAndExitsOne() throws {
    let directory = try ConduitRunner.fixture("riverside")
    let result = try ConduitRunner.run(["check", "broken.conduit"] + today, in: directory)
    #expect(result.status == 1)
    let lines = result.standardOutput.split(separator: "\n").map(String.init)
    let headers = lines.filter { $0.hasPrefix("broken.conduit:") && $0.contains(": error: ") }
    #expect(headers.count >= 10)
    #expect(
      lines.contains(
        "broken.conduit:3:1: error: expected a declaration (site, baseline, include, service, zone, asset, gateway, conduit, mitigation or accept-risk), found 'zome' [syntax]"
      ))
    #expect(lines.contains("broken.conduit:19:18: error: unknown asset 'plc-3' [unknown-name]"))
    #expect(lines.contains("   19 |   allow hmi-1 -> plc-3 service modbus"))
    #expect(lines.contains("      |                  ^~~~~"))
    #expect(lines.last?.hasPrefix("17 errors") == true)
  }

  @Test func missingPolicyFileExitsTwoWithOneLine() throws {
    let result = try ConduitRunner.run(["check", "/nonexistent/site.conduit"] + today)
    #expect(result.status == 2)
    #expect(result.standardError == "conduit: error: cannot read '/nonexistent/site.conduit': no such file\n")
    #expect(result.standardOutput.isEmpty)
  }

  @Test func missingBaselineOverrideExitsTwo() throws {
    let policy = try ConduitRunner.fixture("riverside/riverside.conduit")
    let result = try ConduitRunner.run(["check", policy, "--baseline", "/nonexistent.csv"] + today)
    #expect(result.status == 2)
    #expect(result.standardError.contains("cannot read '/nonexistent.csv'"))
  }

  @Test(arguments: [
    ["check"], ["check", "x.conduit", "--format", "xml"], ["check", "x.conduit", "--today", "2026-13-01"],
    ["check", "x.conduit", "--bogus"], ["frobnicate"],
  ])
  func usageErrorsExitSixtyFour(_ arguments: [String]) throws {
    let result = try ConduitRunner.run(arguments)
    #expect(result.status == 64, "\(result.standardError)")
  }

  @Test func strictTurnsWarningsIntoFailure() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let policy = directory.appendingPathComponent("site.conduit")
    try "zone a {\n  security-level 1\n  network 10.0.0.0/24\n}\n".write(to: policy, atomically: true, encoding: .utf8)
    let relaxed = try ConduitRunner.run(["check", policy.path] + today)
    #expect(relaxed.status == 0)
    #expect(relaxed.standardOutput.contains("[missing-level]"))
    let strict = try ConduitRunner.run(["check", policy.path, "--strict"] + today)
    #expect(strict.status == 1)
  }

  @Test func todayDecidesExpiry() throws {
    let directory = try ConduitRunner.fixture("riverside")
    let before = try ConduitRunner.run(["check", "riverside.conduit", "--today", "2027-06-30"], in: directory)
    #expect(before.status == 0)
    #expect(before.standardOutput.contains("[expiring-conduit]"))
    let after = try ConduitRunner.run(["check", "riverside.conduit", "--today", "2027-07-01"], in: directory)
    #expect(after.status == 1)
    #expect(
      after.standardOutput.contains(
        "riverside.conduit:56:11: error: conduit 'operations-control' expired on 2027-06-30"))
  }

  @Test func jsonFormatListsEveryFinding() throws {
    let directory = try ConduitRunner.fixture("riverside")
    let result = try ConduitRunner.run(["check", "broken.conduit", "--format", "json"] + today, in: directory)
    #expect(result.status == 1)
    let array = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
    #expect(array.count == 26)
    let unknown = try #require(array.first { $0["id"] as? String == "unknown-name" })
    #expect(unknown["file"] as? String == "broken.conduit")
    #expect(unknown["line"] as? Int == 19)
    #expect(unknown["column"] as? Int == 18)
    #expect(unknown["endColumn"] as? Int == 23)
    #expect((unknown["notes"] as? [[String: Any]])?.first?["message"] as? String == "did you mean 'plc-1'?")
  }

  @Test func sarifOutputValidatesAgainstTheOfficialSchema() throws {
    let directory = try ConduitRunner.fixture("riverside")
    let result = try ConduitRunner.run(["check", "broken.conduit", "--format", "sarif"] + today, in: directory)
    #expect(result.status == 1)
    let sarif = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID().uuidString).sarif")
    try result.standardOutput.write(to: sarif, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: sarif) }
    let schema = try ConduitRunner.fixture("sarif/sarif-schema-2.1.0.json")
    let validator = Process()
    validator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    validator.arguments = [
      "python3", "-c",
      """
      import json, sys, jsonschema
      schema = json.load(open(sys.argv[1]))
      log = json.load(open(sys.argv[2]))
      cls = jsonschema.validators.validator_for(schema)
      errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(log))
      for e in errors: print(e.message, list(e.path))
      sys.exit(1 if errors else 0)
      """,
      schema, sarif.path,
    ]
    let output = Pipe()
    validator.standardOutput = output
    validator.standardError = output
    try validator.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    validator.waitUntilExit()
    #expect(validator.terminationStatus == 0, "\(text)")
    let log = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    let run = try #require((log["runs"] as? [[String: Any]])?.first)
    let results = try #require(run["results"] as? [[String: Any]])
    #expect(results.count == 26)
    let first = try #require(results.first)
    #expect(first["ruleId"] as? String == "syntax")
    #expect(first["level"] as? String == "error")
  }

  @Test func anAcceptedRiskIsPrintedAsAcceptedNotAsAWarning() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("accepted-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let policy = """
      zone operations { level 3; security-level 2; network 10.30.0.0/24 }
      zone control { level 1; security-level 3; network 10.40.0.0/24 }
      asset hmi-1 { address 10.30.0.31 }
      asset plc-1 { address 10.40.0.10 }
      conduit operations-control {
        between operations and control
        justification "HMI polling"
        accept-risk missing-owner "owned by the line team, CHG-7"
        allow hmi-1 -> plc-1 service modbus
      }

      """
    try policy.write(to: directory.appendingPathComponent("site.conduit"), atomically: true, encoding: .utf8)
    let result = try ConduitRunner.run(["check", "site.conduit"] + today, in: directory.path)
    #expect(result.status == 0, "\(result.standardError)")
    let output = result.standardOutput + result.standardError
    #expect(output.contains("site.conduit:5:9: accepted: "), "\(output)")
    #expect(output.contains("[missing-owner]"))
    #expect(!output.contains("warning:"))
    #expect(output.contains("note: risk accepted: owned by the line team, CHG-7"))
    #expect(output.hasSuffix("1 accepted risk\n"))
  }
}
