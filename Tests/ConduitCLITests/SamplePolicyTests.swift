import Foundation
import Testing

/// Every sample site under `Policies/` checks clean, warnings included.
@Suite struct SamplePolicyTests {
  static let policiesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Policies")

  /// The `.conduit` files under `Policies/`; throws (failing the tests built on them) when it cannot be read.
  static var samplePolicies: [String] {
    get throws {
      try FileManager.default.subpathsOfDirectory(atPath: policiesDirectory.path).filter { $0.hasSuffix(".conduit") }
        .map { policiesDirectory.appendingPathComponent($0).path }.sorted()
    }
  }

  @Test func thereAreAtLeastThreeSites() throws {
    #expect(try Self.samplePolicies.count >= 3)
  }

  @Test(arguments: try samplePolicies)
  func sampleChecksCleanUnderStrict(_ policy: String) throws {
    let result = try ConduitRunner.run(["check", policy, "--strict", "--today", "2026-11-28"])
    #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    #expect(result.standardOutput == "no problems found\n")
  }
}
