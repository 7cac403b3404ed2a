/// Reads a JSON array of flat objects, keeping the byte range and line of every object, key and value.
struct JSONReader {
  /// A syntax error: reading stops where it is.
  struct SyntaxError: Error {
    var message: String
    var range: Range<Int>
    var line: Int
  }

  /// A string token: its range in the file (quotes included) and its bytes after unescaping, when it had escapes.
  struct StringToken {
    var range: Range<Int>
    var unescaped: [UInt8]?
  }

  private let bytes: [UInt8]
  private var position: Int
  private var line = 1
  private var records: [BaselineRecord] = []
  private var errors: [BaselineReadError] = []
  private var duplicateKeys: [BaselineDuplicateKey] = []
  private var decoder = UTF8TextDecoder()
  private var chunks: RecordChunks?

  private init(bytes: [UInt8]) {
    self.bytes = bytes
    self.position = ByteValue.byteOrderMarkLength(bytes)
  }

  /// Reads a JSON baseline; a syntax error ends reading, keeping the records completed before it.
  /// With `chunks`, the records go to its sink, at most `size` at a time, and the table keeps none.
  static func read(_ bytes: [UInt8], chunks: RecordChunks? = nil) -> BaselineTable {
    var reader = JSONReader(bytes: bytes)
    reader.chunks = chunks
    do {
      try reader.readDocument()
    } catch {
      reader.errors.append(BaselineReadError(message: error.message, range: error.range, line: error.line))
    }
    reader.chunks?.flush(&reader.records, .json, whenFull: false)
    return BaselineTable(
      format: .json, header: [], records: reader.records, errors: reader.errors, duplicateKeys: reader.duplicateKeys)
  }

  private mutating func readDocument() throws(SyntaxError) {
    skipWhitespace()
    guard position < bytes.count, bytes[position] == ByteValue.openingBracket else {
      try reportTopLevelValueThatIsNotAnArray()
      return
    }
    position += 1
    skipWhitespace()
    if !consume(ByteValue.closingBracket) {
      while true {
        skipWhitespace()
        if position < bytes.count, bytes[position] == ByteValue.openingBrace {
          records.append(try readRecord())
          chunks?.flush(&records, .json, whenFull: true)
        } else {
          let elementStart = position
          let elementLine = line
          try skipValue()
          report("array element is not an object", range: elementStart..<position, line: elementLine)
        }
        skipWhitespace()
        if consume(ByteValue.comma) {
          try rejectTrailingComma(before: ByteValue.closingBracket)
          continue
        }
        if consume(ByteValue.closingBracket) { break }
        throw syntaxError("expected ',' or ']' after array element")
      }
    }
    skipWhitespace()
    if position < bytes.count { throw syntaxError("unexpected text after the top-level array") }
  }

  private mutating func reportTopLevelValueThatIsNotAnArray() throws(SyntaxError) {
    let valueStart = position
    let valueLine = line
    let message = "top level must be an array of objects"
    guard position < bytes.count else { throw syntaxError(message) }
    do {
      try skipValue()
    } catch {
      throw SyntaxError(message: message, range: valueStart..<(valueStart + 1), line: valueLine)
    }
    report(message, range: valueStart..<position, line: valueLine)
  }

  private mutating func readRecord() throws(SyntaxError) -> BaselineRecord {
    let recordStart = position
    let recordLine = line
    position += 1
    var cells: [BaselineCell?] = []
    var slots: [String: (keyRange: Range<Int>, slot: Int)] = [:]
    skipWhitespace()
    if !consume(ByteValue.closingBrace) {
      while true {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == ByteValue.quote else {
          throw syntaxError("expected a string key")
        }
        let keyLine = line
        let keyToken = try scanString()
        let key = decode(keyToken)
        skipWhitespace()
        guard consume(ByteValue.colon) else { throw syntaxError("expected ':' after object key") }
        skipWhitespace()
        let cell = try readMemberValue(key: key).map { value, valueRange in
          BaselineCell(key: key, keyRange: keyToken.range, value: value, valueRange: valueRange)
        }
        if let earlier = slots[key] {
          duplicateKeys.append(
            BaselineDuplicateKey(key: key, range: keyToken.range, line: keyLine, earlierRange: earlier.keyRange))
          cells[earlier.slot] = cell
          slots[key] = (keyToken.range, earlier.slot)
        } else {
          slots[key] = (keyToken.range, cells.count)
          cells.append(cell)
        }
        skipWhitespace()
        if consume(ByteValue.comma) {
          try rejectTrailingComma(before: ByteValue.closingBrace)
          continue
        }
        if consume(ByteValue.closingBrace) { break }
        throw syntaxError("expected ',' or '}' after object member")
      }
    }
    return BaselineRecord(line: recordLine, range: recordStart..<position, cells: cells.compactMap { $0 })
  }

  /// Reads a member value; returns nil for `null` and for values that are not allowed (which are reported).
  private mutating func readMemberValue(key: String) throws(SyntaxError) -> (BaselineValue, Range<Int>)? {
    let valueStart = position
    let valueLine = line
    guard position < bytes.count else { throw syntaxError("expected a value") }
    switch bytes[position] {
    case ByteValue.openingBracket:
      return try readList(key: key).map { (.list($0), valueStart..<position) }
    case ByteValue.openingBrace:
      try skipValue()
      report("nested object in member '\(key)' is not supported", range: valueStart..<position, line: valueLine)
      return nil
    default:
      return try readScalar().map { (.text($0), valueStart..<position) }
    }
  }

  /// Reads an array of scalars, leaving out `null`s; returns nil (reporting it) when an element is an array or object.
  private mutating func readList(key: String) throws(SyntaxError) -> [String]? {
    position += 1
    var elements: [String] = []
    var hasNestedValue = false
    skipWhitespace()
    if consume(ByteValue.closingBracket) { return elements }
    while true {
      skipWhitespace()
      let elementStart = position
      let elementLine = line
      if position < bytes.count,
        bytes[position] == ByteValue.openingBracket || bytes[position] == ByteValue.openingBrace
      {
        let kind = bytes[position] == ByteValue.openingBracket ? "array" : "object"
        try skipValue()
        if !hasNestedValue {
          report(
            "nested \(kind) in member '\(key)' is not supported", range: elementStart..<position, line: elementLine)
          hasNestedValue = true
        }
      } else if let element = try readScalar() {
        elements.append(element)
      }
      skipWhitespace()
      if consume(ByteValue.comma) {
        try rejectTrailingComma(before: ByteValue.closingBracket)
        continue
      }
      if consume(ByteValue.closingBracket) { break }
      throw syntaxError("expected ',' or ']' after array element")
    }
    return hasNestedValue ? nil : elements
  }

  /// Reads a string, number or literal as text; nil for `null`.
  private mutating func readScalar() throws(SyntaxError) -> String? {
    guard position < bytes.count else { throw syntaxError("expected a value") }
    let byte = bytes[position]
    if byte == ByteValue.quote { return decode(try scanString()) }
    if byte == ByteValue.minus || ByteValue.isDigit(byte) { return try scanNumber() }
    let wordStart = position
    var wordEnd = position
    while wordEnd < bytes.count, ByteValue.isLetterOrDigit(bytes[wordEnd]) { wordEnd += 1 }
    switch bytes[wordStart..<wordEnd] {
    case [0x74, 0x72, 0x75, 0x65]:
      position = wordEnd
      return "true"
    case [0x66, 0x61, 0x6C, 0x73, 0x65]:
      position = wordEnd
      return "false"
    case [0x6E, 0x75, 0x6C, 0x6C]:
      position = wordEnd
      return nil
    default:
      throw SyntaxError(message: "expected a value", range: wordStart..<max(wordEnd, wordStart + 1), line: line)
    }
  }

  /// Moves past one value of any shape, checking its syntax, without building it.
  private mutating func skipValue() throws(SyntaxError) {
    var closers: [UInt8] = []
    while true {
      skipWhitespace()
      guard position < bytes.count else { throw syntaxError("expected a value") }
      switch bytes[position] {
      case ByteValue.openingBracket:
        position += 1
        skipWhitespace()
        if !consume(ByteValue.closingBracket) {
          closers.append(ByteValue.closingBracket)
          continue
        }
      case ByteValue.openingBrace:
        position += 1
        skipWhitespace()
        if !consume(ByteValue.closingBrace) {
          closers.append(ByteValue.closingBrace)
          try skipKeyAndColon()
          continue
        }
      default:
        _ = try readScalar()
      }
      while let closer = closers.last {
        skipWhitespace()
        if consume(ByteValue.comma) {
          try rejectTrailingComma(before: closer)
          if closer == ByteValue.closingBrace { try skipKeyAndColon() }
          break
        }
        if consume(closer) {
          closers.removeLast()
          continue
        }
        throw syntaxError(
          closer == ByteValue.closingBrace
            ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element")
      }
      if closers.isEmpty { return }
    }
  }

  private mutating func skipKeyAndColon() throws(SyntaxError) {
    skipWhitespace()
    guard position < bytes.count, bytes[position] == ByteValue.quote else { throw syntaxError("expected a string key") }
    _ = try scanString()
    skipWhitespace()
    guard consume(ByteValue.colon) else { throw syntaxError("expected ':' after object key") }
  }

  private mutating func rejectTrailingComma(before closer: UInt8) throws(SyntaxError) {
    let commaPosition = position - 1
    let commaLine = line
    skipWhitespace()
    if position < bytes.count, bytes[position] == closer {
      throw SyntaxError(
        message: "trailing comma is not allowed", range: commaPosition..<(commaPosition + 1), line: commaLine)
    }
  }

  /// Scans a string starting at its opening quote, checking escapes and unescaping when there are any.
  private mutating func scanString() throws(SyntaxError) -> StringToken {
    let start = position
    position += 1
    var segmentStart = position
    var unescaped: [UInt8] = []
    var hasEscapes = false
    var hasReportedControlCharacter = false
    func reportControlCharacter(_ message: String, _ range: Range<Int>) {
      guard !hasReportedControlCharacter else { return }
      report(message, range: range, line: line)
      hasReportedControlCharacter = true
    }
    while true {
      guard position < bytes.count else {
        throw SyntaxError(message: "unterminated string", range: start..<position, line: line)
      }
      let byte = bytes[position]
      if byte == ByteValue.quote { break }
      if byte == ByteValue.backslash {
        hasEscapes = true
        unescaped.append(contentsOf: bytes[segmentStart..<position])
        let escapeStart = position
        let unescapedStart = unescaped.count
        try scanEscape(stringStart: start, into: &unescaped)
        if let scalar = String(decoding: unescaped[unescapedStart...], as: UTF8.self).unicodeScalars.first,
          ControlCharacter.isControl(scalar)
        {
          reportControlCharacter(ControlCharacter.message(scalar.value, in: "a string"), escapeStart..<position)
        }
        segmentStart = position
        continue
      }
      if byte < 0x20 {
        if byte == ByteValue.lineFeed || byte == ByteValue.carriageReturn {
          throw SyntaxError(message: "unterminated string", range: start..<position, line: line)
        }
        let message = ControlCharacter.message(UInt32(byte), in: "a string")
        reportControlCharacter("unescaped " + message, position..<(position + 1))
      } else if byte == 0x7F || byte == 0xC2 {
        let next = bytes[position..<min(position + 2, bytes.count)]
        if let (range, codePoint) = ControlCharacter.first(in: next), range.lowerBound == position {
          reportControlCharacter(ControlCharacter.message(codePoint, in: "a string"), range)
        }
      }
      position += 1
    }
    if hasEscapes { unescaped.append(contentsOf: bytes[segmentStart..<position]) }
    position += 1
    return StringToken(range: start..<position, unescaped: hasEscapes ? unescaped : nil)
  }

  private mutating func scanEscape(stringStart: Int, into unescaped: inout [UInt8]) throws(SyntaxError) {
    let escapeStart = position
    guard position + 1 < bytes.count else {
      throw SyntaxError(message: "unterminated string", range: stringStart..<bytes.count, line: line)
    }
    let escaped: UInt8
    switch bytes[position + 1] {
    case ByteValue.quote, ByteValue.backslash, 0x2F: escaped = bytes[position + 1]
    case 0x62: escaped = 0x08
    case 0x66: escaped = 0x0C
    case 0x6E: escaped = ByteValue.lineFeed
    case 0x72: escaped = ByteValue.carriageReturn
    case 0x74: escaped = ByteValue.tab
    case 0x75:
      let scalar = try scanUnicodeEscape()
      unescaped.append(contentsOf: scalar.utf8)
      return
    default:
      throw SyntaxError(message: "invalid escape", range: escapeStart..<(escapeStart + 2), line: line)
    }
    unescaped.append(escaped)
    position += 2
  }

  /// Scans `\uXXXX`, or two of them forming a surrogate pair.
  private mutating func scanUnicodeEscape() throws(SyntaxError) -> Unicode.Scalar {
    let escapeStart = position
    let codeUnit = try hexCodeUnit(at: escapeStart)
    position += 6
    if (0xD800..<0xDC00).contains(codeUnit) {
      if position + 1 < bytes.count, bytes[position] == ByteValue.backslash, bytes[position + 1] == 0x75 {
        let lowCodeUnit = try hexCodeUnit(at: position)
        if (0xDC00..<0xE000).contains(lowCodeUnit) {
          position += 6
          return Unicode.Scalar(0x10000 + ((codeUnit - 0xD800) << 10) + (lowCodeUnit - 0xDC00))!
        }
      }
    }
    guard let scalar = Unicode.Scalar(codeUnit) else {
      throw SyntaxError(
        message: "unpaired surrogate in unicode escape", range: escapeStart..<(escapeStart + 6), line: line)
    }
    return scalar
  }

  /// The value of the four hexadecimal digits of the `\u` escape at `escapeStart`.
  private func hexCodeUnit(at escapeStart: Int) throws(SyntaxError) -> UInt32 {
    var value: UInt32 = 0
    for offset in 2..<6 {
      guard escapeStart + offset < bytes.count, let digit = ByteValue.hexDigitValue(bytes[escapeStart + offset]) else {
        let end = min(escapeStart + offset + 1, bytes.count)
        throw SyntaxError(message: "invalid unicode escape", range: escapeStart..<end, line: line)
      }
      value = value << 4 | digit
    }
    return value
  }

  /// Scans a number as JSON writes it and returns it as written.
  private mutating func scanNumber() throws(SyntaxError) -> String {
    let start = position
    var end = position
    func skipDigits() -> Bool {
      let digitsStart = end
      while end < bytes.count, ByteValue.isDigit(bytes[end]) { end += 1 }
      return end > digitsStart
    }
    var isValid = true
    if bytes[end] == ByteValue.minus { end += 1 }
    if end < bytes.count, bytes[end] == 0x30 {
      end += 1
    } else {
      isValid = skipDigits()
    }
    if isValid, end < bytes.count, bytes[end] == 0x2E {
      end += 1
      isValid = skipDigits()
    }
    if isValid, end < bytes.count, bytes[end] | 0x20 == 0x65 {
      end += 1
      if end < bytes.count, bytes[end] == 0x2B || bytes[end] == ByteValue.minus { end += 1 }
      isValid = skipDigits()
    }
    let isFollowedByNumberCharacter =
      end < bytes.count
      && (ByteValue.isLetterOrDigit(bytes[end]) || bytes[end] == 0x2E || bytes[end] == 0x2B || bytes[end] == 0x2D)
    guard isValid, !isFollowedByNumberCharacter else {
      while end < bytes.count,
        ByteValue.isLetterOrDigit(bytes[end]) || bytes[end] == 0x2E || bytes[end] == 0x2B || bytes[end] == 0x2D
      {
        end += 1
      }
      throw SyntaxError(message: "invalid number", range: start..<max(end, start + 1), line: line)
    }
    position = end
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }

  private mutating func decode(_ token: StringToken) -> String {
    let content = bytes[(token.range.lowerBound + 1)..<(token.range.upperBound - 1)]
    let (text, invalidRange) =
      if let unescaped = token.unescaped {
        decoder.decode(unescaped, source: content)
      } else {
        decoder.decode(content)
      }
    if let invalidRange { report("file is not valid UTF-8", range: invalidRange, line: line) }
    return text
  }

  private mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case ByteValue.space, ByteValue.tab, ByteValue.carriageReturn: position += 1
      case ByteValue.lineFeed:
        position += 1
        line += 1
      default: return
      }
    }
  }

  private mutating func consume(_ byte: UInt8) -> Bool {
    guard position < bytes.count, bytes[position] == byte else { return false }
    position += 1
    return true
  }

  private mutating func report(_ message: String, range: Range<Int>, line: Int) {
    errors.append(BaselineReadError(message: message, range: range, line: line))
  }

  /// A syntax error at the current byte, or at the end of the file.
  private func syntaxError(_ message: String) -> SyntaxError {
    SyntaxError(message: message, range: position..<min(position + 1, bytes.count), line: line)
  }
}
