import Foundation
import Testing

/// `apply` with a standard output that cannot be written: the ruleset is applied (the kernel transaction is already
/// committed when the report is printed), connections are still cut, and the exit status and message say what
/// happened instead of a signal.
@Suite(.serialized) struct HostileApplyOutputTests {
  @Test(.kernelTests, arguments: [("/dev/full", "no space left on device"), ("&-", "it is closed")])
  func applyToAStandardOutputThatCannotBeWrittenIsExitTwoAndSaysTheRulesetIsApplied(
    _ sink: String, _ reason: String
  ) throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let file = try ArtifactApplyTests.ArtifactFile(try ArtifactApplyTests.compiled(testCase).artifact.encoded())
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let script = "exec \"$0\" \"$@\" >\(sink)"
    let result = try Command.run(
      "/bin/sh", ["-c", script, ConduitExecutable.url.path, "apply", file.url.path, "--netns", lab.gatewayNamespace])
    #expect(result.status == 2, "\(result.standardError)")
    #expect(
      result.standardError.hasSuffix(
        "conduit: error: cannot write to standard output: \(reason) (the ruleset is applied)\n"))
    #expect(try lab.nftListRuleset().contains("table inet conduit_"))
  }
}
