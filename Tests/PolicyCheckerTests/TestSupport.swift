import ConduitKit
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyModel
import Testing

/// The day every test checks on.
let testDay = CalendarDay("2026-11-28")!

/// A source text with position markers (`0️⃣` … `9️⃣`) taken out, and the line and column each marker stood at.
struct MarkedText {
  var text: String
  var markers: [String: Position]

  init(_ marked: String) {
    let scalars = Array(marked.unicodeScalars)
    var output = String.UnicodeScalarView()
    var markers: [String: Position] = [:]
    var line = 1
    var column = 1
    var index = 0
    while index < scalars.count {
      let scalar = scalars[index]
      if Self.isMarker(scalars, at: index) {
        let marker = String(String.UnicodeScalarView(scalars[index..<index + 3]))
        precondition(markers[marker] == nil, "marker \(marker) is used twice in one text")
        markers[marker] = Position(line: line, column: column)
        index += 3
        continue
      }
      output.append(scalar)
      if scalar == "\n" {
        line += 1
        column = 1
      } else {
        column += 1
      }
      index += 1
    }
    self.text = String(output)
    self.markers = markers
  }

  private static func isMarker(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
    index + 2 < scalars.count && ("0"..."9").contains(scalars[index]) && scalars[index + 1] == "\u{FE0F}"
      && scalars[index + 2] == "\u{20E3}"
  }
}

/// A 1-based line and column (in Unicode scalars, as diagnostics count them).
struct Position: Hashable, Comparable, CustomStringConvertible {
  var line: Int
  var column: Int

  static func < (lhs: Position, rhs: Position) -> Bool { (lhs.line, lhs.column) < (rhs.line, rhs.column) }

  var description: String { "\(line):\(column)" }
}

/// One file of a case: its name in the case's directory and its text, with markers.
struct CaseFile: Sendable {
  var name: String
  var text: String

  init(_ name: String, _ text: String) {
    self.name = name
    self.text = text
  }
}

/// A finding a case expects: its check id and severity at a marker, optionally with a note and an acceptance.
struct ExpectedFinding: Sendable {
  var id: CheckID
  var severity: Severity
  var marker: String
  /// Text one of the finding's notes must contain.
  var note: String?
  /// Whether an `accept-risk` statement must have acknowledged the finding.
  var accepted: Bool

  static func error(_ id: CheckID, at marker: String, note: String? = nil) -> ExpectedFinding {
    ExpectedFinding(id: id, severity: .error, marker: marker, note: note, accepted: false)
  }

  static func warning(_ id: CheckID, at marker: String, note: String? = nil, accepted: Bool = false)
    -> ExpectedFinding
  {
    ExpectedFinding(id: id, severity: .warning, marker: marker, note: note, accepted: accepted)
  }
}

/// A finding reduced to what the tests compare.
struct Finding: Hashable, Comparable, CustomStringConvertible {
  var file: String
  var position: Position
  var id: String
  var severity: String
  var accepted: Bool

  init(file: String, position: Position, id: CheckID, severity: Severity, accepted: Bool) {
    self.file = file
    self.position = position
    self.id = id.rawValue
    self.severity = severity.rawValue
    self.accepted = accepted
  }

  init(_ diagnostic: Diagnostic) {
    let location = diagnostic.range?.startLocation ?? PolicyLanguage.SourceLocation(line: 0, column: 0)
    self.init(
      file: diagnostic.range.map { ($0.file.path as NSString).lastPathComponent } ?? "<none>",
      position: Position(line: location.line, column: location.column), id: diagnostic.id,
      severity: diagnostic.severity, accepted: diagnostic.acceptedRisk != nil)
  }

  static func < (lhs: Finding, rhs: Finding) -> Bool {
    (lhs.file, lhs.position, lhs.id, lhs.severity) < (rhs.file, rhs.position, rhs.id, rhs.severity)
  }

  var description: String {
    "\(file):\(position): \(severity) [\(id)]" + (accepted ? " (accepted)" : "")
  }
}

/// One table row: policy files with markers, and the findings of the compared check ids.
struct CheckCase: Sendable, CustomTestStringConvertible {
  var name: String
  /// The main policy first, then a baseline or included files.
  var files: [CaseFile]
  /// The ids whose findings are compared exactly; by default the ids of `expected`.
  var checks: Set<CheckID>
  var expected: [ExpectedFinding]
  var mitigationsActive: Bool

  init(
    _ name: String, policy: String, baseline: CaseFile? = nil, otherFiles: [CaseFile] = [],
    checks: Set<CheckID>? = nil, mitigationsActive: Bool = false, expect expected: [ExpectedFinding]
  ) {
    self.name = name
    self.files = [CaseFile("policy.conduit", policy)] + (baseline.map { [$0] } ?? []) + otherFiles
    self.checks = checks ?? Set(expected.map(\.id))
    self.expected = expected
    self.mitigationsActive = mitigationsActive
  }

  var testDescription: String { name }
}

/// Writes `files` into a fresh temporary directory, checks the first one, and removes the directory.
func checkFiles(_ files: [CaseFile], mitigationsActive: Bool = false, today: CalendarDay = testDay) throws
  -> CheckedPolicy
{
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
    "conduit-checker-\(UUID().uuidString)", isDirectory: true)
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  for file in files {
    try Data(file.text.utf8).write(to: directory.appendingPathComponent(file.name))
  }
  return try Pipeline.check(
    PolicyRequest(policyPath: directory.appendingPathComponent(files[0].name).path, today: today),
    mitigationsActive: mitigationsActive)
}

/// Runs a case and compares the findings of its check ids exactly: id, severity, file, line, column, acceptance.
func verify(_ testCase: CheckCase, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
  let marked = testCase.files.map { ($0.name, MarkedText($0.text)) }
  let checked = try checkFiles(
    marked.map { CaseFile($0.0, $0.1.text) }, mitigationsActive: testCase.mitigationsActive)

  var expected: [Finding] = []
  var expectedNotes: [(Finding, String)] = []
  for expectation in testCase.expected {
    guard let (file, text) = marked.first(where: { $0.1.markers[expectation.marker] != nil }) else {
      Issue.record("marker \(expectation.marker) is in no file of the case", sourceLocation: sourceLocation)
      continue
    }
    let finding = Finding(
      file: file, position: text.markers[expectation.marker]!, id: expectation.id, severity: expectation.severity,
      accepted: expectation.accepted)
    expected.append(finding)
    if let note = expectation.note { expectedNotes.append((finding, note)) }
  }

  let referenced = Set(testCase.expected.map(\.marker))
  for (file, text) in marked {
    for marker in text.markers.keys where !referenced.contains(marker) {
      Issue.record("marker \(marker) in \(file) is expected by no finding", sourceLocation: sourceLocation)
    }
  }

  let compared = checked.diagnostics.filter { testCase.checks.contains($0.id) }
  let actual = compared.map(Finding.init).sorted()
  #expect(
    actual == expected.sorted(),
    "findings of \(testCase.checks.map(\.rawValue).sorted()):\n\(describe(compared))", sourceLocation: sourceLocation)

  for (finding, note) in expectedNotes {
    let matching = compared.filter { Finding($0) == finding }
    #expect(
      matching.contains { $0.notes.contains { $0.message.contains(note) } },
      "\(finding) should have a note containing \"\(note)\"; it has \(matching.flatMap(\.notes).map(\.message))",
      sourceLocation: sourceLocation)
  }
}

/// Diagnostics as `file:line:column: severity: message [id]`, one a line, for failure messages.
func describe(_ diagnostics: [Diagnostic]) -> String {
  diagnostics.map { diagnostic in
    "  \(Finding(diagnostic)): \(diagnostic.message)"
      + diagnostic.notes.map { "\n    note: \($0.message)" }.joined()
  }.joined(separator: "\n")
}
