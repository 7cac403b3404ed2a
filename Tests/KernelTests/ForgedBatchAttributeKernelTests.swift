import Foundation
import NftablesBackend
import Testing

/// Forged batches whose messages carry attributes the kernel reads differently from a first glance: a second table
/// name (the kernel keeps the last of two equal attributes) or a table handle (the kernel looks a table up by handle
/// before its name). Each is refused before anything is sent, and the foreign table survives.
@Suite(.serialized) struct ForgedBatchAttributeKernelTests {
  /// `batch` with `attribute` appended to the first message of nf_tables type `type`, its length fixed.
  static func appending(_ attribute: [UInt8], toFirstMessageOfType type: UInt8, in batch: inout [UInt8]) {
    var offset = 0
    while offset < batch.count {
      let length = Int(batch[offset]) | Int(batch[offset + 1]) << 8 | Int(batch[offset + 2]) << 16
      if batch[offset + 5] == 10, batch[offset + 4] == type {
        batch.insert(contentsOf: attribute, at: offset + length)
        let newLength = UInt32(length + attribute.count)
        withUnsafeBytes(of: newLength.littleEndian) { batch.replaceSubrange(offset..<(offset + 4), with: $0) }
        return
      }
      offset += (length + 3) & ~3
    }
    Issue.record("the batch holds no message of type \(type)")
  }

  /// A netlink attribute of `type` holding `value`, padded to four bytes.
  static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
    let length = UInt16(4 + value.count)
    var bytes = withUnsafeBytes(of: length.littleEndian) { Array($0) }
    bytes += withUnsafeBytes(of: type.littleEndian) { Array($0) } + value
    return bytes + Array(repeating: 0, count: (4 - bytes.count % 4) % 4)
  }

  static let deleteTable: UInt8 = 2
  static let tableName: UInt16 = 1
  static let tableHandle: UInt16 = 4

  /// Applies `edit`ed batch of the first sample gateway beside a foreign table `inet keep_me`; the foreign table's
  /// handle is handed to `edit`.
  static func applyBeside(_ edit: (inout [UInt8], UInt64) -> Void) throws -> (CommandOutput, survived: Bool) {
    let testCase = try #require(ArtifactApplyTests.cases.first)
    let artifact = try ArtifactApplyTests.compiled(testCase).artifact
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    try lab.loadNftables(script: "table inet keep_me {\n  chain c {\n    counter\n  }\n}\n")
    let listing = try lab.runInGateway("nft", ["-a", "list", "table", "inet", "keep_me"]).standardOutput
    let handle = try #require(
      listing.split(separator: "\n").first.flatMap { $0.split(separator: " ").last }.flatMap { UInt64($0) })
    let forged = ArtifactForgeryKernelTests.forging(artifact.encoded()) { edit(&$0, handle) }
    let result = try ArtifactApplyTests.apply(forged, in: lab)
    return (result, try lab.runInGateway("nft", ["list", "table", "inet", "keep_me"]).status == 0)
  }

  @Test(.kernelTests) func aSecondTableNameInADeleteIsRefusedAndTheForeignTableSurvives() throws {
    let (result, survived) = try Self.applyBeside { batch, _ in
      Self.appending(
        Self.attribute(Self.tableName, Array("keep_me".utf8) + [0]), toFirstMessageOfType: Self.deleteTable,
        in: &batch)
    }
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("more than one attribute 1"), "\(result.standardError)")
    #expect(survived)
  }

  @Test(.kernelTests) func aTableHandleInADeleteIsRefusedAndTheForeignTableSurvives() throws {
    let (result, survived) = try Self.applyBeside { batch, handle in
      Self.appending(
        Self.attribute(Self.tableHandle, withUnsafeBytes(of: handle.bigEndian) { Array($0) }),
        toFirstMessageOfType: Self.deleteTable, in: &batch)
    }
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("attribute 4"), "\(result.standardError)")
    #expect(survived)
  }
  /// `batch` with every element message's set name `zones_v…` changed to `zones_x…`, a set that does not exist: the
  /// kernel then finds the set by the message's set ID.
  static func renamingInterfaceSetsOfElementMessages(in batch: inout [UInt8]) -> Int {
    var renamed = 0
    var offset = 0
    let name = Array("zones_v".utf8)
    while offset < batch.count {
      let length = Int(batch[offset]) | Int(batch[offset + 1]) << 8 | Int(batch[offset + 2]) << 16
      if batch[offset + 5] == 10, batch[offset + 4] == 12,
        let at = (offset..<(offset + length - name.count)).first(where: {
          batch[$0..<($0 + name.count)].elementsEqual(name)
        })
      {
        batch[at + 6] = UInt8(ascii: "x")
        renamed += 1
      }
      offset += (length + 3) & ~3
    }
    return renamed
  }

  @Test(.kernelTests) func elementsAddedToAnInterfaceSetByItsIDStillFaceTheInterfaceGuard() throws {
    let testCase = try #require(ArtifactApplyTests.cases.first)
    let artifact = try ArtifactApplyTests.compiled(testCase).artifact
    var renamed = 0
    let forged = ArtifactForgeryKernelTests.forging(artifact.encoded()) {
      renamed = Self.renamingInterfaceSetsOfElementMessages(in: &$0)
    }
    #expect(renamed > 0)
    let lab = try NetworkLab(interfaces: [LabInterface("other0", hosts: ["192.0.2.1"])])
    defer { lab.close() }
    let result = try ArtifactApplyTests.apply(forged, in: lab)
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("do not exist here"), "\(result.standardError)")
    #expect(try !lab.nftListRuleset().contains(artifact.header.table))
  }
}
