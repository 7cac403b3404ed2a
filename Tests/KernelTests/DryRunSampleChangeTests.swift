import FirewallIR
import Foundation
import PolicyLanguage
import PolicyTestSupport
import Testing

/// `apply --dry-run` of each sample change request, on every gateway of its site, over the live old policy: the flows
/// it says would be added and removed are the ones `conduit diff` reports for the conduits that gateway enforces,
/// applying the old policy again would change nothing, and the dry runs leave the ruleset as it was.
@Suite(.serialized) struct DryRunSampleChangeTests {
  /// The flow lines of `conduit diff` or `--dry-run` text, by conduit, without the policy places diff appends.
  static func flowLines(_ output: String) -> [String: [String]] {
    var result: [String: [String]] = [:]
    var conduit: String?
    for line in output.split(separator: "\n") {
      if line.hasPrefix("conduit '"), line.hasSuffix("':") {
        conduit = String(line.dropFirst("conduit '".count).dropLast(2))
      } else if let conduit, line.hasPrefix("  + ") || line.hasPrefix("  - ") {
        let flow = line.range(of: "  (").map { String(line[..<$0.lowerBound]) } ?? String(line)
        result[conduit, default: []].append(flow)
      } else if !line.hasPrefix("  ") {
        conduit = nil
      }
    }
    return result
  }

  @Test(.kernelTests, arguments: SampleChangeRequest.all)
  func aDryRunShowsTheFlowsDiffReportsForTheGateway(_ change: SampleChangeRequest) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdt-dry-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let (old, new) = try change.write(into: directory, packageRoot: SamplePacketTests.packageRoot)
    let diff = try ConduitExecutable.run(["diff", old, new, "--today", "2026-11-28"])
    let changedFlows = Self.flowLines(diff.standardOutput)
    #expect(!changedFlows.isEmpty, "\(diff.standardOutput)")
    for gateway in try SamplePacketTests.checked(old).policy.gateways.map(\.name) {
      let testCase = SamplePacketTests.Case(policy: old, gateway: gateway, backend: .nftables)
      let enforced = Set(try ArtifactApplyTests.compiledRuleset(testCase).chains.map(\.conduit))
      let lab = try ArtifactApplyTests.lab(for: testCase)
      defer { lab.close() }
      let common = ["--gateway", gateway, "--netns", lab.gatewayNamespace, "--today", "2026-11-28"]
      let applied = try ConduitExecutable.run(["apply", old] + common)
      #expect(applied.status == 0, "\(applied.standardError)")
      let ruleset = try lab.nftListRuleset()

      let same = try ConduitExecutable.run(["apply", old, "--dry-run"] + common)
      #expect(same.status == 0, "\(gateway): \(same.standardOutput)\(same.standardError)")
      #expect(same.standardOutput.hasSuffix("dry run: nothing would change\n"))

      let dryRun = try ConduitExecutable.run(["apply", new, "--dry-run"] + common)
      let expected = changedFlows.filter { enforced.contains($0.key) }
      #expect(Self.flowLines(dryRun.standardOutput) == expected, "\(gateway): \(dryRun.standardOutput)")
      #expect(dryRun.status == (expected.isEmpty ? 0 : 1), "\(gateway): \(dryRun.standardError)")
      #expect(try lab.nftListRuleset() == ruleset, "a dry run changed the ruleset")
    }
  }
}
