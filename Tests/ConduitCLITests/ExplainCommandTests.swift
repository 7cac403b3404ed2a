import Foundation
import Testing

/// `conduit explain CHECK-ID`: the text and JSON forms, unknown ids, and the SARIF rules that carry the same text.
@Suite struct ExplainCommandTests {
  @Test(
    "exit status and the first line",
    arguments: [
      (["explain", "broad-source"], 0, "broad-source (warning; error into a zone of SL-T 3 or 4): "),
      (["explain", "hairpin-conduit", "--format", "text"], 0, "hairpin-conduit (error): "),
      (["explain", "sl-step-up"], 0, "sl-step-up (warning): "),
    ])
  func explains(_ arguments: [String], status: Int32, firstLine: String) throws {
    let result = try ConduitRunner.run(arguments)
    #expect(result.status == status, "\(result.standardError)")
    #expect(result.standardOutput.hasPrefix(firstLine))
    #expect(result.standardError.isEmpty)
  }

  @Test("the text form has its sections in order, the example with its command and files")
  func textSections() throws {
    let result = try ConduitRunner.run(["explain", "baseline-zone-mismatch"])
    #expect(result.status == 0)
    let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let headings = lines.filter { ["Why", "Example", "Fix", "Source"].contains($0) }
    #expect(headings == ["Why", "Example", "Fix", "Source"])
    #expect(lines.contains("  $ conduit check site.conduit"))
    #expect(lines.contains("  site.conduit:"))
    #expect(lines.contains("  assets.csv:"))
    #expect(lines.contains("    hmi-2,10.40.0.32,operations"))
    #expect(lines.contains("  An error cannot be accepted: fix it."))
    #expect(result.standardOutput.contains("IEC 62443-3-2 ZCR 3"))
  }

  @Test("a warning's fix names accept-risk with its id")
  func warningAcceptance() throws {
    let result = try ConduitRunner.run(["explain", "missing-owner"])
    #expect(result.standardOutput.contains("`accept-risk missing-owner \"reason\"`"))
  }

  @Test("the JSON form holds every part")
  func json() throws {
    let result = try ConduitRunner.run(["explain", "duplicate-key", "--format", "json"])
    #expect(result.status == 0)
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(object["id"] as? String == "duplicate-key")
    #expect(object["severity"] as? String == "warning")
    for key in ["summary", "rationale", "fix", "acceptance", "source"] {
      #expect(!((object[key] as? String) ?? "").isEmpty, "\(key)")
    }
    let example = try #require(object["example"] as? [String: Any])
    #expect(example["command"] as? String == "conduit check site.conduit")
    #expect(example["policyFile"] as? String == "site.conduit")
    #expect(example["baselineFile"] as? String == "assets.json")
    #expect((example["policy"] as? String)?.hasPrefix("baseline \"assets.json\"\n") == true)
  }

  @Test(
    "an unknown id is a usage error with the nearest id",
    arguments: [
      (["explain", "broad-sorce"], "conduit: error: unknown check id 'broad-sorce'; did you mean 'broad-source'?\n"),
      (["explain", "zzzzzzzzzzzz"], "conduit: error: unknown check id 'zzzzzzzzzzzz'\n"),
      (["explain", "bad\u{1B}[2Jid"], "conduit: error: unknown check id 'bad\\u{1B}[2Jid'\n"),
    ])
  func unknownID(_ arguments: [String], message: String) throws {
    let result = try ConduitRunner.run(arguments)
    #expect(result.status == 64)
    #expect(result.standardOutput.isEmpty)
    #expect(result.standardError == message)
  }

  @Test("usage errors", arguments: [["explain"], ["explain", "syntax", "--format", "sarif"]])
  func usage(_ arguments: [String]) throws {
    #expect(try ConduitRunner.run(arguments).status == 64)
  }

  @Test("SARIF rules carry the explanation as fullDescription and help")
  func sarifRulesCarryTheExplanation() throws {
    let directory = try ConduitRunner.fixture("riverside")
    let result = try ConduitRunner.run(
      ["check", "broken.conduit", "--format", "sarif", "--today", "2026-11-28"], in: directory)
    let log = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    let run = try #require((log["runs"] as? [[String: Any]])?.first)
    let rules = try #require(
      ((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
    #expect(!rules.isEmpty)
    for rule in rules {
      let id = try #require(rule["id"] as? String)
      let explained = try ConduitRunner.run(["explain", id, "--format", "json"])
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(explained.standardOutput.utf8)) as? [String: Any])
      #expect((rule["fullDescription"] as? [String: Any])?["text"] as? String == object["rationale"] as? String)
      let help = try #require(rule["help"] as? [String: Any])
      let text = try #require(help["text"] as? String)
      #expect(text.hasPrefix("Why\n"))
      #expect(text.contains(try #require(object["fix"] as? String)))
      #expect(text.contains(try #require(object["source"] as? String)))
      #expect((help["markdown"] as? String)?.contains("**Source.**") == true)
    }
  }

  @Test(
    "an example run by another command than check reports its id there",
    arguments: ["expiry-not-enforced", "mitigation-conflict"])
  func exampleOfAnotherCommand(_ id: String) throws {
    let explained = try ConduitRunner.run(["explain", id, "--format", "json"])
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(explained.standardOutput.utf8)) as? [String: Any])
    let example = try #require(object["example"] as? [String: Any])
    let command = try #require(example["command"] as? String).split(separator: " ").map(String.init)
    #expect(command.first == "conduit" && command.dropFirst().first == "compile")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let policy = try #require(example["policy"] as? String)
    try policy.write(to: directory.appendingPathComponent("site.conduit"), atomically: true, encoding: .utf8)
    let result = try ConduitRunner.run(Array(command.dropFirst()) + ["-o", "out.bin"], in: directory.path)
    #expect(result.standardError.contains("[\(id)]"), "\(result.standardError)")
  }
}
