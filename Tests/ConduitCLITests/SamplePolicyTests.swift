import Foundation
import Testing

/// Every sample site under `Policies/` checks clean, warnings included.
@Suite struct SamplePolicyTests {
  static let policiesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Policies")

  static var samplePolicies: [String] {
    let enumerator = FileManager.default.enumerator(at: policiesDirectory, includingPropertiesForKeys: nil)
    return (enumerator?.compactMap { $0 as? URL } ?? []).filter { $0.pathExtension == "conduit" }.map(\.path).sorted()
  }

  @Test func thereAreAtLeastThreeSites() {
    #expect(Self.samplePolicies.count >= 3)
  }

  @Test(arguments: samplePolicies)
  func sampleChecksCleanUnderStrict(_ policy: String) throws {
    let result = try ConduitRunner.run(["check", policy, "--strict", "--today", "2026-11-28"])
    #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    #expect(result.standardOutput == "no problems found\n")
  }
}
