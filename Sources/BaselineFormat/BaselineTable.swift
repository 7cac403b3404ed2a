import Foundation

/// A value read from a baseline cell: CSV cells are always `.text`; JSON strings, numbers and booleans are `.text`
/// (numbers as written in the source, booleans "true"/"false"), JSON arrays of scalars are `.list`.
public enum BaselineValue: Hashable, Sendable {
  /// A single value as text.
  case text(String)
  /// The elements of a JSON array of strings, numbers and booleans, each as text (`null` elements are left out).
  case list([String])
}

/// One cell of a record: the key as written in the header (CSV) or object (JSON), its value, and the UTF-8 byte range
/// of the value in the file (for a quoted CSV cell or a JSON string: the range including the quotes).
public struct BaselineCell: Hashable, Sendable {
  /// The column name from the CSV header, or the member name of the JSON object, unquoted and unescaped.
  public var key: String
  /// The UTF-8 byte range of the key in the file: the CSV header cell or the JSON member name, quotes included.
  public var keyRange: Range<Int>
  /// The value of the cell.
  public var value: BaselineValue
  /// The UTF-8 byte range of the value in the file, quotes and brackets included; empty for an empty CSV cell.
  public var valueRange: Range<Int>

  /// Creates a cell from its key, value and their byte ranges.
  public init(key: String, keyRange: Range<Int>, value: BaselineValue, valueRange: Range<Int>) {
    self.key = key
    self.keyRange = keyRange
    self.value = value
    self.valueRange = valueRange
  }
}

/// One row (CSV) or object (JSON).
public struct BaselineRecord: Hashable, Sendable {
  /// The 1-based line of the record's first byte (for JSON: the line of its `{`).
  public var line: Int
  /// The UTF-8 byte range of the whole record (CSV: the row without its line break; JSON: `{` through `}`).
  public var range: Range<Int>
  /// CSV: one cell per header column in header order, empty cells included as `.text("")`;
  /// JSON: one cell per member in source order, members whose value is `null` left out.
  public var cells: [BaselineCell]

  /// Creates a record from its line, byte range and cells.
  public init(line: Int, range: Range<Int>, cells: [BaselineCell]) {
    self.line = line
    self.range = range
    self.cells = cells
  }

  /// The first cell whose key is exactly `key`, if any.
  public func cell(forKey key: String) -> BaselineCell? {
    cells.first { $0.key == key }
  }
}

/// A problem found while reading: a message (lowercase, no final period, like compiler diagnostics) and where.
public struct BaselineReadError: Hashable, Sendable, Error, CustomStringConvertible {
  /// What is wrong, lowercase and without a final period.
  public var message: String
  /// The UTF-8 byte range in the file that the problem is about; empty when it is about a position (such as the end).
  public var range: Range<Int>
  /// The 1-based line of the start of `range`.
  public var line: Int

  /// Creates an error from its message, byte range and line.
  public init(message: String, range: Range<Int>, line: Int) {
    self.message = message
    self.range = range
    self.line = line
  }

  /// The error as `line N: message`.
  public var description: String { "line \(line): \(message)" }
}

/// A JSON object that gives the same key twice: the later value is used (a warning, not an error).
public struct BaselineDuplicateKey: Hashable, Sendable {
  /// The key, unescaped.
  public var key: String
  /// The UTF-8 byte range of the later key, quotes included.
  public var range: Range<Int>
  /// The 1-based line of the later key.
  public var line: Int
  /// The UTF-8 byte range of the earlier key (the previous time it was given), quotes included.
  public var earlierRange: Range<Int>

  /// Creates a duplicate key from the later key's range and line and the earlier key's range.
  public init(key: String, range: Range<Int>, line: Int, earlierRange: Range<Int>) {
    self.key = key
    self.range = range
    self.line = line
    self.earlierRange = earlierRange
  }
}

/// The syntax of a baseline file.
public enum BaselineFileFormat: Hashable, Sendable {
  /// Comma- or semicolon-separated values with a header line; `delimiter` is the separator byte.
  case csv(delimiter: UInt8)
  /// A JSON array of objects.
  case json
}

/// The raw table of a baseline file: its records and cells with their exact positions, and the problems found.
public struct BaselineTable: Sendable {
  /// The syntax the file was read as.
  public var format: BaselineFileFormat
  /// The CSV header cells (each with `value` = `.text(name)` and `valueRange` = `keyRange`); empty for JSON.
  public var header: [BaselineCell]
  /// The records in file order.
  public var records: [BaselineRecord]
  /// The problems found, in file order.
  public var errors: [BaselineReadError]
  /// The keys a JSON object gives twice, in file order (always empty for CSV).
  public var duplicateKeys: [BaselineDuplicateKey]

  /// Creates a table from its parts.
  public init(
    format: BaselineFileFormat, header: [BaselineCell], records: [BaselineRecord], errors: [BaselineReadError],
    duplicateKeys: [BaselineDuplicateKey] = []
  ) {
    self.format = format
    self.header = header
    self.records = records
    self.errors = errors
    self.duplicateKeys = duplicateKeys
  }

  /// Reads a baseline from its bytes. `pathExtension` ("csv", "json", case-insensitive) picks the format; when it is
  /// neither, a first non-whitespace byte of `[` means JSON, otherwise CSV.
  public static func read(_ bytes: [UInt8], pathExtension: String) -> BaselineTable {
    var fileExtension = pathExtension.lowercased()
    if fileExtension.hasPrefix(".") { fileExtension.removeFirst() }
    switch fileExtension {
    case "csv": return CSVReader.read(bytes, delimiter: nil)
    case "json": return JSONReader.read(bytes)
    default: return startsWithOpeningBracket(bytes) ? JSONReader.read(bytes) : CSVReader.read(bytes, delimiter: nil)
    }
  }

  /// Reads a baseline as `read(_:pathExtension:)` does, but hands the records to `body` in file order, at most
  /// `chunkSize` at a time, as they are read, with the format they are read as. The table returned has no records,
  /// so that a large inventory is never held twice (as records and as what the caller makes of them).
  public static func read(
    _ bytes: [UInt8], pathExtension: String, recordsInChunksOf chunkSize: Int,
    _ body: (BaselineFileFormat, [BaselineRecord]) -> Void
  ) -> BaselineTable {
    withoutActuallyEscaping(body) { body in
      let chunks = RecordChunks(size: max(1, chunkSize), sink: body)
      var fileExtension = pathExtension.lowercased()
      if fileExtension.hasPrefix(".") { fileExtension.removeFirst() }
      let isJSON = fileExtension == "json" || (fileExtension != "csv" && startsWithOpeningBracket(bytes))
      return isJSON ? JSONReader.read(bytes, chunks: chunks) : CSVReader.read(bytes, delimiter: nil, chunks: chunks)
    }
  }

  /// Reads a baseline from its bytes in the given format; for CSV, `delimiter` is used as given, not detected.
  public static func read(_ bytes: [UInt8], format: BaselineFileFormat) -> BaselineTable {
    switch format {
    case .csv(let delimiter): CSVReader.read(bytes, delimiter: delimiter)
    case .json: JSONReader.read(bytes)
    }
  }

  /// Reads the baseline file at `url`, picking the format from its path extension as `read(_:pathExtension:)` does.
  public static func read(contentsOf url: URL) throws -> BaselineTable {
    let data = try Data(contentsOf: url)
    return read([UInt8](data), pathExtension: url.pathExtension)
  }

  private static func startsWithOpeningBracket(_ bytes: [UInt8]) -> Bool {
    var position = ByteValue.byteOrderMarkLength(bytes)
    while position < bytes.count, ByteValue.isJSONWhitespace(bytes[position]) { position += 1 }
    return position < bytes.count && bytes[position] == ByteValue.openingBracket
  }
}

/// Where a reader hands its records when they are read in chunks.
struct RecordChunks {
  var size: Int
  var sink: (BaselineFileFormat, [BaselineRecord]) -> Void

  /// Hands the records read so far to the sink (when full: only once there are `size` of them) and forgets them.
  func flush(_ records: inout [BaselineRecord], _ format: BaselineFileFormat, whenFull: Bool) {
    guard !records.isEmpty, !whenFull || records.count >= size else { return }
    sink(format, records)
    records.removeAll(keepingCapacity: true)
  }
}
