import Testing

@testable import PolicyLanguage

/// Names and strings conduit writes into generated policy text read back as themselves, or are refused.
@Suite struct PolicyTextTests {
  @Test(arguments: [
    ("plc-1", "plc-1"), ("HMI 2", #""HMI 2""#), ("10-PLC", #""10-PLC""#), ("zone", #""zone""#),
    ("ends-", #""ends-""#), (#"a"b\c"#, #""a\"b\\c""#), ("Pumpe_Süd", #""Pumpe_Süd""#), ("x.y", "x.y"),
  ])
  func namesAreWrittenBareOrQuoted(_ name: String, _ written: String) throws {
    #expect(PolicyText.name(name) == written)
    var diagnostics = DiagnosticEngine()
    let file = Parser.parse(
      SourceFile(path: "t", text: "mitigation m {\n  reason \"r\"\n  isolate \(written)\n}\n"),
      diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    guard case .mitigation(let mitigation)? = file.declarations.first else {
      Issue.record("no mitigation parsed")
      return
    }
    #expect(mitigation.isolates.first?.endpoints.first.map { "\($0)" }?.contains(name) == true)
  }

  @Test func namesWithControlCharactersOrNothingCannotBeWritten() {
    #expect(PolicyText.name("") == nil)
    #expect(PolicyText.name("plc\n1") == nil)
    #expect(PolicyText.name("plc\u{1b}[2J") == nil)
  }

  @Test func stringsAndCommentsLoseTheirControlCharacters() {
    #expect(PolicyText.string("a \"quoted\" \\ title\nnext") == #""a \"quoted\" \\ title next""#)
    #expect(PolicyText.comment("line\u{2028}break\r") == "# line break ")
  }
}
