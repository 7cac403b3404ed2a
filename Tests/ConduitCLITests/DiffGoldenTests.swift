import Foundation
import PolicyTestSupport
import Testing

/// Golden files for `conduit diff`: a realistic change request on every sample site, its text and JSON output
/// beside the expected ones in `Golden/diff/`.
@Suite struct DiffGoldenTests {

  static let changes = SampleChangeRequest.all

  @Test(arguments: changes)
  func diffOfAChangeRequestMatchesItsGoldenFiles(_ change: SampleChangeRequest) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-diff-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    _ = try change.write(into: directory, packageRoot: GoldenFile.packageRoot)
    let changed = "changed-" + change.policy

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
