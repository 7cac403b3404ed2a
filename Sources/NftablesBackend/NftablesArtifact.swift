import Crypto
import FirewallIR
import FlowSpace
import Foundation
import PolicyLanguage

/// The `nft` target: the complete netlink batch for one gateway with what `apply` needs beside it, in a file every
/// byte of which is covered by one SHA-256 digest.
///
/// Format version 2, all integers big-endian:
/// ```
/// magic "CDTNFT\r\n" (8 bytes) · version (2 bytes) · sections · end section
/// section: type (2 bytes) · length (8 bytes) · body (length bytes)
/// end section: type 0 · length 32 · SHA-256 of every byte before its body
/// ```
/// Sections appear in increasing order of their type number (bit 15 aside), each at most once. Bit 15 of a type marks
/// a section the writer requires its reader to understand: a reader refuses an artifact holding a required section it
/// does not know and keeps the others it does not know without using them, so a later conduit adds a section without
/// a new format version. The three sections every artifact has are required: the header (JSON), the batch and the
/// flow table. Nothing the header says about the batch is taken on trust: the table is checked against every message
/// of the batch, the interfaces and the messages the kernel acknowledges are read from the batch itself
/// (`NetlinkBatchLayout`), and every origin must name a message of the batch. The element origins section (not
/// required) gives every set element of the batch its policy place; without it, a rejected element is named by the
/// place of its message.
public struct NftablesArtifact: Sendable {
  /// The first bytes of every artifact.
  public static let magic: [UInt8] = Array("CDTNFT\r\n".utf8)
  /// The format this build writes and reads.
  public static let formatVersion: UInt16 = 2
  /// The largest artifact read: far above what a policy compiles to (a million rules: 16 MB), and at most what one
  /// netlink message can carry, so a huge or sparse file is refused before anything is allocated for it.
  public static let maximumBytes = 1 << 30

  /// Section type numbers. Bit 15 (`requiredBit`) is set on the ones a reader must understand.
  public enum SectionType {
    /// The end section: the digest.
    public static let end: UInt16 = 0
    /// The header, JSON.
    public static let header: UInt16 = requiredBit | 1
    /// The netlink batch.
    public static let batch: UInt16 = requiredBit | 2
    /// The flow table.
    public static let flowTable: UInt16 = requiredBit | 3
    /// The policy place of every set element (`BatchOrigins.elements`): the number of places (4 bytes), each place
    /// as its length (2 bytes) and UTF-8 text, the number of elements (4 bytes), each element's place index (4
    /// bytes; 0xFFFFFFFF for none).
    public static let elementOrigins: UInt16 = 4
    /// Set on a section type the reader must understand.
    public static let requiredBit: UInt16 = 0x8000
  }

  /// What the header records besides the batch and the flow table.
  public struct Header: Codable, Sendable, Equatable {
    /// The program and version that wrote the artifact.
    public var compiler: String
    /// The table the batch replaces (`inet NAME`); every message of the batch names it.
    public var table: String
    public var site: String?
    public var gateway: String?
    /// The mitigations compiled in, in the order given.
    public var mitigations: [String]
    /// The day expiry was judged against (`YYYY-MM-DD`).
    public var effectiveDate: String
    /// SHA-256 over the policy files and the baseline (by path relative to the main policy), hex.
    public var policyDigest: String
    /// SHA-256 over the policy digest, the gateway, the mitigations and the effective date, hex.
    public var compileDigest: String
    /// The policy files (the main one first) and the baseline, relative to the main policy's directory.
    public var sources: [String]
    /// Sequence number (decimal text) to the policy place (`file:line:col`, relative like `sources`) behind the
    /// message. The places of set elements are in their own section (`SectionType.elementOrigins`).
    public var origins: [String: String]
    /// The prefixes the active mitigations isolate, when they isolate any: the lock-out guard reports sessions from
    /// them instead of refusing a ruleset that cuts them off on purpose.
    public var isolated: [String]? = nil
  }

  /// A section this build writes or keeps without interpreting it.
  public struct Section: Sendable, Equatable {
    public var type: UInt16
    public var body: [UInt8]

    /// A section of `type` with `body`.
    public init(type: UInt16, body: [UInt8]) {
      self.type = type
      self.body = body
    }
  }

  /// Why an artifact is refused.
  public struct ReadError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String
    /// The file does not start with the artifact magic (it may be a policy).
    public var isNotAnArtifact = false
    /// The file could not be read at all (`description` says why).
    public var isUnreadable = false

    /// A refusal saying `description`.
    public init(_ description: String, isNotAnArtifact: Bool = false, isUnreadable: Bool = false) {
      self.description = description
      self.isNotAnArtifact = isNotAnArtifact
      self.isUnreadable = isUnreadable
    }
  }

  public private(set) var header: Header
  /// The batch and the origins of its messages and set elements.
  public private(set) var batch: NftablesBatch
  /// The flows the batch forwards.
  public private(set) var flowTable: FlowTable
  /// What the batch holds, read from its bytes.
  public let layout: NetlinkBatchLayout
  /// Sections this build keeps without interpreting them, in type order.
  public private(set) var otherSections: [Section]
  /// The body of the element origins section, nil for an artifact without one.
  private let elementOriginsBody: [UInt8]?
  /// For an artifact read from a file: its header's bytes and its digests, so that `encodedFile` gives back the
  /// bytes read without encoding or hashing them again.
  private let asRead: AsRead?

  private struct AsRead: Sendable {
    var header: [UInt8]
    /// The digest at its end.
    var digest: [UInt8]
    /// SHA-256 of the whole file, hex.
    var fileSHA256: String
  }

  /// The interface names the ruleset matches (from the batch).
  public var interfaces: [String] { layout.interfaces }
  /// What the table will say it is in the kernel (the comment of its identity chain), when the batch creates one.
  public var identity: NftablesIdentity? { layout.identity }
  /// The SHA-256 of the file the artifact was read from (hex), computed while it was read; nil for an artifact
  /// built in memory.
  public var readFileSHA256: String? { asRead?.fileSHA256 }
  /// The addresses the active mitigations isolate (from the header).
  public var isolated: AddressSet { AddressSet((header.isolated ?? []).compactMap { IPPrefix($0) }) }

  /// Builds an artifact from a batch; throws when the batch is not one `apply` would send. Control characters in
  /// the names and paths the header records are written as `\u{…}` escapes.
  public init(
    batch: NftablesBatch, flowTable: FlowTable, compiler: String, site: String?, gateway: String?,
    mitigations: [String], effectiveDate: String, policyDigest: String, sources: [String],
    isolated: AddressSet = AddressSet(), otherSections: [Section] = []
  ) throws(ReadError) {
    let layout: NetlinkBatchLayout
    do { layout = try NetlinkBatchLayout(validating: batch.bytes) } catch { throw ReadError(error.description) }
    let header = Header(
      compiler: TerminalText.escaped(compiler), table: layout.table, site: site.map(TerminalText.escaped),
      gateway: gateway.map(TerminalText.escaped), mitigations: mitigations.map(TerminalText.escaped),
      effectiveDate: effectiveDate, policyDigest: policyDigest,
      compileDigest: Self.compileDigest(
        policyDigest: policyDigest, gateway: gateway.map(TerminalText.escaped),
        mitigations: mitigations.map(TerminalText.escaped),
        effectiveDate: effectiveDate),
      sources: sources.map(TerminalText.escaped),
      origins: Dictionary(
        uniqueKeysWithValues: batch.origins.messagePlaces.map { (String($0.key), TerminalText.escaped($0.value)) }),
      isolated: isolated.isEmpty ? nil : isolated.prefixes.map(\.description))
    try self.init(
      header: header, batch: batch.bytes, flowTable: flowTable.bytes, layout: layout,
      elementOrigins: batch.origins.elements.isEmpty ? nil : Self.elementOriginsSection(batch.origins),
      otherSections: otherSections, asRead: nil)
  }

  /// Validates the parts of an artifact against each other.
  private init(
    header: Header, batch bytes: [UInt8], flowTable flowBytes: [UInt8], layout: NetlinkBatchLayout,
    elementOrigins: ElementOriginsSection?, otherSections: [Section], asRead: AsRead?
  ) throws(ReadError) {
    guard header.table == layout.table else {
      throw ReadError("its header names table '\(header.table)' but its batch changes table '\(layout.table)'")
    }
    guard layout.table == "conduit" || layout.table.hasPrefix("conduit_"),
      layout.table.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || $0.isASCIILetterOrDigit })
    else {
      throw ReadError("its batch changes table '\(TerminalText.escaped(layout.table))', which is not one of conduit's")
    }
    let texts = [header.compiler, header.site ?? "", header.gateway ?? ""] + header.mitigations + header.sources
    if let text = (texts + Array(header.origins.values)).first(where: { !Self.isPrintable($0) }) {
      throw ReadError("its header holds text with control characters ('\(TerminalText.escaped(text))')")
    }
    if let prefix = header.isolated?.first(where: { IPPrefix($0) == nil }) {
      throw ReadError("its header names the isolated prefix '\(TerminalText.escaped(prefix))', which is not one")
    }
    let acknowledged = Set(layout.acknowledgedSequences)
    var files: [String] = []
    var places: [PolicyPlace] = []
    var elements: [Int32] = []
    if let elementOrigins {
      guard elementOrigins.elements.count == layout.elementCount else {
        throw ReadError(
          "its element origins name \(elementOrigins.elements.count) elements, but its batch holds "
            + "\(layout.elementCount)")
      }
      (files, places, elements) = (elementOrigins.files, elementOrigins.places, elementOrigins.elements)
    }
    var fileIndices = Dictionary(files.enumerated().map { ($1, Int32($0)) }, uniquingKeysWith: { first, _ in first })
    var messages: [UInt32: Int32] = [:]
    for (key, origin) in header.origins {
      guard let sequence = UInt32(key), String(sequence) == key, acknowledged.contains(sequence) else {
        throw ReadError(
          "its header names the origin of message '\(TerminalText.escaped(key))', which the batch does not hold")
      }
      guard let (file, line, column) = Self.sourcePlace(origin) else {
        throw ReadError(
          "its header gives message \(key) the origin '\(TerminalText.escaped(origin))', which is no file:line:col")
      }
      let fileIndex = fileIndices[file] ?? Int32(files.count)
      if fileIndex == files.count {
        files.append(file)
        fileIndices[file] = fileIndex
      }
      messages[sequence] = Int32(places.count)
      places.append(PolicyPlace(file: fileIndex, line: line, column: column))
    }
    let date = Array(header.effectiveDate.utf8)
    guard date.count == 10, date[4] == UInt8(ascii: "-"), date[7] == UInt8(ascii: "-"),
      date.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || (0x30...0x39).contains($0.element) })
    else {
      throw ReadError("its header holds a malformed effective date '\(TerminalText.escaped(header.effectiveDate))'")
    }
    for digest in [header.policyDigest, header.compileDigest] where !Self.isHexDigest(digest) {
      throw ReadError("its header holds a malformed digest '\(TerminalText.escaped(digest))'")
    }
    guard
      header.compileDigest
        == Self.compileDigest(
          policyDigest: header.policyDigest, gateway: header.gateway, mitigations: header.mitigations,
          effectiveDate: header.effectiveDate)
    else { throw ReadError("its compile digest does not match the policy digest, gateway, mitigations and date") }
    if let identity = layout.identity {
      let expected = NftablesIdentity(
        compiler: header.compiler, site: header.site, gateway: header.gateway, compileDigest: header.compileDigest)
      guard identity == expected else {
        throw ReadError("its identity chain ('\(TerminalText.escaped(identity.comment))') does not match its header")
      }
    }
    let flowTable: FlowTable
    switch FlowTable.validating(flowBytes) {
    case .success(let table): flowTable = table
    case .failure(let problem): throw ReadError("its flow table is malformed: \(problem)")
    }
    let numbers =
      [SectionType.flowTable] + (elementOrigins == nil ? [] : [SectionType.elementOrigins]) + otherSections.map(\.type)
    for (previous, section) in zip(numbers, numbers.dropFirst())
    where previous & ~SectionType.requiredBit >= section & ~SectionType.requiredBit {
      throw ReadError("its sections are out of order")
    }
    self.header = header
    self.batch = NftablesBatch(
      bytes: bytes, origins: BatchOrigins(files: files, places: places, messages: messages, elements: elements))
    self.flowTable = flowTable
    self.layout = layout
    self.elementOriginsBody = elementOrigins?.body
    self.otherSections = otherSections
    self.asRead = asRead
  }

  // MARK: Writing

  /// The file's bytes.
  public func encoded() -> [UInt8] {
    let parts = encodedParts()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(parts.reduce(0) { $0 + $1.count })
    for part in parts { bytes += part }
    return bytes
  }

  /// The file in parts, one after the other, so a large batch (or flow table) is written without being copied into
  /// one buffer.
  public func encodedParts() -> [[UInt8]] {
    encodedFile().parts
  }

  /// The file in parts with its SHA-256. For an artifact read from a file these are the bytes read (its header as
  /// it was written) and the digests computed while reading them, so nothing is encoded or hashed again.
  public func encodedFile() -> EncodedArtifact {
    let headerBytes: [UInt8]
    if let asRead {
      headerBytes = asRead.header
    } else {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      headerBytes = Array((try? encoder.encode(header)) ?? Data())
    }
    var start = Self.magic
    Self.append(Self.formatVersion, to: &start)
    Self.appendSection(SectionType.header, headerBytes, to: &start)
    var parts = [start]
    func section(_ type: UInt16, _ body: [UInt8]) {
      var heading: [UInt8] = []
      Self.append(type, to: &heading)
      Self.append(UInt64(body.count), to: &heading)
      parts += [heading, body]
    }
    section(SectionType.batch, batch.bytes)
    section(SectionType.flowTable, flowTable.bytes)
    if let elementOriginsBody { section(SectionType.elementOrigins, elementOriginsBody) }
    for other in otherSections { section(other.type, other.body) }
    var end: [UInt8] = []
    Self.append(SectionType.end, to: &end)
    Self.append(UInt64(32), to: &end)
    if let asRead { return EncodedArtifact(parts: parts + [end + asRead.digest], sha256: asRead.fileSHA256) }
    var hasher = SHA256()
    for part in parts { hasher.update(data: part) }
    hasher.update(data: end)
    let digest = Array(hasher.finalize())
    hasher.update(data: digest)
    return EncodedArtifact(parts: parts + [end + digest], sha256: Self.hex(hasher.finalize()))
  }

  private static func appendSection(_ type: UInt16, _ body: [UInt8], to bytes: inout [UInt8]) {
    append(type, to: &bytes)
    append(UInt64(body.count), to: &bytes)
    bytes += body
  }

  private static func append<Value: FixedWidthInteger>(_ value: Value, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
  }

  /// The element origins section: its body and what it says.
  struct ElementOriginsSection {
    var body: [UInt8]
    var files: [String]
    var places: [PolicyPlace]
    var elements: [Int32]
  }

  /// The element origins section of `origins`, its file names escaped for a terminal.
  private static func elementOriginsSection(_ origins: BatchOrigins) -> ElementOriginsSection {
    var body: [UInt8] = []
    let files = origins.files.map { file in
      var escaped = TerminalText.escaped(file)
      while escaped.utf8.count > Int(UInt16.max) { escaped.removeFirst() }
      return escaped
    }
    append(UInt32(files.count), to: &body)
    for file in files {
      append(UInt16(file.utf8.count), to: &body)
      body += file.utf8
    }
    append(UInt32(origins.places.count), to: &body)
    body.reserveCapacity(body.count + 12 * origins.places.count + 4 + 4 * origins.elements.count)
    for place in origins.places {
      append(UInt32(bitPattern: place.file), to: &body)
      append(UInt32(bitPattern: place.line), to: &body)
      append(UInt32(bitPattern: place.column), to: &body)
    }
    append(UInt32(origins.elements.count), to: &body)
    for element in origins.elements { append(UInt32(bitPattern: element), to: &body) }
    return ElementOriginsSection(body: body, files: files, places: origins.places, elements: origins.elements)
  }

  /// The files, places and element indices of an element origins section: every file name non-empty and fit for a
  /// terminal, every place in one of them at a positive line and column, every index `none` or one of a place.
  private static func decodedElementOrigins(_ body: [UInt8]) throws(ReadError) -> ElementOriginsSection {
    var offset = 0
    func integer<Value: FixedWidthInteger>(_: Value.Type) throws(ReadError) -> Value {
      let size = MemoryLayout<Value>.size
      guard body.count - offset >= size else { throw ReadError("its element origins are truncated") }
      defer { offset += size }
      return body[offset..<(offset + size)].reduce(Value(0)) { $0 << 8 | Value($1) }
    }
    let fileCount = Int(try integer(UInt32.self))
    guard fileCount <= body.count / 2 else { throw ReadError("its element origins claim \(fileCount) files") }
    var files: [String] = []
    for _ in 0..<fileCount {
      let length = Int(try integer(UInt16.self))
      guard length > 0, body.count - offset >= length,
        let file = String(validating: body[offset..<(offset + length)], as: UTF8.self), isPrintable(file)
      else { throw ReadError("its element origins name a file that is empty, not UTF-8 or has control characters") }
      files.append(file)
      offset += length
    }
    let placeCount = Int(try integer(UInt32.self))
    guard placeCount <= (body.count - offset) / 12 else {
      throw ReadError("its element origins claim \(placeCount) places")
    }
    var places: [PolicyPlace] = []
    places.reserveCapacity(placeCount)
    for _ in 0..<placeCount {
      let place = PolicyPlace(
        file: Int32(bitPattern: try integer(UInt32.self)), line: Int32(bitPattern: try integer(UInt32.self)),
        column: Int32(bitPattern: try integer(UInt32.self)))
      guard place.file >= 0, Int(place.file) < fileCount, place.line > 0, place.column > 0 else {
        throw ReadError("its element origins hold a place that names no file, line and column")
      }
      places.append(place)
    }
    let count = Int(try integer(UInt32.self))
    guard body.count - offset == 4 * count else {
      throw ReadError("its element origins name \(count) elements in \(body.count - offset) bytes")
    }
    var elements: [Int32] = []
    elements.reserveCapacity(count)
    for _ in 0..<count {
      let index = Int32(bitPattern: try integer(UInt32.self))
      guard index == BatchOrigins.none || (index >= 0 && Int(index) < placeCount) else {
        throw ReadError("its element origins name place \(index) of \(placeCount)")
      }
      elements.append(index)
    }
    return ElementOriginsSection(body: body, files: files, places: places, elements: elements)
  }

  // MARK: Reading

  /// Reads and verifies an artifact held in memory.
  public init(decoding bytes: [UInt8]) throws(ReadError) {
    var source = MemoryArtifactSource(bytes: bytes)
    try self.init(reading: &source)
  }

  /// Reads and verifies the artifact at `path`, reading the file once and hashing it while it is read; the batch is
  /// read straight into the buffer that is sent.
  public static func read(contentsOf path: String) throws(ReadError) -> NftablesArtifact {
    var source = try FileArtifactSource(path: path)
    defer { source.close() }
    return try NftablesArtifact(reading: &source)
  }

  /// Reads an artifact conduit itself wrote and recorded the SHA-256 of (the state directory's confirmed artifact,
  /// beside the record of its digest): a symbolic link at `path` is refused, and the whole file must have the
  /// SHA-256 `sha256`, checked with the digest at its end in the one pass that reads it. Those bytes passed every
  /// check of `read(contentsOf:)` before conduit recorded their digest, so the attributes of the batch's messages
  /// are not held to the grammar again (`NetlinkBatchLayout(reading:checkingAttributes:)`); everything else is.
  public static func readRecorded(contentsOf path: String, sha256: String) throws(ReadError) -> NftablesArtifact {
    var source = try FileArtifactSource(path: path, followingSymbolicLinks: false)
    defer { source.close() }
    return try NftablesArtifact(reading: &source, recordedSHA256: sha256)
  }

  private init<Source: ArtifactSource>(reading source: inout Source, recordedSHA256: String? = nil)
    throws(ReadError)
  {
    var reader = DigestingReader(source: source)
    defer { source = reader.source }
    guard reader.remaining <= Self.maximumBytes else {
      throw ReadError(
        "it has \(reader.remaining) bytes, more than an artifact can hold (\(Self.maximumBytes >> 20) MiB)")
    }
    guard reader.remaining >= Self.magic.count, try reader.read(Self.magic.count) == Self.magic else {
      throw ReadError("not a conduit nft artifact (wrong magic)", isNotAnArtifact: true)
    }
    guard reader.remaining >= 2 else { throw ReadError("the artifact is truncated (version)") }
    let version = try reader.readInteger(UInt16.self)
    guard version == Self.formatVersion else {
      if version < Self.formatVersion {
        throw ReadError(
          "it has artifact format version \(version), written by an older conduit whose header no digest covered; "
            + "compile the policy again with this conduit (format \(Self.formatVersion))")
      }
      throw ReadError(
        "it has artifact format version \(version), which this conduit does not read (it reads \(Self.formatVersion))")
    }
    var header: [UInt8]?
    var batch: [UInt8]?
    var flowTable: [UInt8]?
    var digest: [UInt8] = []
    var fileSHA256 = ""
    var elementOrigins: ElementOriginsSection?
    var others: [Section] = []
    var previousType: UInt16?
    while true {
      guard reader.remaining >= 10 else { throw ReadError("the artifact is truncated (no end section)") }
      let type = try reader.readInteger(UInt16.self)
      let length = try reader.readInteger(UInt64.self)
      if type == SectionType.end {
        guard length == 32, reader.remaining == 32 else {
          throw ReadError("the artifact is damaged: its end section is not a digest at the end of the file")
        }
        digest = reader.digest()
        guard try reader.readUnhashed(32) == digest else {
          throw ReadError("the artifact is damaged: its bytes do not match the SHA-256 at its end")
        }
        fileSHA256 = Self.hex(reader.digest(continuedWith: digest))
        if let recordedSHA256, fileSHA256 != recordedSHA256 {
          throw ReadError("it is not the artifact recorded: its SHA-256 is \(fileSHA256), not \(recordedSHA256)")
        }
        break
      }
      let number = type & ~SectionType.requiredBit
      if let previousType, number <= previousType & ~SectionType.requiredBit {
        throw ReadError("the artifact is damaged: its sections are out of order")
      }
      previousType = type
      guard length <= UInt64(max(0, reader.remaining - 42)) else {
        throw ReadError("the artifact is truncated (section \(number) claims \(length) bytes)")
      }
      let body = try reader.read(Int(length))
      switch type {
      case SectionType.header: header = body
      case SectionType.batch: batch = body
      case SectionType.flowTable: flowTable = body
      case SectionType.elementOrigins: elementOrigins = try Self.decodedElementOrigins(body)
      default: others.append(Section(type: type, body: body))
      }
    }
    if let unknown = others.first(where: { $0.type & SectionType.requiredBit != 0 }) {
      throw ReadError(
        "it holds section \(unknown.type & ~SectionType.requiredBit), which its writer requires and this conduit "
          + "does not know (a newer conduit wrote it)")
    }
    guard let header, let batch, let flowTable else {
      throw ReadError("it lacks a required section (header, batch or flow table)")
    }
    let decoded: Header
    do { decoded = try JSONDecoder().decode(Header.self, from: Data(header)) } catch {
      throw ReadError("its header is malformed")
    }
    let layout: NetlinkBatchLayout
    do { layout = try NetlinkBatchLayout(reading: batch, checkingAttributes: recordedSHA256 == nil) } catch {
      throw ReadError("its batch is malformed: \(error)")
    }
    try self.init(
      header: decoded, batch: batch, flowTable: flowTable, layout: layout, elementOrigins: elementOrigins,
      otherSections: others, asRead: AsRead(header: header, digest: digest, fileSHA256: fileSHA256))
  }

  // MARK: Digests

  /// Hex SHA-256.
  public static func sha256(_ bytes: [UInt8]) -> String {
    hex(SHA256.hash(data: bytes))
  }

  /// The policy digest: SHA-256 over named inputs (the path, relative to the main policy, and contents of each).
  public static func sha256(of files: [(path: String, bytes: [UInt8])]) -> String {
    var hasher = SHA256()
    for file in files {
      hasher.update(data: Array(file.path.utf8) + [0])
      hasher.update(data: withUnsafeBytes(of: UInt64(file.bytes.count).bigEndian) { Array($0) })
      hasher.update(data: file.bytes)
    }
    return hex(hasher.finalize())
  }

  /// The compile digest: SHA-256 over the policy digest, the gateway, the mitigations (as given) and the effective
  /// date, each length-prefixed.
  public static func compileDigest(policyDigest: String, gateway: String?, mitigations: [String], effectiveDate: String)
    -> String
  {
    var hasher = SHA256()
    var fields = ["conduit compile", policyDigest, gateway.map { "gateway " + $0 } ?? "no gateway", effectiveDate]
    fields += mitigations
    for field in fields {
      hasher.update(data: withUnsafeBytes(of: UInt32(field.utf8.count).bigEndian) { Array($0) })
      hasher.update(data: Array(field.utf8))
    }
    return hex(hasher.finalize())
  }

  private static func hex<Digest: Sequence<UInt8>>(_ digest: Digest) -> String {
    digest.map { String(format: "%02x", $0) }.joined()
  }

  /// Whether `text` holds nothing that would let a header forge what a terminal shows (`TerminalText`).
  static func isPrintable(_ text: String) -> Bool {
    !text.unicodeScalars.contains(where: TerminalText.isUnsafe)
  }

  /// The path, line and column of `path:line:column` with a non-empty path and positive numbers (without leading
  /// zeros, at most 9 digits); nil for other text.
  private static func sourcePlace(_ text: String) -> (String, Int32, Int32)? {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count >= 3 else { return nil }
    let path = parts.dropLast(2).joined(separator: ":")
    let numbers = parts.suffix(2).compactMap { part -> Int32? in
      guard !part.isEmpty, part.count < 10, part.first != "0", part.utf8.allSatisfy({ (0x30...0x39).contains($0) })
      else { return nil }
      return Int32(part)
    }
    guard !path.isEmpty, numbers.count == 2 else { return nil }
    return (path, numbers[0], numbers[1])
  }

  private static func isHexDigest(_ text: String) -> Bool {
    text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
  }
}

extension UInt8 {
  var isASCIILetterOrDigit: Bool {
    (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
  }
}

/// An artifact file's bytes in parts, one after the other (the batch is not copied into one buffer), and the
/// SHA-256 of the whole file.
public struct EncodedArtifact: Sendable {
  /// The parts, in file order.
  public let parts: [[UInt8]]
  /// Hex SHA-256 of the whole file: `NftablesArtifact.sha256` of the parts joined.
  public let sha256: String
}

/// Bytes an artifact is read from.
protocol ArtifactSource {
  /// Bytes left to read.
  var remaining: Int { get }
  /// Reads exactly `count` bytes (at most `remaining`), handing them to `consume` in pieces as they arrive.
  mutating func read(
    _ count: Int, into buffer: UnsafeMutableRawBufferPointer, consume: (UnsafeRawBufferPointer) -> Void)
    throws(NftablesArtifact.ReadError)
}

/// An artifact in memory.
struct MemoryArtifactSource: ArtifactSource {
  let bytes: [UInt8]
  var offset = 0

  var remaining: Int { bytes.count - offset }

  mutating func read(
    _ count: Int, into buffer: UnsafeMutableRawBufferPointer, consume: (UnsafeRawBufferPointer) -> Void
  ) throws(NftablesArtifact.ReadError) {
    bytes.withUnsafeBytes { raw in
      let piece = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + count)])
      buffer.copyMemory(from: piece)
      consume(piece)
    }
    offset += count
  }
}

/// An artifact file, read through one descriptor opened once and checked to be a regular file.
struct FileArtifactSource: ArtifactSource {
  private var descriptor: Int32
  private(set) var remaining: Int
  let path: String

  init(path: String, followingSymbolicLinks: Bool = true) throws(NftablesArtifact.ReadError) {
    self.path = path
    switch FileReader.openRegularFile(path, followingSymbolicLinks: followingSymbolicLinks) {
    case .success(let opened): (descriptor, remaining) = opened
    case .failure(let error): throw NftablesArtifact.ReadError(error.description, isUnreadable: true)
    }
  }

  mutating func close() {
    if descriptor >= 0 { Glibc.close(descriptor) }
    descriptor = -1
  }

  mutating func read(
    _ count: Int, into buffer: UnsafeMutableRawBufferPointer, consume: (UnsafeRawBufferPointer) -> Void
  ) throws(NftablesArtifact.ReadError) {
    var done = 0
    while done < count {
      let piece = min(count - done, 1 << 20)
      let got = Glibc.read(descriptor, buffer.baseAddress! + done, piece)
      if got < 0, errno == EINTR { continue }
      guard got > 0 else {
        let reason = got < 0 ? String(cString: strerror(errno)) : "the file ended early (it changed while read)"
        throw NftablesArtifact.ReadError("cannot read '\(path)': \(reason)", isUnreadable: true)
      }
      consume(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[done..<(done + got)]))
      done += got
    }
    remaining -= count
  }
}

/// Reads from a source, feeding every byte it reads to one SHA-256.
struct DigestingReader<Source: ArtifactSource> {
  var source: Source
  private var hasher = SHA256()

  init(source: Source) { self.source = source }

  var remaining: Int { source.remaining }

  /// `count` bytes, hashed.
  mutating func read(_ count: Int) throws(NftablesArtifact.ReadError) -> [UInt8] {
    try read(count, hashed: true)
  }

  /// `count` bytes, not hashed (the digest itself).
  mutating func readUnhashed(_ count: Int) throws(NftablesArtifact.ReadError) -> [UInt8] {
    try read(count, hashed: false)
  }

  mutating func readInteger<Value: FixedWidthInteger>(_: Value.Type) throws(NftablesArtifact.ReadError) -> Value {
    try read(MemoryLayout<Value>.size).reduce(Value(0)) { $0 << 8 | Value($1) }
  }

  /// The digest of every hashed byte so far.
  func digest() -> [UInt8] { Array(hasher.finalize()) }

  /// The digest of every hashed byte so far followed by `bytes`, which are not read.
  func digest(continuedWith bytes: [UInt8]) -> [UInt8] {
    var continued = hasher
    continued.update(data: bytes)
    return Array(continued.finalize())
  }

  private mutating func read(_ count: Int, hashed: Bool) throws(NftablesArtifact.ReadError) -> [UInt8] {
    precondition(count <= source.remaining)
    var failure: NftablesArtifact.ReadError?
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      do throws(NftablesArtifact.ReadError) {
        try source.read(count, into: UnsafeMutableRawBufferPointer(buffer)) { piece in
          if hashed { hasher.update(bufferPointer: piece) }
        }
        initialized = count
      } catch {
        buffer.initialize(repeating: 0)
        initialized = count
        failure = error
      }
    }
    if let failure { throw failure }
    return bytes
  }
}
