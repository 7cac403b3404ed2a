import Crypto
import FirewallIR
import Foundation
import NftablesBackend
import PolicyTestSupport
import Testing

/// Artifacts mutated at random, and batches forged with attributes the kernel reads but conduit never writes: the
/// decoder never traps, and whatever it accepts touches only conduit's table and does no more than match packets.
@Suite struct HostileArtifactTests {
  typealias Forgery = ArtifactFormatTests.Forgery

  /// `batch` with `attribute` appended to the first nf_tables message of type `type`, its length fixed.
  static func appending(_ attribute: [UInt8], toFirstMessageOfType type: UInt8, in batch: inout [UInt8]) -> Bool {
    var offset = 0
    while offset < batch.count {
      let length = Int(batch[offset]) | Int(batch[offset + 1]) << 8 | Int(batch[offset + 2]) << 16
      if batch[offset + 5] == 10, batch[offset + 4] == type {
        batch.insert(contentsOf: attribute, at: offset + length)
        withUnsafeBytes(of: UInt32(length + attribute.count).littleEndian) {
          batch.replaceSubrange(offset..<(offset + 4), with: $0)
        }
        return true
      }
      offset += (length + 3) & ~3
    }
    return false
  }

  /// A netlink attribute, padded to four bytes.
  static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
    var bytes = withUnsafeBytes(of: UInt16(4 + value.count).littleEndian) { Array($0) }
    bytes += withUnsafeBytes(of: type.littleEndian) { Array($0) } + value
    return bytes + Array(repeating: 0, count: (4 - bytes.count % 4) % 4)
  }

  static func refusal(of bytes: [UInt8]) -> String? {
    do {
      _ = try NftablesArtifact(decoding: bytes)
      return nil
    } catch { return error.description }
  }

  static let newTable: UInt8 = 0
  static let deleteTable: UInt8 = 2
  static let newSetElement: UInt8 = 12

  /// Attributes a forger appends: what, to which message type, the attribute, and the refusal expected.
  static let forgedAttributes: [(String, UInt8, [UInt8], String)] = [
    ("a second table name", deleteTable, attribute(1, Array("keep_me".utf8) + [0]), "more than one attribute 1"),
    ("a table handle", deleteTable, attribute(4, [0, 0, 0, 0, 0, 0, 0, 1]), "carries attribute 4"),
    ("dormant or socket-owned table flags", newTable, attribute(2, [0, 0, 0, 3]), "carries attribute 2"),
    ("a second set name", newSetElement, attribute(2, Array("other".utf8) + [0]), "more than one attribute 2"),
    ("an attribute type beyond those conduit writes", newTable, attribute(64, [0, 0, 0, 1]), "carries attribute 64"),
    ("a second attribute of a high type", newTable, attribute(200, []) + attribute(200, []), "carries attribute 200"),
  ]

  @Test(arguments: forgedAttributes)
  func aMessageWithAnAttributeConduitNeverWritesIsRefused(
    _ what: String, _ messageType: UInt8, _ attribute: [UInt8], _ expected: String
  ) throws {
    let encoded = try ArtifactFormatTests.artifact().encoded()
    var appended = false
    let forged = Forgery.editingBatch(encoded) {
      appended = Self.appending(attribute, toFirstMessageOfType: messageType, in: &$0)
    }
    #expect(appended, "the batch holds a message of type \(messageType)")
    let refusal = Self.refusal(of: forged)
    #expect(refusal?.contains(expected) == true, "\(what): \(refusal ?? "accepted")")
  }

  @Test(arguments: [UInt16(0x08), 0x100, 0x200])
  func aMessageWithFlagsConduitNeverSetsIsRefused(_ flag: UInt16) throws {
    let encoded = try ArtifactFormatTests.artifact().encoded()
    let forged = Forgery.editingBatch(encoded) { batch in
      let first = (Int(batch[0]) | Int(batch[1]) << 8 + 3) & ~3
      batch[first + 6] |= UInt8(flag & 0xFF)
      batch[first + 7] |= UInt8(flag >> 8)
    }
    let refusal = Self.refusal(of: forged)
    #expect(refusal?.contains("beyond the request, create and append") == true, "\(refusal ?? "accepted")")
  }

  @Test func aVerdictThatQueuesPacketsToUserspaceIsRefused() throws {
    let encoded = try ArtifactFormatTests.artifact().encoded()
    let accept: [UInt8] = [12, 0, 2, 128, 8, 0, 1, 0, 0, 0, 0, 1]
    var found = false
    let forged = Forgery.editingBatch(encoded) { batch in
      guard
        let position = (0..<(batch.count - accept.count)).first(where: {
          batch[$0..<($0 + accept.count)].elementsEqual(accept)
        })
      else { return }
      found = true
      batch[position + accept.count - 1] = 3
    }
    #expect(found, "the batch holds an accept verdict")
    let refusal = Self.refusal(of: forged)
    #expect(refusal?.contains("with a value conduit never sends") == true, "\(refusal ?? "accepted")")
  }

  /// The offset of the name attribute of the first `log` expression in `batch`.
  static func logExpression(in batch: [UInt8]) -> Int? {
    let name: [UInt8] = [8, 0, 1, 0] + Array("log".utf8) + [0]
    return (0..<(batch.count - name.count)).first { batch[$0..<($0 + name.count)].elementsEqual(name) }
  }

  @Test func anExpressionThatCopiesPacketsElsewhereIsRefused() throws {
    let encoded = try ArtifactFormatTests.artifact().encoded()
    var found = false
    let forged = Forgery.editingBatch(encoded) { batch in
      guard let position = Self.logExpression(in: batch) else { return }
      found = true
      batch.replaceSubrange((position + 4)..<(position + 7), with: Array("dup".utf8))
    }
    #expect(found, "the batch holds a log expression")
    let refusal = Self.refusal(of: forged)
    #expect(refusal?.contains("expression conduit never sends") == true, "\(refusal ?? "accepted")")
  }

  @Test func aLogExpressionThatSendsPacketsToANetlinkGroupIsRefused() throws {
    let encoded = try ArtifactFormatTests.artifact().encoded()
    var found = false
    let forged = Forgery.editingBatch(encoded) { batch in
      guard let position = Self.logExpression(in: batch) else { return }
      found = true
      let prefixType = position + 8 + 4 + 2
      #expect(batch[prefixType] == 2, "the log expression's first attribute is its prefix")
      batch[prefixType] = 1
    }
    #expect(found, "the batch holds a log expression")
    let refusal = Self.refusal(of: forged)
    #expect(refusal?.contains("carries attribute 1") == true, "\(refusal ?? "accepted")")
  }

  /// One random change to `bytes`: a flipped bit, an overwritten byte or 16/32-bit word with an edge value, an
  /// inserted or deleted run, or a truncation.
  static func mutate(_ bytes: inout [UInt8], _ random: inout SeededGenerator) {
    guard !bytes.isEmpty else {
      bytes = [UInt8.random(in: 0...255, using: &random)]
      return
    }
    let at = Int.random(in: 0..<bytes.count, using: &random)
    let edges: [UInt32] = [0, 1, 3, 4, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000, 20, 16]
    switch Int.random(in: 0..<6, using: &random) {
    case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
    case 1: bytes[at] = UInt8.random(in: 0...255, using: &random)
    case 2:
      let value = edges.randomElement(using: &random)!
      let width = Bool.random(using: &random) ? 2 : 4
      for index in 0..<width where at + index < bytes.count {
        bytes[at + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))
      }
    case 3:
      let run = (0..<Int.random(in: 1...8, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      bytes.insert(contentsOf: run, at: at)
    case 4: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...16, using: &random)))
    default: bytes.removeSubrange(at...)
    }
  }

  @Test(arguments: try TestSeeds.seeds([1, 2, 3]))
  func mutatedArtifactsAreReadOrRefusedNeverTrapped(seed: UInt64) throws {
    print("mutatedArtifactsAreReadOrRefusedNeverTrapped seed \(seed)")
    var random = SeededGenerator(seed: seed)
    let encoded = try ArtifactFormatTests.artifact().encoded()
    let sections = Forgery.sections(encoded)
    var accepted = 0
    for round in 0..<1500 {
      var candidate: [UInt8]
      let target = round % 4
      if target == 3 {
        candidate = encoded
        for _ in 0..<Int.random(in: 1...3, using: &random) { Self.mutate(&candidate, &random) }
      } else {
        var mutated = sections
        for _ in 0..<Int.random(in: 1...3, using: &random) { Self.mutate(&mutated[target].body, &random) }
        candidate = Forgery.encode(mutated)
      }
      let artifact: NftablesArtifact
      do { artifact = try NftablesArtifact(decoding: candidate) } catch {
        #expect(!error.description.isEmpty)
        continue
      }
      accepted += 1
      #expect(artifact.header.table == artifact.layout.table, "seed \(seed) round \(round)")
      #expect(artifact.layout.table.hasPrefix("conduit"), "seed \(seed) round \(round)")
      #expect(try NetlinkBatchLayout(validating: artifact.batch.bytes) == artifact.layout)
    }
    print("mutatedArtifactsAreReadOrRefusedNeverTrapped seed \(seed): \(accepted) of 1500 accepted")
  }

  @Test func aHugeSparseFileIsRefusedBeforeAnythingIsAllocatedForIt() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-sparse-\(UUID().uuidString).nftb")
    defer { try? FileManager.default.removeItem(at: url) }
    let size = UInt64(200) << 30
    var start = NftablesArtifact.magic + [0, 2, 0x80, 1]
    start += withUnsafeBytes(of: (size - 62).bigEndian) { Array($0) }
    try Data(start).write(to: url)
    let handle = try FileHandle(forWritingTo: url)
    try handle.truncate(atOffset: size)
    try handle.close()
    do {
      _ = try NftablesArtifact.read(contentsOf: url.path)
      Issue.record("a 200 GiB artifact is read")
    } catch {
      #expect(!error.isNotAnArtifact)
      #expect(error.description.contains("more than an artifact can hold (1024 MiB)"), "\(error)")
    }
  }

  @Test func aDeeplyNestedHeaderIsRefusedWithoutExhaustingTheStack() throws {
    let encoded = try ArtifactFormatTests.artifact().encoded()
    var sections = Forgery.sections(encoded)
    let depth = 200_000
    sections[0].body = Array(
      ("{\"x\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        + "}").utf8)
    let refusal = Self.refusal(of: Forgery.encode(sections))
    #expect(refusal?.contains("header is malformed") == true, "\(refusal ?? "accepted")")
  }
}

/// `apply --netns NAME` names a namespace under /run/netns; a path does not lead out of it.
@Suite struct NetworkNamespaceNameTests {
  @Test(arguments: ["../../proc/1/ns/net", "a/b", "..", ".", ""])
  func aNamespaceNameThatIsAPathIsRefusedBeforeAnythingIsOpened(_ name: String) {
    do {
      try KernelSession.enterNetworkNamespace(name)
      Issue.record("'\(name)' is entered")
    } catch {
      #expect("\(error)".contains("is not a network namespace name"), "\(error)")
    }
  }
}
