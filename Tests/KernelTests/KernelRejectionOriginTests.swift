import Foundation
import NftablesBackend
import PolicyTestSupport
import Testing

/// A batch the kernel rejects is reported at the policy line and column of the object it rejected: a set element
/// at the rule it comes from (not the first rule of its map), a rule and a chain at their conduit, a set at the
/// gateway. Each test compiles a small site with `conduit compile`, damages one object of one kind in the batch the
/// way an older or differently built kernel would refuse it, reseals the artifact and applies it with `conduit apply`.
@Suite(.serialized) struct KernelRejectionOriginTests {
  static let policy = """
    site origins
    zone ops { level 3; security-level 2; network 10.30.0.0/16 }
    zone ctl { level 2; security-level 2; network 10.40.0.0/16 }
    zone dmz { level 3; security-level 2; network 10.50.0.0/16 }
    gateway gw {
      interface eth1 ops
      interface eth2 ctl
      interface eth3 dmz
    }
    conduit alpha {
      between ops and ctl
      security-level 2
      allow 10.30.0.1 -> 10.40.0.1 service tcp/502
    }
    conduit bravo {
      between ops and dmz
      security-level 2
      allow 10.30.0.1 -> 10.50.0.1 service tcp/443
    }

    """

  /// `policy.conduit:LINE:COLUMN` of `text` on the first line holding `line`.
  static func place(of text: String, in line: String) throws -> String {
    try #require(policyPlace(of: text, onLineWith: line, in: policy, file: "policy.conduit"))
  }

  /// Compiles the policy with the CLI and returns the artifact's bytes.
  static func compiledArtifact() throws -> [UInt8] {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-origins-\(UUID())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let source = directory.appendingPathComponent("policy.conduit")
    try Data(policy.utf8).write(to: source)
    let output = directory.appendingPathComponent("gw.nftb")
    let result = try ConduitExecutable.run(["compile", source.path, "--target", "nft", "-o", output.path])
    #expect(result.status == 0, "\(result.standardError)")
    return Array(try Data(contentsOf: output))
  }

  /// Applies the compiled artifact with `damage` done to its batch into a fresh gateway namespace; the output of
  /// `conduit apply`, and whether the namespace's ruleset stayed empty.
  static func applyDamaged(_ damage: (inout [UInt8]) throws -> Void) throws -> (CommandOutput, unchanged: Bool) {
    let bytes = try compiledArtifact()
    let artifact = try NftablesArtifact(decoding: bytes)
    let lab = try NetworkLab(
      interfaces: artifact.interfaces.enumerated().map { LabInterface($1, hosts: ["192.0.2.\($0 + 1)"]) })
    defer { lab.close() }
    var failure: Error?
    let forged = ArtifactForgeryKernelTests.forging(bytes) { batch in
      do { try damage(&batch) } catch { failure = error }
    }
    if let failure { throw failure }
    let result = try ArtifactApplyTests.apply(forged, in: lab)
    return (result, try !lab.nftListRuleset().contains("conduit"))
  }

  /// The message ranges of nf_tables type `type` in a batch.
  static func messages(ofType type: UInt8, in batch: [UInt8]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var offset = 0
    while offset + 20 <= batch.count {
      let length = Int(batch[offset]) | Int(batch[offset + 1]) << 8 | Int(batch[offset + 2]) << 16
      if batch[offset + 5] == 10, batch[offset + 4] == type { ranges.append(offset..<(offset + length)) }
      offset += (length + 3) & ~3
    }
    return ranges
  }

  /// Replaces `text` (NUL-terminated) by `replacement` of the same length in the first message of `type` that holds
  /// it.
  static func rename(_ text: String, to replacement: String, inFirstMessageOfType type: UInt8, in batch: inout [UInt8])
    throws
  {
    let needle = Array(text.utf8) + [0]
    for message in messages(ofType: type, in: batch) {
      for start in message.lowerBound...(message.upperBound - needle.count)
      where batch[start..<(start + needle.count)].elementsEqual(needle) {
        batch.replaceSubrange(start..<(start + needle.count), with: Array(replacement.utf8) + [0])
        return
      }
    }
    Issue.record("no message of type \(type) holds '\(text)'")
  }

  /// Appends `attribute` to the first message of `type` holding `text` (NUL-terminated), fixing its length.
  static func append(
    _ attribute: [UInt8], toFirstMessageOfType type: UInt8, holding text: String, in batch: inout [UInt8]
  ) {
    let needle = Array(text.utf8) + [0]
    for message in messages(ofType: type, in: batch)
    where batch[message].firstRange(of: needle) != nil {
      batch.insert(contentsOf: attribute, at: message.upperBound)
      let length = UInt32(message.count + attribute.count)
      withUnsafeBytes(of: length.littleEndian) {
        batch.replaceSubrange(message.lowerBound..<(message.lowerBound + 4), with: $0)
      }
      return
    }
    Issue.record("no message of type \(type) holds '\(text)'")
  }

  /// Expects `conduit apply` to have failed with the kernel's rejection of `object` from `place`, the namespace left
  /// as it was.
  static func expectRejection(
    _ result: CommandOutput, unchanged: Bool, at place: String, naming object: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    #expect(result.status == 1, "\(result.standardError)", sourceLocation: sourceLocation)
    #expect(
      result.standardError.contains("the kernel rejected \(object)"), "\(result.standardError)",
      sourceLocation: sourceLocation)
    #expect(
      result.standardError.contains("which comes from \(place);"), "\(result.standardError)",
      sourceLocation: sourceLocation)
    #expect(unchanged, sourceLocation: sourceLocation)
  }

  static let newChain: UInt8 = 3
  static let newRule: UInt8 = 6
  static let newSet: UInt8 = 9
  static let newSetElement: UInt8 = 12

  @Test(.kernelTests) func aRejectedElementNamesTheRuleItComesFrom() throws {
    let (result, unchanged) = try Self.applyDamaged { batch in
      try Self.rename("c_bravo", to: "c_bravX", inFirstMessageOfType: Self.newSetElement, in: &batch)
    }
    try Self.expectRejection(
      result, unchanged: unchanged, at: Self.place(of: "allow", in: "10.50.0.1 service tcp/443"), naming: "set element")
  }

  @Test(.kernelTests) func aRejectedRuleNamesItsConduit() throws {
    let (result, unchanged) = try Self.applyDamaged { batch in
      try Self.rename("c_bravo", to: "c_bravX", inFirstMessageOfType: Self.newRule, in: &batch)
    }
    try Self.expectRejection(result, unchanged: unchanged, at: Self.place(of: "bravo", in: "conduit bravo"))
  }

  @Test(.kernelTests) func aRejectedChainNamesItsConduit() throws {
    let (result, unchanged) = try Self.applyDamaged { batch in
      Self.append(
        ForgedBatchAttributeKernelTests.attribute(5, [0, 0, 0, 0]), toFirstMessageOfType: Self.newChain,
        holding: "c_bravo", in: &batch)
    }
    try Self.expectRejection(result, unchanged: unchanged, at: Self.place(of: "bravo", in: "conduit bravo"))
  }

  @Test(.kernelTests) func aRejectedSetNamesTheGateway() throws {
    let (result, unchanged) = try Self.applyDamaged { batch in
      Self.append(
        ForgedBatchAttributeKernelTests.attribute(8, [0, 0, 0, 7]), toFirstMessageOfType: Self.newSet,
        holding: "exact_flows_v4", in: &batch)
    }
    try Self.expectRejection(result, unchanged: unchanged, at: Self.place(of: "gw", in: "gateway gw"))
  }
}
