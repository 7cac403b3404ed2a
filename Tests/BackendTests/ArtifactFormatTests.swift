import Crypto
import FirewallIR
import Foundation
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyTestSupport
import Testing

/// The nft artifact, format 2: every byte under the digest; what the header says about the batch derived from the
/// batch or checked against it; sections a later conduit adds kept or refused as their writer asks.
@Suite struct ArtifactFormatTests {
  static let site =
    "site plant\n" + TestSites.operationsAndControl + """
      gateway gw {
        interface eth1 ops
        interface eth2 ctl
      }
      conduit ops-ctl {
        between ops and ctl
        security-level 3; owner "ot"; justification "polling"
        allow role hmi -> plc-1 service modbus
        allow eng-1 -> plc-2 service ssh log
      }

      """

  static func artifact() throws -> NftablesArtifact {
    let checked = try checkPolicy(text: site)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(), diagnostics: &diagnostics)
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    return try NftablesArtifact(
      batch: NetlinkLinearizer().batch(ruleset, names: names), flowTable: FlowTable(ruleset), compiler: "conduit tests",
      site: ruleset.site, gateway: ruleset.gateway, mitigations: [], effectiveDate: "2026-12-01",
      policyDigest: String(repeating: "ab", count: 32), sources: ["plant.conduit"])
  }

  /// An artifact's sections, and the bytes of an artifact made of sections with a correct digest: what a forger
  /// who knows the format writes.
  enum Forgery {
    static func sections(_ bytes: [UInt8]) -> [(type: UInt16, body: [UInt8])] {
      var result: [(UInt16, [UInt8])] = []
      var offset = 10
      while true {
        let type = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        let length = bytes[(offset + 2)..<(offset + 10)].reduce(0) { $0 << 8 | Int($1) }
        if type == 0 { return result }
        result.append((type, Array(bytes[(offset + 10)..<(offset + 10 + length)])))
        offset += 10 + length
      }
    }

    static func encode(_ sections: [(type: UInt16, body: [UInt8])], version: UInt16 = 2) -> [UInt8] {
      var bytes = NftablesArtifact.magic + [UInt8(version >> 8), UInt8(version & 0xFF)]
      for section in sections {
        bytes += [UInt8(section.type >> 8), UInt8(section.type & 0xFF)]
        bytes += withUnsafeBytes(of: UInt64(section.body.count).bigEndian) { Array($0) }
        bytes += section.body
      }
      bytes += [0, 0] + withUnsafeBytes(of: UInt64(32).bigEndian) { Array($0) }
      return bytes + SHA256.hash(data: bytes)
    }

    /// The artifact with its header's JSON object changed by `edit`, digest recomputed.
    static func editingHeader(_ bytes: [UInt8], _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
      var sections = Self.sections(bytes)
      var object = try #require(try JSONSerialization.jsonObject(with: Data(sections[0].body)) as? [String: Any])
      edit(&object)
      sections[0].body = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
      return encode(sections)
    }

    /// The artifact with its batch changed by `edit`, digest recomputed.
    static func editingBatch(_ bytes: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
      var sections = Self.sections(bytes)
      edit(&sections[1].body)
      return encode(sections)
    }
  }

  static func refusal(_ bytes: [UInt8]) -> String? {
    do {
      _ = try NftablesArtifact(decoding: bytes)
      return nil
    } catch {
      return error.description
    }
  }

  @Test func readsBackWhatItWrites() throws {
    let artifact = try Self.artifact()
    let read = try NftablesArtifact(decoding: artifact.encoded())
    #expect(read.header == artifact.header)
    #expect(read.batch.bytes == artifact.batch.bytes)
    #expect(read.batch.origins == artifact.batch.origins)
    #expect(read.flowTable == artifact.flowTable)
    #expect(read.interfaces == ["eth1", "eth2"])
    #expect(read.header.table == "conduit_plant")
    #expect(!read.batch.origins.messagePlaces.isEmpty)
    #expect(read.batch.origins.elements.count == read.layout.elementCount)
    #expect(read.batch.origins.elementPlaces.allSatisfy { $0 != nil })
    #expect(read.layout.acknowledgedSequences.count > 10)
    #expect(
      read.header.compileDigest
        == NftablesArtifact.compileDigest(
          policyDigest: String(repeating: "ab", count: 32), gateway: "gw", mitigations: [], effectiveDate: "2026-12-01")
    )
  }

  @Test func controlCharactersInSourcePathsAreWrittenAsEscapes() throws {
    let artifact = try Self.artifact()
    let named = try NftablesArtifact(
      batch: artifact.batch, flowTable: artifact.flowTable, compiler: "conduit tests", site: "plant", gateway: "gw",
      mitigations: [], effectiveDate: "2026-12-01", policyDigest: artifact.header.policyDigest,
      sources: ["plant\u{7}.conduit", "assets\n.csv"])
    let read = try NftablesArtifact(decoding: named.encoded())
    #expect(read.header.sources == ["plant\\u{7}.conduit", "assets\\u{A}.csv"])
  }

  @Test func everyByteIsUnderTheDigest() throws {
    let bytes = try Self.artifact().encoded()
    var accepted: [Int] = []
    for position in bytes.indices {
      var flipped = bytes
      flipped[position] ^= 1 << UInt8(position % 8)
      if Self.refusal(flipped) == nil { accepted.append(position) }
    }
    #expect(accepted.count == 0, "one flipped bit accepted at offsets \(accepted.prefix(20)) of \(bytes.count)")
  }

  @Test func everyTruncationAndAnyTrailingByteIsRefused() throws {
    let bytes = try Self.artifact().encoded()
    let accepted = (0..<bytes.count).filter { Self.refusal(Array(bytes.prefix($0))) == nil }
    #expect(accepted.isEmpty)
    #expect(Self.refusal(bytes + [0])?.contains("end section") == true)
    #expect(Self.refusal(Forgery.encode(Forgery.sections(bytes)) + [0]) != nil)
    #expect(Self.refusal(Forgery.encode(Forgery.sections(bytes))) == nil)
  }

  @Test func olderAndNewerFormatsAreRefusedWithTheReason() throws {
    let sections = Forgery.sections(try Self.artifact().encoded())
    #expect(Self.refusal(Forgery.encode(sections, version: 1))?.contains("written by an older conduit") == true)
    #expect(Self.refusal(Forgery.encode(sections, version: 3))?.contains("does not read (it reads 2)") == true)
    do {
      _ = try NftablesArtifact(decoding: Array("zone a {}\n".utf8))
      Issue.record("a policy was read as an artifact")
    } catch {
      #expect(error.isNotAnArtifact)
    }
  }

  /// Forged artifacts with a correct digest: each refused for what the header claims against the batch.
  @Test func theHeaderCannotContradictTheBatch() throws {
    let bytes = try Self.artifact().encoded()
    let otherTable = try Forgery.editingHeader(bytes) { $0["table"] = "conduit_other" }
    #expect(Self.refusal(otherTable)?.contains("names table 'conduit_other' but its batch changes") == true)
    let unknownOrigin = try Forgery.editingHeader(bytes) { $0["origins"] = ["999999": "plant.conduit:1:1"] }
    #expect(Self.refusal(unknownOrigin)?.contains("origin of message '999999'") == true)
    let laterDay = try Forgery.editingHeader(bytes) { $0["effectiveDate"] = "2030-01-01" }
    #expect(Self.refusal(laterDay)?.contains("compile digest does not match") == true)
    let escape = try Forgery.editingHeader(bytes) { $0["gateway"] = "gw\u{1B}[2J" }
    #expect(Self.refusal(escape)?.contains("control characters ('gw\\u{1B}[2J')") == true)
    let forgedOrigin = try Forgery.editingHeader(bytes) { header in
      var origins = header["origins"] as! [String: String]
      origins[origins.keys.sorted()[0]] = "plant.conduit:12:3\nconduit: applied"
      header["origins"] = origins
    }
    #expect(Self.refusal(forgedOrigin)?.contains("control characters") == true)
    let notAPlace = try Forgery.editingHeader(bytes) { header in
      var origins = header["origins"] as! [String: String]
      origins[origins.keys.sorted()[0]] = "somewhere"
      header["origins"] = origins
    }
    #expect(Self.refusal(notAPlace)?.contains("which is no file:line:col") == true)
    let notADate = try Forgery.editingHeader(bytes) { $0["effectiveDate"] = "yesterday" }
    #expect(Self.refusal(notADate)?.contains("malformed effective date 'yesterday'") == true)
    let malformed = try Forgery.editingHeader(bytes) { $0["sources"] = 7 }
    #expect(Self.refusal(malformed)?.contains("header is malformed") == true)
  }

  @Test func theBatchTouchesOnlyConduitsTableAndAsksForEveryAnswer() throws {
    let bytes = try Self.artifact().encoded()
    let name = Array("conduit_plant".utf8) + [0]
    let foreign = Forgery.editingBatch(bytes) { batch in
      let range = try! #require(Self.lastRange(of: name, in: batch))
      batch.replaceSubrange(range, with: Array("filter_plants".utf8) + [0])
    }
    #expect(Self.refusal(foreign)?.contains("names 2 tables") == true)
    let padded = Forgery.editingBatch(bytes) { batch in
      let range = try! #require(Self.lastRange(of: name, in: batch))
      batch.replaceSubrange(range, with: Array("conduit_pla".utf8) + [0, 0, 0])
    }
    #expect(Self.refusal(padded)?.contains("names no table") == true)
    let renamed = Forgery.editingBatch(bytes) { batch in
      var offset = 0
      while let range = Self.range(of: name, in: batch, from: offset) {
        batch.replaceSubrange(range, with: Array("xonduit_plant".utf8) + [0])
        offset = range.upperBound
      }
    }
    let renamedHeader = try Forgery.editingHeader(renamed) { $0["table"] = "xonduit_plant" }
    #expect(Self.refusal(renamedHeader)?.contains("not one of conduit's") == true)
    let unacknowledged = Forgery.editingBatch(bytes) { batch in
      let second = Int(batch[0]) | Int(batch[1]) << 8 | Int(batch[2]) << 16
      batch[second + 6] &= ~UInt8(4)  // NLM_F_ACK in the flags' low byte
    }
    #expect(Self.refusal(unacknowledged)?.contains("does not ask for an acknowledgement") == true)
    let dropEnd = Forgery.editingBatch(bytes) { batch in batch.removeLast(20) }
    #expect(Self.refusal(dropEnd)?.contains("batch is malformed") == true)
  }

  @Test func theInterfacesComeFromTheBatch() throws {
    let bytes = try Self.artifact().encoded()
    let renamed = Forgery.editingBatch(bytes) { batch in
      var offset = 0
      while let range = Self.range(of: Array("eth1".utf8) + [0], in: batch, from: offset) {
        batch.replaceSubrange(range, with: Array("wan9".utf8) + [0])
        offset = range.upperBound
      }
    }
    #expect(try NftablesArtifact(decoding: renamed).interfaces == ["eth2", "wan9"])
  }

  @Test func sectionsOfALaterConduitAreKeptOrRefusedAsTheirWriterAsks() throws {
    let sections = Forgery.sections(try Self.artifact().encoded())
    let optional = try NftablesArtifact(decoding: Forgery.encode(sections + [(type: 9, body: [1, 2, 3])]))
    #expect(optional.otherSections == [NftablesArtifact.Section(type: 9, body: [1, 2, 3])])
    #expect(try NftablesArtifact(decoding: optional.encoded()).otherSections == optional.otherSections)
    let required = Forgery.encode(sections + [(type: 0x8009, body: [])])
    #expect(Self.refusal(required)?.contains("section 9, which its writer requires") == true)
    let reordered = Forgery.encode([sections[0], sections[2], sections[1]])
    #expect(Self.refusal(reordered)?.contains("out of order") == true)
    let twice = Forgery.encode(sections + [sections[2]])
    #expect(Self.refusal(twice)?.contains("out of order") == true)
    #expect(Self.refusal(Forgery.encode(Array(sections.prefix(2))))?.contains("lacks a required section") == true)
    let artifact = try Self.artifact()
    #expect(throws: NftablesArtifact.ReadError.self) {
      try NftablesArtifact(
        batch: artifact.batch, flowTable: artifact.flowTable, compiler: "conduit tests", site: nil, gateway: nil,
        mitigations: [], effectiveDate: "2026-12-01", policyDigest: artifact.header.policyDigest, sources: [],
        otherSections: [NftablesArtifact.Section(type: 2, body: [])])
    }
  }

  @Test func theFlowTableIsCheckedRecordByRecord() throws {
    var sections = Forgery.sections(try Self.artifact().encoded())
    let records = sections[2].body
    for (position, value, reason) in [
      (0, 5, "unknown family"), (1, 58, "does not belong"), (4, 0xFF, "out of order"), (8 + 5, 1, "padded"),
    ] as [(Int, UInt8, String)] {
      sections[2].body = records
      sections[2].body[position] = value
      #expect(Self.refusal(Forgery.encode(sections))?.contains(reason) == true, "\(reason)")
    }
    sections[2].body = records + [0]
    #expect(Self.refusal(Forgery.encode(sections))?.contains("whole number of records") == true)
  }

  @Test func theFileOfAnArtifactReadIsTheBytesReadAndTheirDigest() throws {
    let artifact = try Self.artifact()
    let built = artifact.encodedFile()
    #expect(Array(built.parts.joined()) == artifact.encoded())
    #expect(built.sha256 == NftablesArtifact.sha256(artifact.encoded()))
    // A header written with other spacing and a key this conduit does not know is given back as it was written.
    let respaced = try Forgery.editingHeader(artifact.encoded()) { $0["written by"] = "another conduit" }
    var sections = Forgery.sections(respaced)
    sections[0].body = Array("\n  ".utf8) + sections[0].body
    let bytes = Forgery.encode(sections)
    let read = try NftablesArtifact(decoding: bytes)
    #expect(read.header == artifact.header)
    #expect(Array(read.encodedFile().parts.joined()) == bytes)
    #expect(read.encodedFile().sha256 == NftablesArtifact.sha256(bytes))
    #expect(read.encoded() == bytes)
  }

  @Test func aRecordedArtifactIsReadOnlyWithTheDigestRecordedAndNotThroughALink() throws {
    let artifact = try Self.artifact()
    let file = artifact.encodedFile()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("confirmed.nftb").path
    try Data(file.parts.joined()).write(to: URL(fileURLWithPath: path))
    let read = try NftablesArtifact.readRecorded(contentsOf: path, sha256: file.sha256)
    #expect(read.header == artifact.header)
    #expect(read.batch.bytes == artifact.batch.bytes)
    #expect(read.batch.origins == artifact.batch.origins)
    #expect(read.layout == artifact.layout)
    #expect(read.flowTable == artifact.flowTable)
    #expect(read.encodedFile().sha256 == file.sha256)
    let other = String(repeating: "0", count: 64)
    #expect {
      try NftablesArtifact.readRecorded(contentsOf: path, sha256: other)
    } throws: { error in
      (error as? NftablesArtifact.ReadError)?.description.contains("not the artifact recorded") == true
    }
    let link = directory.appendingPathComponent("link.nftb").path
    #expect(symlink(path, link) == 0)
    #expect(throws: NftablesArtifact.ReadError.self) {
      try NftablesArtifact.readRecorded(contentsOf: link, sha256: file.sha256)
    }
    #expect(try NftablesArtifact.read(contentsOf: link).encodedFile().sha256 == file.sha256)
  }

  @Test func aFileIsReadOnceAndOnlyWhenRegular() throws {
    let bytes = try Self.artifact().encoded()
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("plant.nftb").path
    try Data(bytes).write(to: URL(fileURLWithPath: file))
    let read = try NftablesArtifact.read(contentsOf: file)
    #expect(read.encoded() == bytes)
    let fifo = directory.appendingPathComponent("fifo").path
    #expect(mkfifo(fifo, 0o600) == 0)
    for path in [fifo, directory.path, "/dev/null", directory.appendingPathComponent("absent").path] {
      #expect(throws: NftablesArtifact.ReadError.self) { try NftablesArtifact.read(contentsOf: path) }
    }
  }

  static func range(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Range<Int>? {
    guard needle.count <= haystack.count else { return nil }
    var index = start
    while index + needle.count <= haystack.count {
      if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index..<(index + needle.count) }
      index += 1
    }
    return nil
  }

  static func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
    var found: Range<Int>?
    var offset = 0
    while let range = range(of: needle, in: haystack, from: offset) {
      found = range
      offset = range.lowerBound + 1
    }
    return found
  }
}
