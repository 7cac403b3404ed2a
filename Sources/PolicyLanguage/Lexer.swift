/// Something wrong with the bytes of a policy file that the parser would not see as a token of its own: a control
/// character or bytes that are not UTF-8, in a string, in a comment or between tokens.
public struct LexicalProblem: Hashable, Sendable {
  /// The offending bytes.
  public var range: Range<Int>
  /// What is wrong, lowercase and without a final period.
  public var message: String
}

/// Splits a policy file into tokens. Comments are dropped; newlines are kept because they end statements.
///
/// Bytes that are not UTF-8 and control characters other than tab (C0, DEL, C1) are problems, never silently
/// part of a name: between tokens they are reported and skipped like spaces, so everything around them is still
/// read; in a string, its first such character is reported and the string is kept; in a comment, the first bytes
/// that are not UTF-8 are reported (once per file).
public struct Lexer: Sendable {
  private let bytes: [UInt8]

  /// Creates a lexer over a source file.
  public init(_ file: SourceFile) {
    self.bytes = file.bytes
  }

  /// Every token of the file, ending with `.endOfFile`.
  public func tokenize() -> [Token] {
    scan().tokens
  }

  /// Every token of the file, ending with `.endOfFile`, and the problems found between and inside them.
  public func scan() -> (tokens: [Token], problems: [LexicalProblem]) {
    var tokens: [Token] = []
    tokens.reserveCapacity(bytes.count / 4)
    var problems: [LexicalProblem] = []
    var hasReportedCommentEncoding = false
    var index = 0
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    while index < bytes.count {
      let byte = bytes[index]
      switch byte {
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        index += 1
      case UInt8(ascii: "\n"):
        tokens.append(Token(kind: .newline, start: index, end: index + 1, value: "\n"))
        index += 1
      case UInt8(ascii: "#"):
        let start = index
        var isASCII = true
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
          if bytes[index] >= 0x80 { isASCII = false }
          index += 1
        }
        if !isASCII, !hasReportedCommentEncoding, let invalid = Self.firstInvalidUTF8(in: bytes, start..<index) {
          let message = Self.invalidUTF8Message(bytes[invalid.lowerBound]) + " in a comment"
          problems.append(LexicalProblem(range: invalid, message: message))
          hasReportedCommentEncoding = true
        }
      case UInt8(ascii: "{"):
        tokens.append(Token(kind: .leftBrace, start: index, end: index + 1, value: "{"))
        index += 1
      case UInt8(ascii: "}"):
        tokens.append(Token(kind: .rightBrace, start: index, end: index + 1, value: "}"))
        index += 1
      case UInt8(ascii: ","):
        tokens.append(Token(kind: .comma, start: index, end: index + 1, value: ","))
        index += 1
      case UInt8(ascii: ";"):
        tokens.append(Token(kind: .semicolon, start: index, end: index + 1, value: ";"))
        index += 1
      case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: ">"):
        tokens.append(Token(kind: .arrow, start: index, end: index + 2, value: "->"))
        index += 2
      case UInt8(ascii: "\""):
        let token = lexString(from: index, problems: &problems)
        tokens.append(token)
        index = token.end
      default:
        if Self.isWordByte(byte) {
          let token = lexWord(from: index)
          tokens.append(token)
          index = token.end
          continue
        }
        let length = Self.sequenceLength(at: index, in: bytes)
        if let problem = Self.problem(at: index, length: length, in: bytes) {
          var end = index + length
          while end < bytes.count, bytes[end] != UInt8(ascii: "\n"), bytes[end] != UInt8(ascii: "\r") {
            let nextLength = Self.sequenceLength(at: end, in: bytes)
            guard Self.problem(at: end, length: nextLength, in: bytes) != nil else { break }
            end += nextLength
          }
          problems.append(LexicalProblem(range: index..<end, message: problem))
          index = end
          continue
        }
        let text = String(decoding: bytes[index..<(index + length)], as: UTF8.self)
        let shown = text.unicodeScalars.first.map(Self.isInvisible) == true ? Self.codePoint(text) : "'\(text)'"
        tokens.append(Token(kind: .invalid, start: index, end: index + length, value: "unexpected character \(shown)"))
        index += length
      }
    }
    tokens.append(Token(kind: .endOfFile, start: bytes.count, end: bytes.count, value: ""))
    return (tokens, problems)
  }

  /// The length of the UTF-8 sequence at `index`: that of its scalar when well-formed, else that of the malformed
  /// bytes (at least 1).
  static func sequenceLength(at index: Int, in bytes: [UInt8]) -> Int {
    guard bytes[index] >= 0x80 else { return 1 }
    var iterator = bytes[index..<min(bytes.count, index + 4)].makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    switch parser.parseScalar(from: &iterator) {
    case .valid(let scalar): return scalar.count
    case .error(let length): return max(1, length)
    case .emptyInput: return 1
    }
  }

  /// What is wrong with the sequence of `length` bytes at `index`: not UTF-8, or a control character other than
  /// tab; nil when it is a character that may stand in text.
  static func problem(at index: Int, length: Int, in bytes: [UInt8]) -> String? {
    let byte = bytes[index]
    if byte < 0x80 {
      return byte < 0x20 && byte != UInt8(ascii: "\t") || byte == 0x7F
        ? "control character \(codePoint(UInt32(byte)))" : nil
    }
    guard let scalar = scalar(at: index, length: length, in: bytes) else { return invalidUTF8Message(byte) }
    return scalar.properties.generalCategory == .control ? "control character \(codePoint(scalar.value))" : nil
  }

  private static func scalar(at index: Int, length: Int, in bytes: [UInt8]) -> Unicode.Scalar? {
    var iterator = bytes[index..<(index + length)].makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    guard case .valid(let encoded) = parser.parseScalar(from: &iterator) else { return nil }
    return Unicode.UTF8.decode(encoded)
  }

  /// The range of the first malformed UTF-8 sequence in `range`, if any.
  static func firstInvalidUTF8(in bytes: [UInt8], _ range: Range<Int>) -> Range<Int>? {
    var index = range.lowerBound
    while index < range.upperBound {
      let length = sequenceLength(at: index, in: bytes)
      if bytes[index] >= 0x80, scalar(at: index, length: length, in: bytes) == nil { return index..<(index + length) }
      index += length
    }
    return nil
  }

  static func invalidUTF8Message(_ byte: UInt8) -> String {
    "invalid UTF-8 byte 0x\(String(byte, radix: 16, uppercase: false).leftPadded(to: 2))"
  }

  /// `U+001B`.
  static func codePoint(_ value: UInt32) -> String {
    "U+" + String(value, radix: 16, uppercase: true).leftPadded(to: 4)
  }

  private static func codePoint(_ text: String) -> String {
    text.unicodeScalars.map { codePoint($0.value) }.joined(separator: " ")
  }

  /// Whether a scalar would not show as itself in a message: controls, format characters, separators, unassigned.
  private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .unassigned, .privateUse,
      .surrogate, .nonspacingMark, .enclosingMark:
      true
    default: false
    }
  }

  static func isWordByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      true
    case UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "/"),
      UInt8(ascii: "*"), UInt8(ascii: "?"):
      true
    default: false
    }
  }

  private func lexString(from start: Int, problems: inout [LexicalProblem]) -> Token {
    var index = start + 1
    var value: [UInt8] = []
    var hasProblem = false
    while index < bytes.count {
      let byte = bytes[index]
      if byte == UInt8(ascii: "\"") {
        return Token(kind: .string, start: start, end: index + 1, value: String(decoding: value, as: UTF8.self))
      }
      if byte == UInt8(ascii: "\n") { break }
      if byte == UInt8(ascii: "\\") {
        guard index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") || bytes[index + 1] == UInt8(ascii: "\\")
        else {
          var end = index + 1
          while end < bytes.count, bytes[end] != UInt8(ascii: "\n"), bytes[end] != UInt8(ascii: "\"") { end += 1 }
          if end < bytes.count, bytes[end] == UInt8(ascii: "\"") { end += 1 }
          return Token(
            kind: .invalid, start: start, end: end, value: "invalid escape in string: only \\\" and \\\\ are allowed")
        }
        value.append(bytes[index + 1])
        index += 2
        continue
      }
      if byte < 0x20 || byte >= 0x7F {
        let length = Self.sequenceLength(at: index, in: bytes)
        if !hasProblem, let problem = Self.problem(at: index, length: length, in: bytes) {
          problems.append(LexicalProblem(range: index..<(index + length), message: problem + " in a string"))
          hasProblem = true
        }
        value.append(contentsOf: bytes[index..<(index + length)])
        index += length
        continue
      }
      value.append(byte)
      index += 1
    }
    return Token(kind: .invalid, start: start, end: index, value: "unterminated string: a string ends on its own line")
  }

  /// A word: a name or keyword when it is made of name bytes only and neither starts with a digit, `-` or `.` nor
  /// ends with `-` or `.` (found in the one pass that finds its end); otherwise classified by `classifyError` and
  /// `classify`.
  private func lexWord(from start: Int) -> Token {
    bytes.withUnsafeBufferPointer { bytes in
      var end = start
      var onlyNameBytes = true
      while end < bytes.count {
        let byte = bytes[end]
        guard Self.isWordByte(byte) else { break }
        if byte == UInt8(ascii: "-"), end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: ">"), end > start {
          break
        }
        if !Self.isNameByte(byte) { onlyNameBytes = false }
        end += 1
      }
      let word = UnsafeBufferPointer(rebasing: bytes[start..<end])
      let text = String(decoding: word, as: UTF8.self)
      let first = word[0]
      let last = word[word.count - 1]
      if onlyNameBytes, !Self.isDigit(first), first != UInt8(ascii: "-"), first != UInt8(ascii: "."),
        last != UInt8(ascii: "-"), last != UInt8(ascii: ".")
      {
        let kind = Keyword.spelled(by: word).map(TokenKind.keyword) ?? .name
        return Token(kind: kind, start: start, end: end, value: text)
      }
      let slice = self.bytes[start..<end]
      if let error = classifyError(slice, text: text) {
        return Token(kind: .invalid, start: start, end: end, value: error)
      }
      return Token(kind: classify(slice), start: start, end: end, value: text)
    }
  }

  /// The kind of a word that is not malformed.
  private func classify(_ word: ArraySlice<UInt8>) -> TokenKind {
    let first = word.first!
    if word.contains(UInt8(ascii: "*")) || word.contains(UInt8(ascii: "?")) { return .glob }
    if Self.isMAC(word) { return .mac }
    if word.contains(UInt8(ascii: ":")) { return .address }
    if Self.isDigit(first) {
      if Self.isDate(word) { return .date }
      let dots = word.lazy.filter { $0 == UInt8(ascii: ".") }.count
      if dots >= 2 || word.contains(UInt8(ascii: "/")) { return .address }
      return .numeric
    }
    if word.contains(UInt8(ascii: "/")) { return .portLiteral }
    if let keyword = word.withUnsafeBufferPointer(Keyword.spelled(by:)) { return .keyword(keyword) }
    return .name
  }

  private func classifyError(_ word: ArraySlice<UInt8>, text: String) -> String? {
    let first = word.first!
    let isGlob = word.contains(UInt8(ascii: "*")) || word.contains(UInt8(ascii: "?"))
    if isGlob {
      let valid = word.allSatisfy {
        Self.isNameByte($0) || $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?")
      }
      return valid ? nil : "invalid glob '\(text)': a glob is a name with '*' or '?'"
    }
    if Self.isMAC(word) { return nil }
    if word.contains(UInt8(ascii: ":")) {
      let valid = word.allSatisfy {
        Self.isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/")
      }
      return valid ? nil : "invalid IPv6 address '\(text)'"
    }
    if Self.isDigit(first) {
      let valid = word.allSatisfy {
        Self.isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "-")
      }
      return valid ? nil : "'\(text)' is not a valid name: a name that starts with a digit must be quoted (\"\(text)\")"
    }
    if first == UInt8(ascii: "-") || first == UInt8(ascii: ".") || first == UInt8(ascii: "/") {
      return "unexpected '\(text)'"
    }
    if let slash = word.firstIndex(of: UInt8(ascii: "/")) {
      let protocolPart = word[word.startIndex..<slash]
      let valid = protocolPart.allSatisfy(Self.isLetterOrDigit)
      return valid ? nil : "invalid port literal '\(text)'"
    }
    if let last = word.last, last == UInt8(ascii: "-") || last == UInt8(ascii: ".") {
      return "invalid name '\(text)': a name cannot end with '\(Character(UnicodeScalar(last)))'"
    }
    return nil
  }

  static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

  static func isHexDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
      || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
  }

  static func isLetterOrDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
      || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
  }

  static func isNameByte(_ byte: UInt8) -> Bool {
    isLetterOrDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
  }

  static func isMAC(_ word: ArraySlice<UInt8>) -> Bool {
    guard word.count == 17 else { return false }
    for (offset, byte) in word.enumerated() {
      if offset % 3 == 2 {
        if byte != UInt8(ascii: ":") { return false }
      } else if !isHexDigit(byte) {
        return false
      }
    }
    return true
  }

  static func isDate(_ word: ArraySlice<UInt8>) -> Bool {
    guard word.count == 10 else { return false }
    for (offset, byte) in word.enumerated() {
      if offset == 4 || offset == 7 {
        if byte != UInt8(ascii: "-") { return false }
      } else if !isDigit(byte) {
        return false
      }
    }
    return true
  }
}

extension String {
  /// The string with `0`s in front up to `width` characters.
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
