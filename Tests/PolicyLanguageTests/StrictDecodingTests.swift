import Testing

@testable import PolicyLanguage

/// A policy given as bytes, and the syntax errors expected: message and 1-based line and column of each.
struct DecodingCase: CustomTestStringConvertible, Sendable {
  var name: String
  var bytes: [UInt8]
  var expected: [(message: String, line: Int, column: Int)]

  var testDescription: String { name }

  init(_ name: String, _ parts: [[UInt8]], _ expected: [(message: String, line: Int, column: Int)]) {
    self.name = name
    self.bytes = parts.flatMap { $0 }
    self.expected = expected
  }
}

private func text(_ string: String) -> [UInt8] { Array(string.utf8) }

@Suite struct StrictDecodingTests {
  static let cases: [DecodingCase] = [
    DecodingCase(
      "a byte that is not UTF-8 between tokens is reported and skipped; the next statement still parses",
      [text("site a"), [0xFF], text("\nzone 1 {\n}\n")],
      [("invalid UTF-8 byte 0xff", 1, 7), ("expected a zone name", 2, 6)]),
    DecodingCase(
      "Latin-1 in a string: the first bad byte",
      [text("zone z {\n  description \"caf"), [0xE9, 0xE8], text("\"\n}\n")],
      [("invalid UTF-8 byte 0xe9 in a string", 2, 19)]),
    DecodingCase(
      "a truncated sequence in a comment", [text("site a # na"), [0xC3], text("\nsite b\n")],
      [("invalid UTF-8 byte 0xc3 in a comment", 1, 12)]),
    DecodingCase(
      "an overlong encoding of '/' is not UTF-8", [text("include \"a"), [0xC0, 0xAF], text("b\"\n")],
      [("invalid UTF-8 byte 0xc0 in a string", 1, 11)]),
    DecodingCase(
      "an encoded surrogate is not UTF-8", [text("site \"x"), [0xED, 0xA0, 0x80], text("\"\n")],
      [("invalid UTF-8 byte 0xed in a string", 1, 8)]),
    DecodingCase(
      "NUL in a quoted name", [text("zone \"ot"), [0x00], text("-net\" {\n}\n")],
      [("control character U+0000 in a string", 1, 9)]),
    DecodingCase(
      "an escape sequence in a string", [text("site \"plant"), [0x1B], text("[2J\"\n")],
      [("control character U+001B in a string", 1, 12)]),
    DecodingCase(
      "a carriage return inside a string", [text("site \"a"), [0x0D], text("b\"\n")],
      [("control character U+000D in a string", 1, 8)]),
    DecodingCase(
      "DEL in a string", [text("site \"a"), [0x7F], text("\"\n")], [("control character U+007F in a string", 1, 8)]),
    DecodingCase(
      "C1 NEL (U+0085) in a string, after a two-byte character", [text("site \"é"), [0xC2, 0x85], text("\"\n")],
      [("control character U+0085 in a string", 1, 8)]),
    DecodingCase(
      "only the first control character of a string", [text("site \"a"), [0x01, 0x02], text("\"\n")],
      [("control character U+0001 in a string", 1, 8)]),
    DecodingCase(
      "NUL inside an unquoted name splits it, and is reported", [text("site plc"), [0x00], text("1\n")],
      [("control character U+0000", 1, 9), ("expected the end of the statement", 1, 10)]),
    DecodingCase(
      "a run of control characters between tokens is one error", [text("site a "), [0x1B, 0x1B, 0x07], text("\n")],
      [("control character U+001B", 1, 8)]),
    DecodingCase(
      "C1 CSI (U+009B) between tokens", [text("site a "), [0xC2, 0x9B], text("\n")],
      [("control character U+009B", 1, 8)]),
    DecodingCase(
      "an invisible character between tokens is named by code point",
      [text("site a"), [0xE2, 0x80, 0xAE], text("b\n")],
      [("unexpected character U+202E", 1, 7)]),
    DecodingCase("tabs between tokens and inside strings are whitespace", [text("site\t\"a\tb\"\t# c\t\n")], []),
    DecodingCase("a byte order mark at the start is skipped", [[0xEF, 0xBB, 0xBF], text("site a\n")], []),
    DecodingCase(
      "a byte order mark elsewhere is an invisible character",
      [text("site a\n"), [0xEF, 0xBB, 0xBF], text("site b\n")],
      [("unexpected character U+FEFF", 2, 1)]),
    DecodingCase("UTF-8 in strings and comments is fine", [text("site \"Kläranlage Süd\" # Wasser 💧\n")], []),
  ]

  @Test(arguments: cases)
  func reportsEveryBadByteWhereItIs(_ decodingCase: DecodingCase) {
    let file = SourceFile(path: "site.conduit", bytes: decodingCase.bytes)
    var diagnostics = DiagnosticEngine()
    _ = Parser.parse(file, diagnostics: &diagnostics)
    let found = diagnostics.diagnostics.sorted { ($0.range?.start ?? 0) < ($1.range?.start ?? 0) }
    #expect(found.count == decodingCase.expected.count, "\(found.map(\.message))")
    for (diagnostic, expected) in zip(found, decodingCase.expected) {
      #expect(diagnostic.id == .syntax)
      #expect(diagnostic.message.hasPrefix(expected.message), "\(diagnostic.message)")
      let location = diagnostic.range?.startLocation
      #expect(location == SourceLocation(line: expected.line, column: expected.column), "\(diagnostic.message)")
    }
  }

  @Test func theStringIsKeptWithTheRestOfTheStatement() {
    let file = SourceFile(path: "site.conduit", bytes: text("site \"a") + [0x00] + text("b\"\n"))
    var diagnostics = DiagnosticEngine()
    let parsed = Parser.parse(file, diagnostics: &diagnostics)
    guard case .site(let site)? = parsed.declarations.first else {
      Issue.record("no site declaration")
      return
    }
    #expect(site.name.text == "a\u{0}b")
    #expect(diagnostics.diagnostics.count == 1)
  }

  @Test func columnsCountEachMalformedByteOnce() {
    let file = SourceFile(
      path: "site.conduit", bytes: text("é") + [0xFF, 0xC3] + text("ä") + [0xE2, 0x82] + text("x"))
    #expect(file.location(of: 2) == SourceLocation(line: 1, column: 2))
    #expect(file.location(of: 3) == SourceLocation(line: 1, column: 3))
    #expect(file.location(of: 4) == SourceLocation(line: 1, column: 4))
    #expect(file.location(of: 6) == SourceLocation(line: 1, column: 5))
    #expect(file.location(of: 8) == SourceLocation(line: 1, column: 7))
  }

  @Test func aByteOrderMarkIsNoColumnAndNoPartOfTheLine() {
    let file = SourceFile(path: "site.conduit", bytes: [0xEF, 0xBB, 0xBF] + text("site a b\n"))
    var diagnostics = DiagnosticEngine()
    _ = Parser.parse(file, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.map { $0.range?.startLocation } == [SourceLocation(line: 1, column: 8)])
    #expect(file.location(of: 3) == SourceLocation(line: 1, column: 1))
    #expect(file.lineText(1) == "site a b")
    #expect(file.rangeOfLine(1) == 3..<11)
  }

  @Test func theBytesAreKeptAsRead() {
    let bytes: [UInt8] = text("site ") + [0xFF, 0xFE] + text("\n")
    let file = SourceFile(path: "site.conduit", bytes: bytes)
    #expect(file.bytes == bytes)
    #expect(file.text == "site \u{FFFD}\u{FFFD}\n")
  }
}
