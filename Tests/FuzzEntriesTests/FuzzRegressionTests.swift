import Foundation
import FuzzEntries
import Testing

/// Every input a fuzzer crashed on, replayed through the same entry without sanitizers. Each input `NAME` under
/// Fixtures/fuzz-regressions/TARGET/ has a `NAME.expected` beside it: text that one of its findings contains.
@Suite struct FuzzRegressionTests {
  struct Regression: CustomTestStringConvertible, Sendable {
    let entry: FuzzEntry
    let url: URL
    var testDescription: String { "\(entry.rawValue)/\(url.lastPathComponent)" }
  }

  static let folder = Bundle.module.url(forResource: "Fixtures/fuzz-regressions", withExtension: nil)!

  static let regressions: [Regression] = FuzzEntry.allCases.flatMap { entry in
    let inputs =
      (try? FileManager.default.contentsOfDirectory(
        at: folder.appendingPathComponent(entry.rawValue), includingPropertiesForKeys: nil)) ?? []
    return inputs.filter { $0.pathExtension != "expected" && !$0.lastPathComponent.hasPrefix(".") }
      .sorted { $0.lastPathComponent < $1.lastPathComponent }
      .map { Regression(entry: entry, url: $0) }
  }

  @Test("every fuzz target has a regression folder")
  func everyTargetHasAFolder() {
    for entry in FuzzEntry.allCases {
      var isDirectory: ObjCBool = false
      let path = Self.folder.appendingPathComponent(entry.rawValue).path
      let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
      #expect(exists && isDirectory.boolValue, "\(path)")
    }
  }

  @Test("a stored fuzz input runs to a diagnostic", arguments: regressions)
  func replay(_ regression: Regression) throws {
    let expected = try String(contentsOf: regression.url.appendingPathExtension("expected"), encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(!expected.isEmpty)
    let outcome = regression.entry.run(Array(try Data(contentsOf: regression.url)))
    #expect(
      outcome.findings.contains { $0.contains(expected) },
      "expected a finding with '\(expected)', got \(outcome.findings.prefix(10))")
  }
}

/// The entries run the whole pipeline the command line runs: the samples pass through them as `conduit check`
/// passes them, and damage is reported.
@Suite struct FuzzEntryTests {
  static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Policies").standardized

  static func sample(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: samples.appendingPathComponent(path)))
  }

  @Test(
    "a sample policy followed by its baseline checks clean",
    arguments: [
      ("water-treatment/millbrook.conduit", "water-treatment/millbrook-assets.csv", "csv"),
      ("substation/eastmoor.conduit", "substation/eastmoor-assets.csv", "csv"),
      ("manufacturing-cell/cell3.conduit", "manufacturing-cell/cell3-assets.json", "json"),
    ])
  func sampleChecksClean(policy: String, baseline: String, format: String) throws {
    let input = try Self.sample(policy) + Array("\n--- baseline.\(format)\n".utf8) + Self.sample(baseline)
    let outcome = FuzzEntry.policy.run(input)
    #expect(outcome.findings == [])
  }

  @Test("without a baseline line the policy is checked against the fixed baseline")
  func fixedBaseline() {
    let outcome = FuzzEntry.policy.run(Array("site fuzz\nzone z { level 1; security-level 2; network outside }\n".utf8))
    #expect(outcome.findings.contains { $0.hasPrefix("unused-zone:") || $0.contains("plc-1") })
  }

  @Test("a policy's own include and baseline statements read no file")
  func statementsReadNoFile() {
    let outcome = FuzzEntry.policy.run(Array("site fuzz\ninclude \"/etc/passwd\"\nbaseline \"/etc/passwd\"\n".utf8))
    #expect(!outcome.rendered.contains("root:"))
    #expect(!outcome.findings.contains { $0.contains("/etc/passwd") && $0.hasPrefix("missing-file") })
  }

  @Test("sample baselines read through the baseline entries")
  func sampleBaselines() throws {
    let csv = FuzzEntry.csvBaseline.run(try Self.sample("substation/eastmoor-assets.csv"))
    let json = FuzzEntry.jsonBaseline.run(try Self.sample("manufacturing-cell/cell3-assets.json"))
    #expect(!csv.rendered.isEmpty && !json.rendered.isEmpty)
    #expect(!csv.findings.contains { $0.hasPrefix("baseline-row:") })
    #expect(!json.findings.contains { $0.hasPrefix("baseline-row:") })
    let damaged = FuzzEntry.jsonBaseline.run(Array("[{\"name\": 1}".utf8))
    #expect(damaged.findings.contains { $0.hasPrefix("baseline-row:") })
  }

  @Test("damaged artifacts are reported, as given and resealed")
  func damagedArtifact() {
    #expect(FuzzEntry.nftArtifact.run([]).findings.count == 2)
    #expect(FuzzEntry.nftArtifact.run(Array("CDTNFT\r\n\u{0}\u{1}\u{0}\u{0}\u{0}\u{2}{}".utf8)).findings.count == 2)
  }

  @Test("a resealed artifact reaches what lies behind the digest")
  func resealedArtifact() {
    var sections = Array("CDTNFT\r\n".utf8) + [0, 2]
    sections += [0x80, 1] + [0, 0, 0, 0, 0, 0, 0, 2] + Array("{}".utf8)
    sections += [0, 0] + [0, 0, 0, 0, 0, 0, 0, 32] + Array(repeating: 0, count: 32)
    let outcome = FuzzEntry.nftArtifact.run(sections)
    #expect(outcome.findings.count == 2)
    #expect(outcome.findings.first?.contains("do not match the SHA-256") == true)
    #expect(outcome.findings.last?.contains("lacks a required section") == true)
  }
}
