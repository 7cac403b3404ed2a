import Crypto
import Foundation
import NftablesBackend
import Testing

/// Artifacts forged by someone who knows the format and recomputes its digest: whatever they say, `apply` sends
/// nothing that touches a table other than conduit's, and nothing it cannot account an answer for.
@Suite(.serialized) struct ArtifactForgeryKernelTests {
  /// `bytes` with the batch section's body changed by `edit` and the digest at the end recomputed.
  static func forging(_ bytes: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
    var sections: [(type: [UInt8], body: [UInt8])] = []
    var offset = 10
    while bytes[offset] != 0 || bytes[offset + 1] != 0 {
      let length = bytes[(offset + 2)..<(offset + 10)].reduce(0) { $0 << 8 | Int($1) }
      sections.append((Array(bytes[offset..<(offset + 2)]), Array(bytes[(offset + 10)..<(offset + 10 + length)])))
      offset += 10 + length
    }
    edit(&sections[1].body)
    var forged = Array(bytes.prefix(10))
    for section in sections {
      forged += section.type + withUnsafeBytes(of: UInt64(section.body.count).bigEndian) { Array($0) } + section.body
    }
    forged += [0, 0] + withUnsafeBytes(of: UInt64(32).bigEndian) { Array($0) }
    return forged + SHA256.hash(data: forged)
  }

  @Test(.kernelTests) func aForgedBatchThatDeletesAForeignTableIsRefusedAndTheTableSurvives() throws {
    let testCase = try #require(ArtifactApplyTests.cases.first)
    let artifact = try ArtifactApplyTests.compiled(testCase).artifact
    let table = Array(artifact.header.table.utf8)
    let foreign = Array("keep_me".utf8) + Array(repeating: UInt8(ascii: "x"), count: table.count - 7)
    let forged = Self.forging(artifact.encoded()) { batch in
      let position = try! #require(Self.firstRange(of: table + [0], in: batch, after: 2))
      batch.replaceSubrange(position, with: foreign + [0])
    }
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let foreignName = String(decoding: foreign, as: UTF8.self)
    try lab.loadNftables(script: "table inet \(foreignName) {\n  chain c {\n    counter\n  }\n}\n")
    let result = try ArtifactApplyTests.apply(forged, in: lab)
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("names 2 tables"))
    #expect(try lab.runInGateway("nft", ["list", "table", "inet", foreignName]).status == 0)
    #expect(try !lab.nftListRuleset().contains(artifact.header.table))
  }

  @Test(.kernelTests) func aBatchWhoseMessagesDoNotAllAskForAnAnswerIsRefused() throws {
    let testCase = try #require(ArtifactApplyTests.cases.first)
    let artifact = try ArtifactApplyTests.compiled(testCase).artifact
    let forged = Self.forging(artifact.encoded()) { batch in
      var offset = 0
      while offset < batch.count {
        let length = Int(batch[offset]) | Int(batch[offset + 1]) << 8 | Int(batch[offset + 2]) << 16
        if batch[offset + 5] == 10 { batch[offset + 6] &= ~UInt8(4) }
        offset += (length + 3) & ~3
      }
    }
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let result = try ArtifactApplyTests.apply(forged, in: lab)
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("does not ask for an acknowledgement"))
    #expect(try !lab.nftListRuleset().contains(artifact.header.table))
  }

  /// The first occurrence of `needle` in the `skip`-th message or later.
  static func firstRange(of needle: [UInt8], in haystack: [UInt8], after skip: Int) -> Range<Int>? {
    var offset = 0
    for _ in 0..<skip {
      offset += (Int(haystack[offset]) | Int(haystack[offset + 1]) << 8 | Int(haystack[offset + 2]) << 16 + 3) & ~3
    }
    while offset + needle.count <= haystack.count {
      if haystack[offset..<(offset + needle.count)].elementsEqual(needle) { return offset..<(offset + needle.count) }
      offset += 1
    }
    return nil
  }
}
