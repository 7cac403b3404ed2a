import Crypto
import FirewallIR
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyTestSupport
import Testing

/// The file a rollback restores from (`restore.bin`, `SavedTables`): what is written reads back equal, and a file
/// that was damaged, cut short or forged to touch another table is refused before anything could be sent.
@Suite struct SavedTablesFormatTests {
  static let table = "conduit_plant"

  /// The messages that create the table of `ArtifactFormatTests.site` with an identity chain: the batch's own
  /// messages from its last NEWTABLE on, without the batch's begin and end.
  static func tableMessages() throws -> [[UInt8]] {
    let checked = try checkPolicy(text: ArtifactFormatTests.site)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(), diagnostics: &diagnostics)
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let identity = NftablesIdentity(
      compiler: "conduit tests", site: ruleset.site, gateway: ruleset.gateway,
      compileDigest: String(repeating: "cd", count: 32))
    let bytes = NetlinkLinearizer().batch(ruleset, names: names, identity: identity).bytes
    var messages: [[UInt8]] = []
    var offset = 0
    while offset + 20 <= bytes.count {
      let length = bytes[offset..<(offset + 4)].reversed().reduce(0) { $0 << 8 | Int($1) }
      let isNftables = bytes[offset + 5] == 10
      let type = bytes[offset + 4]
      if isNftables, type == newTable { messages = [] }
      if isNftables, [newTable, newChain, newRule, newSet, newSetElement].contains(type) {
        messages.append(Array(bytes[offset..<(offset + length)]))
      }
      offset += (length + 3) & ~3
    }
    return messages
  }

  static let newTable: UInt8 = 0
  static let newChain: UInt8 = 3
  static let newRule: UInt8 = 6
  static let newSet: UInt8 = 9
  static let newSetElement: UInt8 = 12

  static func saved() throws -> SavedTables {
    try SavedTables(removing: [table], tables: [LiveTable(name: table, messages: tableMessages())])
  }

  /// The bytes `SavedTables.encoded` would write for these parts, with a correct digest, but without the checks
  /// of `LiveTable`: what a forger who knows the format writes. `claimedCount` overrides a table's message count.
  static func forged(removing: [String], tables: [(String, [[UInt8]])], claimedCount: Int? = nil) -> [UInt8] {
    var out = Array("CDTSAVE\n".utf8)
    func u32(_ value: Int) { out += withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) } }
    func string(_ text: String) {
      u32(text.utf8.count)
      out += Array(text.utf8)
    }
    u32(1)
    u32(removing.count)
    for name in removing { string(name) }
    u32(tables.count)
    for (name, messages) in tables {
      string(name)
      u32(claimedCount ?? messages.count)
      for message in messages {
        u32(message.count)
        out += message
      }
    }
    return out + SHA256.hash(data: out)
  }

  static func refusal(of bytes: [UInt8]) -> String? {
    do {
      _ = try SavedTables(decoding: bytes)
      return nil
    } catch { return error.description }
  }

  /// `messages` with every attribute 1 (the table's name in each kind of message) naming `name` instead.
  static func renamingTable(_ messages: [[UInt8]], to name: String) -> [[UInt8]] {
    messages.map { message in
      var out = Array(message[0..<20])
      var offset = 20
      while offset + 4 <= message.count {
        let length = Int(message[offset]) | Int(message[offset + 1]) << 8
        let type = Int(message[offset + 2]) | Int(message[offset + 3]) << 8
        var value = Array(message[(offset + 4)..<(offset + length)])
        if type == 1 { value = Array(name.utf8) + [0] }
        out += withUnsafeBytes(of: UInt16(4 + value.count).littleEndian) { Array($0) }
        out += message[(offset + 2)..<(offset + 4)] + value
        out += [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
        offset += (length + 3) & ~3
      }
      out.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(out.count).littleEndian) { Array($0) })
      return out
    }
  }

  /// A table, and the absence of one, each read back equal to what was written; the table's identity chain is
  /// found in its messages.
  @Test func whatIsWrittenReadsBackEqual() throws {
    let saved = try Self.saved()
    #expect(saved.tables[0].messages.count > 5)
    #expect(try SavedTables(decoding: saved.encoded()) == saved)
    #expect(saved.tables[0].identity?.gateway == "gw")
    #expect(saved.tables[0].identity?.site == "plant")
    let absence = try SavedTables(removing: [Self.table], tables: [])
    #expect(try SavedTables(decoding: absence.encoded()) == absence)
  }

  /// Every single byte flipped, from the magic to the digest, makes the file refused.
  @Test func aFlippedByteAnywhereIsRefused() throws {
    let bytes = try Self.saved().encoded()
    var accepted: [Int] = []
    var digestRefusals = 0
    for position in bytes.indices {
      var flipped = bytes
      flipped[position] ^= 0x01
      guard let refusal = Self.refusal(of: flipped) else {
        accepted.append(position)
        continue
      }
      if refusal.contains("SHA-256 does not match") { digestRefusals += 1 }
    }
    #expect(accepted.isEmpty, "accepted with byte \(accepted) flipped")
    #expect(digestRefusals == bytes.count - 8, "every byte after the magic is under the digest")
  }

  /// A file cut short anywhere is refused, and so is one cut short with its digest made to match (a count that
  /// promises more messages than follow).
  @Test func aTruncatedFileIsRefused() throws {
    let bytes = try Self.saved().encoded()
    for length in 0..<bytes.count {
      #expect(Self.refusal(of: Array(bytes.prefix(length))) != nil, "accepted when cut to \(length) bytes")
    }
    let messages = try Self.tableMessages()
    let short = Self.forged(
      removing: [Self.table], tables: [(Self.table, messages)], claimedCount: messages.count + 1)
    #expect(Self.refusal(of: short)?.contains("truncated") == true, "\(Self.refusal(of: short) ?? "accepted")")
    let correct = Self.forged(removing: [Self.table], tables: [(Self.table, messages)])
    #expect(try SavedTables(decoding: correct) == Self.saved(), "the forger's encoding is the real one")
  }

  /// A file with a correct digest whose messages create another table than the one they are saved under, or a
  /// table that is not conduit's, or that delete something, is refused.
  @Test func aFileThatWouldTouchAnotherTableIsRefused() throws {
    let messages = try Self.tableMessages()
    let elsewhere = Self.renamingTable(messages, to: "conduit_other")
    let cases: [(String, [UInt8], String)] = [
      (
        "messages of another table", Self.forged(removing: [Self.table], tables: [(Self.table, elsewhere)]),
        "does not name the table exactly once"
      ),
      (
        "one rule of another table",
        Self.forged(
          removing: [Self.table],
          tables: [
            (Self.table, messages.map { $0[4] == Self.newRule ? Self.renamingTable([$0], to: "filter")[0] : $0 })
          ]
        ),
        "does not name the table exactly once"
      ),
      (
        "a table that is not conduit's",
        Self.forged(removing: ["filter"], tables: [("filter", Self.renamingTable(messages, to: "filter"))]),
        "is not the name of a conduit table"
      ),
      (
        "a table to remove that is not conduit's",
        Self.forged(removing: ["filter"], tables: [(Self.table, messages)]),
        "is not the name of a conduit table"
      ),
      (
        "a message that deletes a table",
        Self.forged(removing: [], tables: [(Self.table, [messages[0], Self.retyped(messages[0], to: 2)])]),
        "which a restore never sends"
      ),
      (
        "a second NEWTABLE", Self.forged(removing: [], tables: [(Self.table, [messages[0], messages[0]])]),
        "creates the table a second time"
      ),
    ]
    for (what, bytes, expected) in cases {
      let refusal = Self.refusal(of: bytes)
      #expect(refusal?.contains(expected) == true, "\(what): \(refusal ?? "accepted")")
    }
    #expect(throws: SavedTablesError.self) { try LiveTable(name: Self.table, messages: elsewhere) }
    #expect(try LiveTable(name: "conduit_other", messages: elsewhere).name == "conduit_other")
  }

  static func retyped(_ message: [UInt8], to type: UInt8) -> [UInt8] {
    var message = message
    message[4] = type
    return message
  }
}

/// The identity comment of conduit's table: it reads back as written, stays within nft's 127 bytes however long the
/// names, and a comment that is not conduit's identity reads as none.
@Suite struct NftablesIdentityCommentTests {
  static let digest = "0123456789abcdef" + String(repeating: "fe", count: 24)

  /// An identity with short names, and one without site or gateway, read back equal from their comments.
  @Test func aCommentReadsBackAsTheIdentityWritten() throws {
    let identity = NftablesIdentity(
      compiler: "conduit 1.2.0", site: "riverside", gateway: "edge-1", compileDigest: Self.digest)
    #expect(identity.comment == "conduit 1.2.0; site riverside; gateway edge-1; compile 0123456789abcdef")
    #expect(NftablesIdentity(comment: identity.comment) == identity)
    #expect(identity.names(compileDigest: Self.digest))
    #expect(!identity.names(compileDigest: String(repeating: "0", count: 64)))
    let anonymous = NftablesIdentity(compiler: "conduit 1.2.0", site: nil, gateway: nil, compileDigest: Self.digest)
    #expect(anonymous.comment == "conduit 1.2.0; site -; gateway -; compile 0123456789abcdef")
    #expect(NftablesIdentity(comment: anonymous.comment) == anonymous)
  }

  /// Long names (ASCII and multi-byte), and names holding the comment's own separator, are shortened within
  /// 127 bytes, stay distinct and still read back.
  @Test(arguments: [
    ("s", "g"),
    (String(repeating: "site-name-", count: 20), String(repeating: "gateway-name-", count: 20)),
    (String(repeating: "Wärmekraftwerk-", count: 10), String(repeating: "Schaltanlage-Ü-", count: 10)),
    ("north; gateway x", "edge; compile 0123456789abcdef"),
    (String(repeating: "€", count: 40), String(repeating: "🔥", count: 40)),
  ])
  func longNamesAreShortenedWithinTheLimitAndStillRead(_ site: String, _ gateway: String) throws {
    let identity = NftablesIdentity(
      compiler: "conduit " + String(repeating: "9", count: 40), site: site, gateway: gateway,
      compileDigest: Self.digest)
    #expect(identity.comment.utf8.count <= NftablesIdentity.maximumCommentBytes, "\(identity.comment)")
    let read = try #require(NftablesIdentity(comment: identity.comment), "\(identity.comment)")
    #expect(read == identity)
    let other = NftablesIdentity(
      compiler: identity.compiler, site: site + "2", gateway: gateway + "2", compileDigest: Self.digest)
    #expect(other.site != identity.site && other.gateway != identity.gateway, "shortened names stay distinct")
  }

  /// Comments of hand-made chains, and damaged identities, are not read as conduit's identity.
  @Test(arguments: [
    "", "allow ssh from the jump host", "conduit 1.2.0; site a; gateway b",
    "conduit 1.2.0; site a; gateway b; compile 0123456789abcde",
    "conduit 1.2.0; site a; gateway b; compile 0123456789ABCDEF",
    "conduit 1.2.0; site a; gateway b; compile 0123456789abcdef0",
    "conduit 1.2.0; site a; gateway b; compile 0123456789abcdef; extra",
    "iptables 1.2.0; site a; gateway b; compile 0123456789abcdef",
    "conduit 1.2.0; zone a; gateway b; compile 0123456789abcdef",
    "conduit 1.2.0;site a;gateway b;compile 0123456789abcdef",
  ])
  func aCommentThatIsNotAnIdentityReadsAsNone(_ comment: String) {
    #expect(NftablesIdentity(comment: comment) == nil)
  }
}
