import FlowSpace
import Foundation
import Testing

@testable import NftablesBackend

/// `ComparableTable` over what the kernel lists: a table applied from an artifact compares equal to the artifact's
/// batch, and a hand edit is named.
@Suite(.serialized) struct TableComparisonKernelTests {
  /// conduit's table `name` as the kernel in the lab's gateway lists it.
  static func liveTable(_ name: String, in lab: NetworkLab) throws -> LiveTable? {
    let namespace = lab.gatewayNamespace
    return try onThreadOfItsOwn { () -> Result<LiveTable?, KernelSessionError> in
      Result { () throws(KernelSessionError) in
        try KernelSession.enterNetworkNamespace(namespace)
        return try KernelSession().liveTable(named: name)
      }
    }.get()
  }

  @Test(.kernelTests, arguments: try ArtifactApplyTests.cases)
  func everyAppliedSampleArtifactComparesEqualToItsBatch(_ testCase: SamplePacketTests.Case) throws {
    let (_, artifact) = try ArtifactApplyTests.compiled(testCase)
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    #expect(try ArtifactApplyTests.apply(artifact.encoded(), in: lab).status == 0)
    let expected = try ComparableTable(batch: artifact.batch.bytes)
    let applied = try ComparableTable(live: try #require(try Self.liveTable(artifact.header.table, in: lab)))
    #expect(expected.differences(to: applied).map(\.description) == [])
    #expect(expected == applied)
  }

  @Test(.kernelTests) func aHandEditIsNamed() throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let (_, artifact) = try ArtifactApplyTests.compiled(testCase)
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    #expect(try ArtifactApplyTests.apply(artifact.encoded(), in: lab).status == 0)
    let table = artifact.header.table
    let expected = try ComparableTable(batch: artifact.batch.bytes)
    let applied = try ComparableTable(live: try #require(try Self.liveTable(table, in: lab)))
    #expect(expected.differences(to: applied).map(\.description) == [])
    #expect(applied.identity == artifact.identity)

    for edit in [
      ["add", "element", "inet", table, "zones_v4", "{ \"\(artifact.interfaces[0])\" . 10.99.0.0/24 }"],
      ["add", "rule", "inet", table, "forward", "ip", "saddr", "10.99.0.1", "drop"],
    ] {
      let output = try lab.runInGateway(lab.tools.nft, edit)
      #expect(output.status == 0, "\(output.standardError)")
    }
    let edited = try ComparableTable(live: try #require(try Self.liveTable(table, in: lab)))
    let rules = try #require(expected.chains.first { $0.name == "forward" }).ruleCount
    #expect(
      expected.differences(to: edited).map(\.description) == [
        "chain forward: rule \(rules + 1) added",
        "set zones_v4: element \"\(artifact.interfaces[0])\" . 10.99.0.0/24 added",
      ])
  }
}
