import Foundation

/// The text of one input file (a policy or a baseline) with the index needed to turn UTF-8 offsets into lines and
/// columns. Every source file is registered for the life of the process, so that a `SourceRange` names its file by
/// number: ranges are copied everywhere, and a reference would be retained and released at every copy.
public final class SourceFile: Sendable, Hashable, CustomStringConvertible {
  private static let registry = Registry()

  /// Every source file of the process, by number. Numbers are handed out under a lock; a file is read without one:
  /// its slot is written once, before the file's initializer returns, so whoever holds its number (in a
  /// `SourceRange`) got it after that write. Slots sit in chunks that never move, found through a directory made
  /// once, so no read races with the growth of the registry.
  private final class Registry: @unchecked Sendable {
    typealias Slot = Unmanaged<SourceFile>?
    static let chunkBits = 14
    static let chunkCapacity = 1 << chunkBits
    static let chunkCount = 1 << 16

    private let lock = NSLock()
    private var next = 0
    private let directory: UnsafeMutablePointer<UnsafeMutablePointer<Slot>?>

    init() {
      directory = calloc(Self.chunkCount, MemoryLayout<UnsafeMutablePointer<Slot>?>.stride)!
        .bindMemory(to: UnsafeMutablePointer<Slot>?.self, capacity: Self.chunkCount)
    }

    func reserve() -> Int {
      lock.withLock {
        let id = next
        precondition(
          id >> Self.chunkBits < Self.chunkCount, "more than \(Self.chunkCount << Self.chunkBits) source files")
        if directory[id >> Self.chunkBits] == nil {
          directory[id >> Self.chunkBits] = calloc(Self.chunkCapacity, MemoryLayout<Slot>.stride)!
            .bindMemory(to: Slot.self, capacity: Self.chunkCapacity)
        }
        next += 1
        return id
      }
    }

    private func slot(_ id: Int) -> UnsafeMutablePointer<Slot> {
      directory[id >> Self.chunkBits]! + (id & (Self.chunkCapacity - 1))
    }

    func store(_ file: SourceFile, at id: Int) {
      slot(id).pointee = .passRetained(file)
    }

    func file(_ id: Int) -> SourceFile {
      slot(id).pointee!.takeUnretainedValue()
    }

    var count: Int { lock.withLock { next } }

    func forget(from first: Int, where isForgotten: (SourceFile) -> Bool) {
      lock.withLock {
        for id in first..<next {
          guard let file = slot(id).pointee, isForgotten(file.takeUnretainedValue()) else { continue }
          slot(id).pointee = nil
          file.release()
        }
      }
    }
  }

  /// The file's number in the registry.
  public let id: Int
  /// The path as the user gave it (or as derived from an including file); shown in diagnostics.
  public let path: String
  /// The file's text; invalid UTF-8 shows as U+FFFD (the readers report it, located by `bytes`).
  public var text: String { String(decoding: bytes, as: UTF8.self) }
  /// The file's bytes as read, which every offset indexes; they need not be valid UTF-8.
  public let bytes: [UInt8]
  /// The offset at which each line starts; `lineStarts[0] == 0`.
  public let lineStarts: [Int]
  /// For a file with non-ASCII bytes, for every `scalarStride`-th byte the first column start at or after it and the
  /// columns before that (empty for an ASCII file, whose columns are byte distances), so that a column costs the
  /// same on a line of any length. A well-formed scalar is one column, and so is each byte of a malformed sequence.
  private let scalarCheckpoints: [(offset: Int, columns: Int)]
  private static let scalarStride = 128

  /// Creates a source file from its path and text.
  public convenience init(path: String, text: String) {
    self.init(path: path, bytes: Array(text.utf8))
  }

  /// Creates a source file from its path and its bytes as read.
  public init(path: String, bytes: [UInt8]) {
    id = Self.registry.reserve()
    self.path = path
    self.bytes = bytes
    var starts = [0]
    var isASCII = true
    for (offset, byte) in bytes.enumerated() {
      if byte == UInt8(ascii: "\n") { starts.append(offset + 1) }
      if byte >= 0x80 { isASCII = false }
    }
    self.lineStarts = starts
    var checkpoints: [(offset: Int, columns: Int)] = []
    if !isASCII {
      checkpoints.reserveCapacity(bytes.count / Self.scalarStride + 2)
      var offset = 0
      var columns = 0
      while offset < bytes.count {
        while checkpoints.count * Self.scalarStride <= offset { checkpoints.append((offset, columns)) }
        offset += Self.scalarLength(at: offset, in: bytes)
        columns += 1
      }
      while checkpoints.count * Self.scalarStride <= bytes.count { checkpoints.append((bytes.count, columns)) }
    }
    self.scalarCheckpoints = checkpoints
    Self.registry.store(self, at: id)
  }

  /// The registered file with number `id`.
  static func registered(_ id: Int) -> SourceFile {
    registry.file(id)
  }

  /// Runs `body`, then forgets the source files created meanwhile whose path starts with `pathPrefix`, so that a
  /// process that reads one input after another (a fuzzer) does not keep them all. Nothing may hold a `SourceRange`
  /// or a `SourceFile` of a forgotten file afterwards; files of other paths, made by other threads meanwhile, are
  /// kept. Numbers are never reused.
  public static func forgettingFiles<Result>(under pathPrefix: String, createdIn body: () throws -> Result) rethrows
    -> Result
  {
    let first = registry.count
    defer { registry.forget(from: first) { $0.path.hasPrefix(pathPrefix) } }
    return try body()
  }

  /// The 1-based line holding `offset`.
  public func line(of offset: Int) -> Int {
    var low = 0
    var high = lineStarts.count - 1
    while low < high {
      let mid = (low + high + 1) / 2
      if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
    }
    return low + 1
  }

  /// The 1-based line and column (in Unicode scalars) of `offset`.
  public func location(of offset: Int) -> SourceLocation {
    let clamped = max(0, min(offset, bytes.count))
    let line = line(of: clamped)
    let start = min(lineStart(line), clamped)
    return SourceLocation(line: line, column: columns(before: clamped) - columns(before: start) + 1)
  }

  /// The number of columns in the bytes before `offset` (a column boundary). At most `scalarStride` bytes and a
  /// sequence are read.
  private func columns(before offset: Int) -> Int {
    guard !scalarCheckpoints.isEmpty else { return offset }
    var (index, count) = scalarCheckpoints[offset / Self.scalarStride]
    while index < offset {
      index += Self.scalarLength(at: index, in: bytes)
      count += 1
    }
    return count
  }

  /// The text of a 1-based line, without its line break.
  public func lineText(_ line: Int) -> String {
    guard line >= 1, line <= lineStarts.count else { return "" }
    let start = lineStart(line)
    var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
    if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
  }

  /// The text covered by a byte range.
  public func text(in range: Range<Int>) -> String {
    let lower = max(0, min(range.lowerBound, bytes.count))
    let upper = max(lower, min(range.upperBound, bytes.count))
    return String(decoding: bytes[lower..<upper], as: UTF8.self)
  }

  /// The scalars of a byte range, one per column (`location(of:)`): each byte of a malformed sequence is one U+FFFD,
  /// where `text(in:)` may replace a whole malformed sequence with one.
  public func columnScalars(in range: Range<Int>) -> [Unicode.Scalar] {
    let lower = max(0, min(range.lowerBound, bytes.count))
    let upper = max(lower, min(range.upperBound, bytes.count))
    var scalars: [Unicode.Scalar] = []
    var offset = lower
    while offset < upper {
      let length = min(Self.scalarLength(at: offset, in: bytes), upper - offset)
      var iterator = bytes[offset..<(offset + length)].makeIterator()
      var parser = Unicode.UTF8.ForwardParser()
      if case .valid(let scalar) = parser.parseScalar(from: &iterator), scalar.count == length {
        scalars.append(Unicode.UTF8.decode(scalar))
      } else {
        scalars.append(Unicode.Scalar(0xFFFD)!)
      }
      offset += length
    }
    return scalars
  }

  /// The range of a whole 1-based line, without its line break.
  public func rangeOfLine(_ line: Int) -> Range<Int> {
    guard line >= 1, line <= lineStarts.count else { return bytes.count..<bytes.count }
    let start = lineStart(line)
    var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
    if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
    return start..<max(start, end)
  }

  /// Where the text of a 1-based line starts: after the byte order mark on the first line, which is no character.
  private func lineStart(_ line: Int) -> Int {
    line == 1 && bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : lineStarts[line - 1]
  }

  /// The length of the UTF-8 sequence at `index`: a well-formed scalar counts as one column, and so does each byte
  /// of a malformed sequence.
  static func scalarLength(at index: Int, in bytes: [UInt8]) -> Int {
    let expected: Int
    switch bytes[index] {
    case 0xC2...0xDF: expected = 2
    case 0xE0...0xEF: expected = 3
    case 0xF0...0xF4: expected = 4
    default: return 1
    }
    guard index + expected <= bytes.count else { return 1 }
    var iterator = bytes[index..<(index + expected)].makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    if case .valid(let scalar) = parser.parseScalar(from: &iterator) { return scalar.count }
    return 1
  }

  public var description: String { path }

  public static func == (lhs: SourceFile, rhs: SourceFile) -> Bool { lhs === rhs }
  public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// A 1-based line and column.
public struct SourceLocation: Hashable, Sendable, Comparable {
  /// 1-based line.
  public var line: Int
  /// 1-based column, counted in Unicode scalars.
  public var column: Int

  /// Creates a location.
  public init(line: Int, column: Int) {
    self.line = line
    self.column = column
  }

  public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
    (lhs.line, lhs.column) < (rhs.line, rhs.column)
  }
}

/// A range of UTF-8 bytes in one source file.
public struct SourceRange: Hashable, Sendable {
  @usableFromInline let fileID: Int32
  @usableFromInline let startOffset: Int32
  @usableFromInline let endOffset: Int32

  /// The file the range lies in.
  public var file: SourceFile { SourceFile.registered(Int(fileID)) }
  /// Offset of the first byte.
  public var start: Int { Int(startOffset) }
  /// Offset one past the last byte.
  public var end: Int { Int(endOffset) }

  /// Creates a range; an inverted range is made empty. Inlinable: readers make one for every field they read.
  @inlinable
  public init(file: SourceFile, start: Int, end: Int) {
    fileID = Int32(truncatingIfNeeded: file.id)
    startOffset = Int32(clamping: start)
    endOffset = Int32(clamping: max(start, end))
  }

  /// Creates a range from a byte range.
  @inlinable
  public init(file: SourceFile, _ range: Range<Int>) {
    self.init(file: file, start: range.lowerBound, end: range.upperBound)
  }

  /// Whether `other` lies inside this range (same file).
  public func contains(_ other: SourceRange) -> Bool {
    fileID == other.fileID && startOffset <= other.startOffset && other.endOffset <= endOffset
  }

  /// Where the range starts.
  public var startLocation: SourceLocation { file.location(of: start) }
  /// Where the range ends (the position after its last character).
  public var endLocation: SourceLocation { file.location(of: end) }
  /// The text the range covers.
  public var text: String { file.text(in: start..<end) }
}
