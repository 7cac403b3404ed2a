/// Reads CSV as RFC 4180 describes it, plus what inventory exports do: a byte order mark, `;` as delimiter,
/// blank lines, whitespace around fields, LF or CRLF line breaks.
struct CSVReader {
  /// One field of a row: its text (unquoted, unescaped, trimmed when unquoted) and where it is.
  struct Field {
    var text: String
    var range: Range<Int>
    var line: Int
  }

  /// One row: its fields, its range without the line break, and its first line.
  struct Row {
    var fields: [Field]
    var range: Range<Int>
    var line: Int
  }

  private let bytes: [UInt8]
  private var delimiter: UInt8
  private var position: Int
  private var line = 1
  private var errors: [BaselineReadError] = []
  private var decoder = UTF8TextDecoder()

  private init(bytes: [UInt8], delimiter: UInt8) {
    self.bytes = bytes
    self.delimiter = delimiter
    self.position = ByteValue.byteOrderMarkLength(bytes)
  }

  /// Reads a CSV table; `delimiter` nil means: `;` if the header line has more `;` than `,` outside quotes, else `,`.
  /// With `chunks`, the records go to its sink, at most `size` at a time, and the table keeps none.
  static func read(_ bytes: [UInt8], delimiter: UInt8?, chunks: RecordChunks? = nil) -> BaselineTable {
    var reader = CSVReader(bytes: bytes, delimiter: delimiter ?? ByteValue.comma)
    reader.chunks = chunks
    let (header, records) = reader.readTable(detectingDelimiter: delimiter == nil)
    return BaselineTable(
      format: .csv(delimiter: reader.delimiter), header: header, records: records, errors: reader.errors)
  }

  private var chunks: RecordChunks?

  private mutating func readTable(detectingDelimiter: Bool) -> (header: [BaselineCell], records: [BaselineRecord]) {
    guard skipBlankLines() else {
      errors.append(BaselineReadError(message: "file has no header line", range: position..<position, line: line))
      return ([], [])
    }
    if detectingDelimiter { delimiter = delimiterOfLine(at: position) }
    let header = readHeader()
    var records: [BaselineRecord] = []
    while skipBlankLines() {
      records.append(record(from: readRow(expectedFields: header.count), header: header))
      chunks?.flush(&records, .csv(delimiter: delimiter), whenFull: true)
    }
    chunks?.flush(&records, .csv(delimiter: delimiter), whenFull: false)
    return (header, records)
  }

  private mutating func readHeader() -> [BaselineCell] {
    readRow().fields.map { field in
      let name = Self.trimmingSpaces(field.text)
      if name.isEmpty {
        errors.append(BaselineReadError(message: "empty column name in header", range: field.range, line: field.line))
      }
      return BaselineCell(key: name, keyRange: field.range, value: .text(name), valueRange: field.range)
    }
  }

  private mutating func record(from row: Row, header: [BaselineCell]) -> BaselineRecord {
    var cells: [BaselineCell] = []
    cells.reserveCapacity(header.count)
    for (column, headerCell) in header.enumerated() {
      let (text, range) =
        column < row.fields.count
        ? (row.fields[column].text, row.fields[column].range)
        : ("", row.range.upperBound..<row.range.upperBound)
      cells.append(
        BaselineCell(key: headerCell.key, keyRange: headerCell.keyRange, value: .text(text), valueRange: range))
    }
    if row.fields.count != header.count {
      let fieldCount = row.fields.count == 1 ? "1 field" : "\(row.fields.count) fields"
      let message = "row has \(fieldCount) but the header has \(header.count)"
      if row.fields.count > header.count {
        let firstExtraField = row.fields[header.count]
        let range = firstExtraField.range.lowerBound..<row.range.upperBound
        errors.append(BaselineReadError(message: message, range: range, line: firstExtraField.line))
      } else {
        errors.append(BaselineReadError(message: message, range: row.range, line: row.line))
      }
    }
    return BaselineRecord(line: row.line, range: row.range, cells: cells)
  }

  /// Moves past lines that hold only spaces, tabs and carriage returns; returns false when the input ends first.
  private mutating func skipBlankLines() -> Bool {
    while position < bytes.count {
      var probe = position
      while probe < bytes.count, isTrimmable(bytes[probe]) { probe += 1 }
      if probe == bytes.count {
        position = probe
        return false
      }
      guard bytes[probe] == ByteValue.lineFeed else { return true }
      position = probe + 1
      line += 1
    }
    return false
  }

  private func delimiterOfLine(at start: Int) -> UInt8 {
    var isInQuotes = false
    var semicolonCount = 0
    var commaCount = 0
    for byte in bytes[start...] {
      if byte == ByteValue.quote {
        isInQuotes.toggle()
      } else if !isInQuotes {
        if byte == ByteValue.lineFeed { break }
        if byte == ByteValue.semicolon { semicolonCount += 1 }
        if byte == ByteValue.comma { commaCount += 1 }
      }
    }
    return semicolonCount > commaCount ? ByteValue.semicolon : ByteValue.comma
  }

  private mutating func readRow(expectedFields: Int = 8) -> Row {
    let rowStart = position
    let rowLine = line
    var fields: [Field] = []
    fields.reserveCapacity(expectedFields)
    while true {
      fields.append(readField())
      guard position < bytes.count, bytes[position] == delimiter else { break }
      position += 1
    }
    var rowEnd = position
    if position < bytes.count {
      if rowEnd > rowStart, bytes[rowEnd - 1] == ByteValue.carriageReturn { rowEnd -= 1 }
      position += 1
      line += 1
    }
    return Row(fields: fields, range: rowStart..<rowEnd, line: rowLine)
  }

  private mutating func readField() -> Field {
    while position < bytes.count, bytes[position] == ByteValue.space || bytes[position] == ByteValue.tab,
      bytes[position] != delimiter
    {
      position += 1
    }
    if position < bytes.count, bytes[position] == ByteValue.quote { return readQuotedField() }
    let start = position
    let fieldLine = line
    moveToEndOfField()
    let end = trimmedEnd(start: start, end: position)
    reportControlCharacter(in: bytes[start..<end], line: fieldLine)
    return Field(text: decode(bytes[start..<end], line: fieldLine), range: start..<end, line: fieldLine)
  }

  private mutating func readQuotedField() -> Field {
    let quoteStart = position
    let quoteLine = line
    position += 1
    let contentStart = position
    var segmentStart = position
    var unescaped: [UInt8] = []
    var hasEscapedQuotes = false
    var isClosed = false
    while position < bytes.count {
      let byte = bytes[position]
      if byte == ByteValue.quote {
        guard position + 1 < bytes.count, bytes[position + 1] == ByteValue.quote else {
          isClosed = true
          break
        }
        hasEscapedQuotes = true
        unescaped.append(contentsOf: bytes[segmentStart...position])
        position += 2
        segmentStart = position
        continue
      }
      if byte == ByteValue.lineFeed { line += 1 }
      position += 1
    }
    let content = bytes[contentStart..<position]
    reportControlCharacter(in: content, line: quoteLine)
    let text: String
    if hasEscapedQuotes {
      unescaped.append(contentsOf: bytes[segmentStart..<position])
      text = decode(unescaped, source: content, line: quoteLine)
    } else {
      text = decode(content, line: quoteLine)
    }
    guard isClosed else {
      errors.append(
        BaselineReadError(message: "unterminated quoted field", range: quoteStart..<(quoteStart + 1), line: quoteLine))
      return Field(text: text, range: quoteStart..<position, line: quoteLine)
    }
    position += 1
    let field = Field(text: text, range: quoteStart..<position, line: quoteLine)
    while position < bytes.count, isTrimmable(bytes[position]) { position += 1 }
    if position < bytes.count, bytes[position] != delimiter, bytes[position] != ByteValue.lineFeed {
      let strayStart = position
      moveToEndOfField()
      let strayRange = strayStart..<trimmedEnd(start: strayStart, end: position)
      errors.append(BaselineReadError(message: "unexpected text after closing quote", range: strayRange, line: line))
    }
    return field
  }

  private mutating func moveToEndOfField() {
    while position < bytes.count, bytes[position] != delimiter, bytes[position] != ByteValue.lineFeed {
      position += 1
    }
  }

  private func trimmedEnd(start: Int, end: Int) -> Int {
    var end = end
    while end > start, isTrimmable(bytes[end - 1]) { end -= 1 }
    return end
  }

  private func isTrimmable(_ byte: UInt8) -> Bool {
    (byte == ByteValue.space || byte == ByteValue.tab || byte == ByteValue.carriageReturn) && byte != delimiter
  }

  private mutating func decode(_ slice: ArraySlice<UInt8>, line: Int) -> String {
    let (text, invalidRange) = decoder.decode(slice)
    if let invalidRange { reportInvalidUTF8(invalidRange, in: slice, line: line) }
    return text
  }

  private mutating func decode(_ unescaped: [UInt8], source: ArraySlice<UInt8>, line: Int) -> String {
    let (text, invalidRange) = decoder.decode(unescaped, source: source)
    if let invalidRange { reportInvalidUTF8(invalidRange, in: source, line: line) }
    return text
  }

  /// Reports the first control character of a field; `line` is the line of the field's first byte.
  private mutating func reportControlCharacter(in source: ArraySlice<UInt8>, line: Int) {
    guard let (range, codePoint) = ControlCharacter.first(in: source) else { return }
    let lineBreakCount = source[source.startIndex..<range.lowerBound].lazy.filter { $0 == ByteValue.lineFeed }.count
    errors.append(
      BaselineReadError(
        message: ControlCharacter.message(codePoint, in: "a field"), range: range, line: line + lineBreakCount))
  }

  private mutating func reportInvalidUTF8(_ range: Range<Int>, in source: ArraySlice<UInt8>, line: Int) {
    let lineBreakCount = source[source.startIndex..<range.lowerBound].lazy.filter { $0 == ByteValue.lineFeed }.count
    errors.append(BaselineReadError(message: "file is not valid UTF-8", range: range, line: line + lineBreakCount))
  }

  private static func trimmingSpaces(_ text: String) -> String {
    var trimmed = Substring(text)
    while let first = trimmed.first, first == " " || first == "\t" { trimmed.removeFirst() }
    while let last = trimmed.last, last == " " || last == "\t" { trimmed.removeLast() }
    return String(trimmed)
  }
}
