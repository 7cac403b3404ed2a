import Testing

@testable import PolicyLanguage

/// A diagnostic's text is bounded whatever the length of its source line, and a column costs the same anywhere on
/// a line: shown by the size of the output at n and 10n findings on one line, never by timing.
@Suite struct ScalingTests {
  /// One line listing `count` addresses and a warning under each.
  static func findingsOnOneLine(_ count: Int) -> (SourceFile, [Diagnostic]) {
    let addresses = (0..<count).map { "10.50.\($0 / 250).\($0 % 250 + 1)" }
    let file = SourceFile(path: "site.conduit", text: "  allow \(addresses.joined(separator: ", ")) -> plc-1\n")
    var diagnostics: [Diagnostic] = []
    var offset = 8
    for address in addresses {
      diagnostics.append(
        Diagnostic(
          .warning, .unknownDevice, "address \(address) holds no asset",
          at: SourceRange(file: file, start: offset, end: offset + address.utf8.count)))
      offset += address.utf8.count + 2
    }
    return (file, diagnostics)
  }

  @Test func tenTimesTheFindingsOnOneLineGiveAboutTenTimesTheText() {
    let small = TextDiagnosticRenderer().render(Self.findingsOnOneLine(500).1)
    let large = TextDiagnosticRenderer().render(Self.findingsOnOneLine(5000).1)
    #expect(large.utf8.count < 11 * small.utf8.count, "\(small.utf8.count) bytes, then \(large.utf8.count)")
    let longest = large.split(separator: "\n").map(\.utf8.count).max() ?? 0
    #expect(longest < TextDiagnosticRenderer.excerptWidth + 20)
  }

  @Test func aCutLineKeepsTheCaretUnderItsRange() throws {
    let (_, diagnostics) = Self.findingsOnOneLine(400)
    for diagnostic in [diagnostics[0], diagnostics[200], diagnostics[399]] {
      let lines = TextDiagnosticRenderer().render(diagnostic).split(separator: "\n", omittingEmptySubsequences: false)
      let source = Array(lines[1].dropFirst(8).unicodeScalars)
      let underline = Array(lines[2].dropFirst(8).unicodeScalars)
      let caret = try #require(underline.firstIndex(of: "^"))
      let marked = String(String.UnicodeScalarView(source[caret..<underline.count]))
      #expect(marked == diagnostic.range!.text, "\(lines[1])\n\(lines[2])")
      #expect(source.count <= TextDiagnosticRenderer.excerptWidth + 6)
    }
    let first = TextDiagnosticRenderer().render(diagnostics[0])
    #expect(first.contains("   1 |   allow 10.50.0.1, 10.50.0.2,") && first.contains("...\n"))
    let last = TextDiagnosticRenderer().render(diagnostics[399])
    #expect(last.contains("| ...") && last.contains(" -> plc-1\n"))
  }

  @Test func aShortLineIsShownWhole() {
    let (_, diagnostics) = Self.findingsOnOneLine(3)
    #expect(
      TextDiagnosticRenderer().render(diagnostics[1]) == """
        site.conduit:1:20: warning: address 10.50.0.2 holds no asset [unknown-device]
            1 |   allow 10.50.0.1, 10.50.0.2, 10.50.0.3 -> plc-1
              |                    ^~~~~~~~~

        """)
  }

  @Test func columnsOfLongNonASCIILinesMatchACountOfScalars() {
    let names = (0..<3000).map { $0 % 7 == 0 ? "Wärme-€-𝄞" : "plc-\($0)" }.joined(separator: ", ")
    let file = SourceFile(path: "p", text: "site x\n\(names)\nzone ä\n")
    let bytes = Array(file.text.utf8)
    var column = 1
    var line = 2
    for offset in file.lineStarts[1]..<bytes.count {
      if bytes[offset] & 0xC0 != 0x80 {
        #expect(file.location(of: offset) == SourceLocation(line: line, column: column))
        column += 1
      }
      if bytes[offset] == UInt8(ascii: "\n") {
        line += 1
        column = 1
      }
    }
    #expect(file.location(of: bytes.count) == SourceLocation(line: 4, column: 1))
  }
}
