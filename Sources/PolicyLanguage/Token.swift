/// The reserved words of the language: never names unless quoted.
public enum Keyword: String, Sendable, Hashable, CaseIterable {
  case site, baseline, include, service, zone, asset, gateway, conduit, mitigation, allow, isolate, revoke
  case between, and, from, to, role, log, functions, management, interface
  case acceptRisk = "accept-risk"

  /// Whether the keyword starts a top-level declaration.
  public var startsDeclaration: Bool {
    switch self {
    case .site, .baseline, .include, .service, .zone, .asset, .gateway, .conduit, .mitigation, .acceptRisk: true
    default: false
    }
  }

  /// Keywords by the length of their text: a word is compared only with the two or three keywords as long as it,
  /// byte by byte, without hashing.
  static let byLength: [[(text: [UInt8], keyword: Keyword)]] = {
    let longest = allCases.map(\.rawValue.utf8.count).max() ?? 0
    var table: [[(text: [UInt8], keyword: Keyword)]] = Array(repeating: [], count: longest + 1)
    for keyword in allCases { table[keyword.rawValue.utf8.count].append((Array(keyword.rawValue.utf8), keyword)) }
    return table
  }()

  /// The keyword spelled by `word`, if any.
  static func spelled(by word: UnsafeBufferPointer<UInt8>) -> Keyword? {
    guard word.count < byLength.count else { return nil }
    for candidate in byLength[word.count] where candidate.text.elementsEqual(word) { return candidate.keyword }
    return nil
  }
}

/// What kind of token the lexer produced.
public enum TokenKind: Hashable, Sendable {
  /// An unquoted name (`plc-1`); contextual words such as `level` are names too.
  case name
  /// A reserved word.
  case keyword(Keyword)
  /// A double-quoted string; `Token.value` holds it unescaped.
  case string
  /// A word starting with a digit that is neither an address nor a date: `3`, `3.5`, `1-4`.
  case numeric
  /// An IPv4 or IPv6 address or prefix, as written.
  case address
  /// A MAC address.
  case mac
  /// A `YYYY-MM-DD` date.
  case date
  /// A port literal with a protocol and a slash: `tcp/502`, `icmp/echo-request`, `proto/47`.
  case portLiteral
  /// A name containing `*` or `?`.
  case glob
  case leftBrace, rightBrace, comma, semicolon, arrow
  case newline
  case endOfFile
  /// Text that is no token; `Token.value` holds the reason.
  case invalid
}

/// One token with its byte range.
public struct Token: Hashable, Sendable {
  /// The kind.
  public var kind: TokenKind
  /// Offset of the first byte.
  public var start: Int
  /// Offset one past the last byte.
  public var end: Int
  /// The unescaped text of a string, the reason for an invalid token, or the token's text otherwise.
  public var value: String

  /// Creates a token.
  public init(kind: TokenKind, start: Int, end: Int, value: String) {
    self.kind = kind
    self.start = start
    self.end = end
    self.value = value
  }

  /// Whether this token ends a statement.
  public var isStatementEnd: Bool {
    switch kind {
    case .newline, .semicolon, .rightBrace, .endOfFile: true
    default: false
    }
  }

  /// Whether this is a name, quoted or not.
  public var isNameLike: Bool { kind == .name || kind == .string }
}
