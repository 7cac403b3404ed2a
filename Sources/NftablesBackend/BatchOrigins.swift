import CNetlink
import FirewallIR
import FlowSpace
import PolicyLanguage

/// Where the objects of a batch come from in the policy, so that a kernel rejection names a line and column: every
/// message has a place (the gateway for the table, base chains and flow maps; the conduit for its chains and
/// rules), and within element messages every set element has its own (the first rule that covers a flow element,
/// the `interface` line of an anti-spoofing element, the `management` line of a management element).
public struct BatchOrigins: Sendable, Equatable {
  /// The policy files places name, relative to the main policy's directory.
  public private(set) var files: [String]
  /// The places objects refer to.
  public private(set) var places: [PolicyPlace]
  /// Sequence number to the index in `places` of the message's place.
  public private(set) var messages: [UInt32: Int32]
  /// For every set element of the batch, in the order the batch holds them: the index in `places`, or
  /// `BatchOrigins.none`.
  public private(set) var elements: [Int32]

  /// The index that names no place.
  public static let none: Int32 = -1

  /// Origins from their parts; every index must be `none` or name one of `places`, every place one of `files`.
  public init(files: [String], places: [PolicyPlace], messages: [UInt32: Int32], elements: [Int32]) {
    self.files = files
    self.places = places
    self.messages = messages
    self.elements = elements
  }

  /// No origin at all.
  public static let empty = BatchOrigins(files: [], places: [], messages: [:], elements: [])

  /// The place of every message, by sequence number.
  public var messagePlaces: [UInt32: String] { messages.compactMapValues(place) }

  /// The place of every set element, in batch order.
  public var elementPlaces: [String?] { elements.map(place) }

  /// Equal when every message and every element has the same place, however files and places are numbered.
  public static func == (lhs: BatchOrigins, rhs: BatchOrigins) -> Bool {
    lhs.messagePlaces == rhs.messagePlaces && lhs.elementPlaces == rhs.elementPlaces
  }

  /// The place of message `sequence` (`file:line:col`).
  public func place(ofMessage sequence: UInt32) -> String? {
    messages[sequence].flatMap(place)
  }

  /// The place at `index` (`file:line:col`), nil for `none` or an index out of range.
  public func place(_ index: Int32) -> String? {
    guard index >= 0, Int(index) < places.count else { return nil }
    let place = places[Int(index)]
    guard place.file >= 0, Int(place.file) < files.count else { return nil }
    return "\(files[Int(place.file)]):\(place.line):\(place.column)"
  }

  /// The object a kernel rejection points at: the message with `sequence` in `bytes`, and when `attributeOffset`
  /// (the extended ACK's offset from the start of that message) falls inside one of its set elements, that element.
  public func rejectedObject(sequence: UInt32, attributeOffset: Int?, in bytes: [UInt8]) -> RejectedObject {
    var object = RejectedObject(sequence: sequence, element: nil, place: place(ofMessage: sequence))
    var elementsBefore = 0
    var offset = 0
    while offset + 20 <= bytes.count {
      let length = Int(NetlinkBatchLayout.u32(bytes, offset))
      guard length >= 20, offset + length <= bytes.count else { break }
      let isElementMessage =
        NetlinkBatchLayout.u16(bytes, offset + 4)
        == UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(NetlinkConstant.messageNewSetElement)
      let elements = isElementMessage ? Self.elementRanges(bytes, message: offset..<(offset + length)) : []
      if NetlinkBatchLayout.u32(bytes, offset + 8) == sequence {
        if let attributeOffset,
          let index = elements.lastIndex(where: { $0.contains(offset + attributeOffset) })
        {
          object.element = index
          let ordinal = elementsBefore + index
          if ordinal < self.elements.count, let place = place(self.elements[ordinal]) { object.place = place }
        }
        return object
      }
      elementsBefore += elements.count
      offset += (length + 3) & ~3
    }
    return object
  }

  /// The byte ranges (attribute header included) of the set elements of the element message in `message`.
  static func elementRanges(_ bytes: [UInt8], message: Range<Int>) -> [Range<Int>] {
    guard
      let attributes = try? NetlinkBatchLayout.attributes(
        bytes, (message.lowerBound + 20)..<message.upperBound, message: 0),
      let list = attributes.first(where: { $0.type == UInt16(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) }),
      let elements = try? NetlinkBatchLayout.attributes(bytes, list.range, message: 0)
    else { return [] }
    return elements.map { ($0.range.lowerBound - 4)..<$0.range.upperBound }
  }
}

/// What a kernel rejection names: a message, perhaps one set element of it, and where it comes from.
public struct RejectedObject: Sendable, Equatable {
  /// The message's sequence number.
  public var sequence: UInt32
  /// The index of the rejected element within the message, when the kernel pointed at one.
  public var element: Int?
  /// The policy place (`file:line:col`).
  public var place: String?
}

/// A place in the policy: a file (its index in `BatchOrigins.files`), a 1-based line and column.
public struct PolicyPlace: Sendable, Hashable {
  public var file: Int32
  public var line: Int32
  public var column: Int32

  /// A place from its parts.
  public init(file: Int32, line: Int32, column: Int32) {
    self.file = file
    self.line = line
    self.column = column
  }
}

/// The places a program's objects come from, by index: one per rule of the ruleset (computed in parallel, no text
/// formatted), then the gateway, conduits, interfaces and management lines as they are asked for.
struct PolicyPlaces: Sendable {
  private(set) var files: [String] = []
  private(set) var places: [PolicyPlace] = []
  private let mainPolicyPath: String?
  private var fileIndices: [ObjectIdentifier: Int32] = [:]
  private var known: [PlaceKey: Int32] = [:]

  private struct PlaceKey: Hashable {
    var file: ObjectIdentifier
    var offset: Int
  }

  init(_ ruleset: Ruleset) {
    mainPolicyPath = ruleset.mainPolicyPath
    for rule in ruleset.rules { _ = fileIndex(rule.range.file) }
    let indices = fileIndices
    places = concurrentMap(count: ruleset.rules.count, chunkSize: 4096) { index in
      let range = ruleset.rules[index].range
      return Self.place(range, file: indices[ObjectIdentifier(range.file)]!)
    }
  }

  /// The index of the place where `range` starts, added when new; `none` for nil.
  mutating func index(of range: SourceRange?) -> Int32 {
    guard let range else { return BatchOrigins.none }
    let key = PlaceKey(file: ObjectIdentifier(range.file), offset: range.start)
    if let index = known[key] { return index }
    places.append(Self.place(range, file: fileIndex(range.file)))
    known[key] = Int32(places.count - 1)
    return Int32(places.count - 1)
  }

  /// The index of the place of rule `index` of the ruleset.
  func rule(_ index: Int) -> Int32 { Int32(index) }

  /// The longest element comment nft lists (its 128 bytes with the NUL).
  static let maximumCommentBytes = 127

  /// An element's comment naming the policy lines of `indices`: `FILE:LINE`, further lines of one file as
  /// `,LINE`, files apart by a space; cut at the last whole place that fits nft's 127 bytes, with ` +N` saying how
  /// many places were left out. File names are written as nft strings carry them (`NftablesString.sanitized`).
  func comment(_ indices: [Int32], sanitizedFiles: [String]) -> String? {
    var lines: [(file: Int32, line: Int32)] = []
    for index in indices where index >= 0 && Int(index) < places.count {
      let place = places[Int(index)]
      lines.append((place.file, place.line))
    }
    guard !lines.isEmpty else { return nil }
    lines.sort { ($0.file, $0.line) < ($1.file, $1.line) }
    var parts: [String] = []
    var previous: (file: Int32, line: Int32)?
    for entry in lines where previous.map({ $0 != entry }) ?? true {
      let fileName = Int(entry.file) < sanitizedFiles.count ? sanitizedFiles[Int(entry.file)] : "?"
      parts.append(
        previous?.file == entry.file ? ",\(entry.line)" : (parts.isEmpty ? "" : " ") + "\(fileName):\(entry.line)")
      previous = entry
    }
    var text = ""
    for (index, part) in parts.enumerated() {
      let later = parts.count - index - 1
      let reserve = later > 0 ? " +\(later)".utf8.count : 0
      guard text.utf8.count + part.utf8.count + reserve <= Self.maximumCommentBytes else {
        return text.isEmpty ? nil : text + " +\(parts.count - index)"
      }
      text += part
    }
    return text
  }

  /// The file names as nft strings carry them, by file index.
  var sanitizedFiles: [String] { files.map(NftablesString.sanitized) }

  private mutating func fileIndex(_ file: SourceFile) -> Int32 {
    if let index = fileIndices[ObjectIdentifier(file)] { return index }
    files.append(mainPolicyPath.map { SourcePath.relative(file.path, toDirectoryOf: $0) } ?? file.path)
    fileIndices[ObjectIdentifier(file)] = Int32(files.count - 1)
    return Int32(files.count - 1)
  }

  private static func place(_ range: SourceRange, file: Int32) -> PolicyPlace {
    let start = range.startLocation
    return PolicyPlace(
      file: file, line: Int32(clamping: start.line), column: Int32(clamping: start.column))
  }
}
