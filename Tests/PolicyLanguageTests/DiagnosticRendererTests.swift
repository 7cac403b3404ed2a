import Foundation
import Testing

@testable import PolicyLanguage

@Suite struct DiagnosticRendererTests {
  let file = SourceFile(
    path: "riverside.conduit",
    text: "conduit c {\n  between a and b\n  allow hmi-1 -> plc-3 service modbus\n}\n")

  func diagnostic() -> Diagnostic {
    let start = file.lineStarts[2] + 17
    return Diagnostic(
      .error, .unknownName, "unknown asset 'plc-3'", at: SourceRange(file: file, start: start, end: start + 5),
      notes: [DiagnosticNote("did you mean 'plc-2'?", at: SourceRange(file: file, start: 14, end: 15))])
  }

  @Test func rendersLikeTheCLIReference() {
    let text = TextDiagnosticRenderer().render(diagnostic())
    #expect(
      text == """
        riverside.conduit:3:18: error: unknown asset 'plc-3' [unknown-name]
            3 |   allow hmi-1 -> plc-3 service modbus
              |                  ^~~~~
        riverside.conduit:2:3: note: did you mean 'plc-2'?

        """)
  }

  @Test func columnsCountCharactersNotBytes() {
    let file = SourceFile(path: "p", text: "site \"Wärme\" x\n")
    let range = SourceRange(file: file, start: 14, end: 15)
    #expect(range.startLocation == SourceLocation(line: 1, column: 14))
  }

  @Test func aTruncatedUTF8SequenceIsOneColumnPerByteInTheExcerptToo() {
    let file = SourceFile(
      path: "p", bytes: Array("plc".utf8) + [0xE2, 0x80] + Array("ian,o".utf8) + [0xE2, 0x80] + Array("x\n".utf8))
    let start = 12
    let diagnostic = Diagnostic(
      .error, .unknownName, "m", at: SourceRange(file: file, start: start, end: start + 1))
    #expect(diagnostic.range?.startLocation == SourceLocation(line: 1, column: 13))
    #expect(
      TextDiagnosticRenderer().render(diagnostic) == """
        p:1:13: error: m [unknown-name]
            1 | plc\u{FFFD}\u{FFFD}ian,o\u{FFFD}\u{FFFD}x
              |             ^

        """)
  }

  @Test func summaryCountsAcceptedRisksApart() {
    var accepted = diagnostic()
    accepted.severity = .warning
    accepted.acceptedRisk = AcceptedRisk(reason: "r", range: SourceRange(file: file, start: 0, end: 1))
    #expect(TextDiagnosticRenderer().summary([diagnostic(), accepted]) == "1 error, 1 accepted risk\n")
    #expect(TextDiagnosticRenderer().summary([]) == "no problems found\n")
  }

  @Test(
    "an accepted finding is printed as accepted, with the reason as a note",
    arguments: [(Severity.warning, true, "accepted"), (.warning, false, "warning"), (.error, false, "error")])
  func acceptedFindingsAreNotWarnings(_ severity: Severity, accepted: Bool, label: String) {
    var finding = diagnostic()
    finding.severity = severity
    if accepted {
      finding.acceptedRisk = AcceptedRisk(
        reason: "vendor access, CHG-7", range: SourceRange(file: file, start: 0, end: 7))
    }
    let lines = TextDiagnosticRenderer().render(finding).split(separator: "\n").map(String.init)
    #expect(lines.first == "riverside.conduit:3:18: \(label): unknown asset 'plc-3' [unknown-name]")
    #expect(lines.contains("riverside.conduit:1:1: note: risk accepted: vendor access, CHG-7") == accepted)
  }

  @Test func jsonHasTheFieldsOfTheCLIReference() throws {
    let json = JSONDiagnosticRenderer().render([diagnostic()])
    let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
    let entry = try #require(array.first)
    #expect(entry["severity"] as? String == "error")
    #expect(entry["id"] as? String == "unknown-name")
    #expect(entry["file"] as? String == "riverside.conduit")
    #expect(entry["line"] as? Int == 3)
    #expect(entry["column"] as? Int == 18)
    #expect(entry["endLine"] as? Int == 3)
    #expect(entry["endColumn"] as? Int == 23)
    let notes = try #require(entry["notes"] as? [[String: Any]])
    #expect(notes.first?["line"] as? Int == 2)
  }
}
