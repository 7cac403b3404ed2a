import FirewallIR
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyTestSupport
import Testing

@testable import NftablesBackend

/// Where the objects of a batch come from: every message has a place, every set element its own, an extended ACK
/// is decoded to the element it points at, and the artifact keeps the element places under its digest.
@Suite struct BatchOriginTests {
  static let site = """
    site origins
    zone ops { level 3; security-level 2; network 10.30.0.0/16 }
    zone ctl { level 2; security-level 2; network 10.40.0.0/16 }
    gateway gw {
      interface eth1 ops
      interface eth2 ctl
      management service ssh from 10.30.0.9
    }
    conduit alpha {
      between ops and ctl
      security-level 2
      allow 10.30.0.1 -> 10.40.0.1 service tcp/502
      allow 10.30.0.2 -> 10.40.0.1 service tcp/502
    }

    """

  /// `site.conduit:LINE:COLUMN` of `text` on the first line holding `line`.
  static func place(of text: String, in line: String) throws -> String {
    try #require(policyPlace(of: text, onLineWith: line, in: site, file: "site.conduit"))
  }

  static func compiled() throws -> (batch: NftablesBatch, ruleset: Ruleset) {
    let checked = try checkPolicy(text: site)
    #expect(!checked.diagnostics.hasErrors)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(), diagnostics: &diagnostics)
    return (NetlinkLinearizer().batch(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics)), ruleset)
  }

  static func batch() throws -> NftablesBatch { try compiled().batch }

  @Test func everyMessageHasAPlaceAndEveryElementItsOwn() throws {
    let batch = try Self.batch()
    let layout = try NetlinkBatchLayout(validating: batch.bytes)
    let gateway = try Self.place(of: "gw", in: "gateway gw")
    let conduit = try Self.place(of: "alpha", in: "conduit alpha")
    #expect(Set(layout.acknowledgedSequences) == Set(batch.origins.messagePlaces.keys))
    #expect(Set(batch.origins.messagePlaces.values) == [gateway, conduit])
    let elements = batch.origins.elementPlaces
    #expect(elements.count == layout.elementCount)
    let eth1 = try Self.place(of: "interface", in: "interface eth1")
    let eth2 = try Self.place(of: "interface", in: "interface eth2")
    let firstRule = try Self.place(of: "allow", in: "10.30.0.1 ->")
    let secondRule = try Self.place(of: "allow", in: "10.30.0.2 ->")
    let management = try Self.place(of: "management", in: "management service ssh")
    let tcpAndUDP = try Self.place(of: "gw", in: "gateway gw")
    #expect(Array(elements.prefix(2)) == [eth1, eth2])
    #expect(
      elements.contains(firstRule) && elements.contains(secondRule) && elements.contains(management),
      "\(elements) \(management)")
    #expect(elements.firstIndex(of: firstRule)! < elements.firstIndex(of: secondRule)!)
    #expect(Set(elements.compactMap { $0 }).isSubset(of: [eth1, eth2, firstRule, secondRule, management, tcpAndUDP]))
  }

  /// The first element message of `batch` holding at least two elements: its offset, sequence number and the
  /// offsets of its elements from the message's start.
  static func elementMessage(_ batch: [UInt8]) throws -> (offset: Int, sequence: UInt32, elements: [Int]) {
    var offset = 0
    while offset + 20 <= batch.count {
      let length = Int(NetlinkBatchLayout.u32(batch, offset))
      if batch[offset + 4] == UInt8(NetlinkConstant.messageNewSetElement) {
        let ranges = BatchOrigins.elementRanges(batch, message: offset..<(offset + length))
        if ranges.count >= 2 {
          return (offset, NetlinkBatchLayout.u32(batch, offset + 8), ranges.map { $0.lowerBound - offset })
        }
      }
      offset += (length + 3) & ~3
    }
    throw BatchOriginTestsError.noElementMessage
  }

  enum BatchOriginTestsError: Error { case noElementMessage }

  /// An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK and NETLINK_EXT_ACK: the error, the echoed header
  /// only, then the offset and text attributes.
  static func extendedAck(sequence: UInt32, errno: Int32, offset: UInt32, text: String) -> [UInt8] {
    func u16(_ value: UInt16) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    var textBytes = Array(text.utf8) + [0]
    let textAttribute = u16(UInt16(4 + textBytes.count)) + u16(1)
    textBytes += Array(repeating: 0, count: (4 - textBytes.count % 4) % 4)
    let attributes = u16(8) + u16(2) + u32(offset) + textAttribute + textBytes
    let echoed = u32(100) + u16(0x0A0C) + u16(0x0405) + u32(sequence) + u32(0)
    let body = u32(UInt32(bitPattern: -errno)) + echoed + attributes
    return u32(UInt32(16 + body.count)) + u16(2) + u16(0x0100 | 0x0200) + u32(sequence) + u32(0) + body
  }

  @Test func anExtendedAckIsDecodedToTheElementItPointsAt() throws {
    let batch = try Self.batch()
    let message = try Self.elementMessage(batch.bytes)
    let answer = Self.extendedAck(
      sequence: message.sequence, errno: ENOENT, offset: UInt32(message.elements[1] + 4), text: "bad\u{1B}[2J")
    let answers = KernelSession.answers(in: answer[...] + Self.extendedAck(sequence: 99, errno: 0, offset: 0, text: ""))
    #expect(answers.count == 2)
    let rejected = try #require(answers.first)
    #expect(rejected.sequence == message.sequence && rejected.code == ENOENT)
    #expect(rejected.attributeOffset == message.elements[1] + 4)
    #expect(rejected.message == "bad\\u{1B}[2J")
    let object = batch.origins.rejectedObject(
      sequence: rejected.sequence, attributeOffset: rejected.attributeOffset, in: batch.bytes)
    #expect(object.element == 1)
    let layout = try NetlinkBatchLayout(validating: batch.bytes)
    var before = 0
    var offset = 0
    while offset < message.offset {
      let length = Int(NetlinkBatchLayout.u32(batch.bytes, offset))
      before += BatchOrigins.elementRanges(batch.bytes, message: offset..<(offset + length)).count
      offset += (length + 3) & ~3
    }
    #expect(before + 1 < layout.elementCount)
    #expect(object.place == batch.origins.elementPlaces[before + 1])
    let whole = batch.origins.rejectedObject(sequence: message.sequence, attributeOffset: 8, in: batch.bytes)
    #expect(whole.element == nil && whole.place == batch.origins.place(ofMessage: message.sequence))
    let description = KernelRejection(object: object, errno: ENOENT, kernelMessage: rejected.message).description
    #expect(description.hasPrefix("the kernel rejected set element 2 of message \(message.sequence) ("))
    #expect(description.contains("which comes from \(object.place!); nothing was changed"))
  }

  @Test func theArtifactKeepsElementPlacesAndRefusesDamagedOnes() throws {
    let (batch, ruleset) = try Self.compiled()
    let artifact = try NftablesArtifact(
      batch: batch, flowTable: FlowTable(ruleset), compiler: "conduit tests", site: "origins", gateway: "gw",
      mitigations: [], effectiveDate: "2026-12-01", policyDigest: String(repeating: "ab", count: 32), sources: [])
    let bytes = artifact.encoded()
    let read = try NftablesArtifact(decoding: bytes)
    #expect(read.batch.origins == batch.origins)
    #expect(read.encoded() == bytes)
    #expect(read.otherSections.isEmpty)

    let sections = ArtifactFormatTests.Forgery.sections(bytes)
    let index = try #require(sections.firstIndex { $0.type == NftablesArtifact.SectionType.elementOrigins })
    func refusal(_ edit: (inout [UInt8]) -> Void) -> String? {
      var edited = sections
      edit(&edited[index].body)
      return ArtifactFormatTests.refusal(ArtifactFormatTests.Forgery.encode(edited))
    }
    #expect(refusal { $0.removeLast(4) }?.contains("its element origins name") == true)
    #expect(
      refusal { $0.replaceSubrange(($0.count - 4)..<$0.count, with: [0, 0, 1, 0]) }?.contains("place 256") == true)
    #expect(refusal { $0[6] = 0x1B }?.contains("control characters") == true)
    #expect(
      refusal { body in
        let line = 6 + (Int(body[4]) << 8 | Int(body[5])) + 4 + 4
        body.replaceSubrange(line..<(line + 4), with: [0, 0, 0, 0])
      }?.contains("names no file, line and column") == true)
    #expect(refusal { $0 = [0, 0] }?.contains("truncated") == true)
    var without = sections
    without.remove(at: index)
    let withoutOrigins = try NftablesArtifact(decoding: ArtifactFormatTests.Forgery.encode(without))
    #expect(withoutOrigins.batch.origins.elements.isEmpty)
    #expect(withoutOrigins.batch.origins.messagePlaces == batch.origins.messagePlaces)
  }
}
