import Testing

@testable import PolicyLanguage

/// Text from the input on a terminal: control characters, line separators and bidirectional overrides are shown
/// as visible escapes, in diagnostics too, with the caret still under its column.
@Suite struct TerminalTextTests {
  @Test(arguments: [
    ("plain name", "plain name"), ("a\nb", "a\\u{A}b"), ("\u{1B}[31mred", "\\u{1B}[31mred"),
    ("del\u{7F}", "del\\u{7F}"),
    ("c1\u{85}\u{9B}", "c1\\u{85}\\u{9B}"), ("rlo\u{202E}txt", "rlo\\u{202E}txt"),
    ("iso\u{2066}x\u{2069}", "iso\\u{2066}x\\u{2069}"),
    ("ls\u{2028}", "ls\\u{2028}"), ("tab\t", "tab\\u{9}"), ("Süd €", "Süd €"),
  ])
  func controlCharactersAreShownAsEscapes(_ text: String, _ shown: String) {
    #expect(TerminalText.escaped(text) == shown)
  }

  /// The caret line under `token`, which starts at `column` (from 0) of the shown source line.
  static func underline(_ token: String, at column: Int) -> String {
    "      | " + String(repeating: " ", count: column) + "^" + String(repeating: "~", count: token.count - 1) + "\n"
  }

  @Test func diagnosticsShowControlCharactersOfNamesAndSourceLinesEscaped() {
    let file = SourceFile(path: "site\n.conduit", text: "allow \"x\u{1B}y\" -> plc-1\n")
    var engine = DiagnosticEngine()
    engine.error(
      .unknownName, "unknown asset 'x\u{1B}y'\nforged: error", at: SourceRange(file: file, start: 6, end: 11))
    let text = TextDiagnosticRenderer().render(engine.diagnostics[0])
    let header = "site\\u{A}.conduit:1:7: error: unknown asset 'x\\u{1B}y'\\u{A}forged: error [unknown-name]\n"
    let line = "    1 | allow \"x\\u{1B}y\" -> plc-1\n"
    #expect(text == header + line + Self.underline("\"x\\u{1B}y\"", at: 6))
    #expect(!text.contains("\u{1B}"))
  }

  @Test func aCaretUnderAControlCharacterCoversItsEscape() {
    let file = SourceFile(path: "p.conduit", text: "zone \"a\u{7}b\" {\n")
    var engine = DiagnosticEngine()
    engine.error(.syntax, "bad", at: SourceRange(file: file, start: 5, end: 10))
    let text = TextDiagnosticRenderer().render(engine.diagnostics[0])
    #expect(text.hasSuffix("    1 | zone \"a\\u{7}b\" {\n" + Self.underline("\"a\\u{7}b\"", at: 5)))
  }
}
