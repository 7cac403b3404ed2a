/// Splits a policy file into tokens. Comments are dropped; newlines are kept because they end statements.
public struct Lexer: Sendable {
  private let bytes: [UInt8]

  /// Creates a lexer over a source file.
  public init(_ file: SourceFile) {
    self.bytes = file.bytes
  }

  /// Every token of the file, ending with `.endOfFile`.
  public func tokenize() -> [Token] {
    var tokens: [Token] = []
    tokens.reserveCapacity(bytes.count / 4)
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
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
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
        let token = lexString(from: index)
        tokens.append(token)
        index = token.end
      default:
        if Self.isWordByte(byte) {
          let token = lexWord(from: index)
          tokens.append(token)
          index = token.end
        } else {
          var end = index + 1
          while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
          let text = String(decoding: bytes[index..<end], as: UTF8.self)
          tokens.append(Token(kind: .invalid, start: index, end: end, value: "unexpected character '\(text)'"))
          index = end
        }
      }
    }
    tokens.append(Token(kind: .endOfFile, start: bytes.count, end: bytes.count, value: ""))
    return tokens
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

  private func lexString(from start: Int) -> Token {
    var index = start + 1
    var value: [UInt8] = []
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
