import Foundation

/// Renders diagnostics as text in the style of swiftc and rustc: a located header line, the source line, a caret
/// range, then notes. Control characters from the input (in names, paths and source lines) are shown escaped
/// (`TerminalText`), so a finding cannot forge lines of the report.
public struct TextDiagnosticRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The text of one diagnostic, ending with a newline.
  public func render(_ diagnostic: Diagnostic) -> String {
    var out = ""
    let label = diagnostic.acceptedRisk == nil ? diagnostic.severity.rawValue : "accepted"
    out += header(label, diagnostic.message + " [\(diagnostic.id.rawValue)]", diagnostic.range)
    if let range = diagnostic.range {
      out += snippet(range, highlights: diagnostic.highlights)
    }
    for note in diagnostic.notes {
      out += header("note", note.message, note.range)
    }
    if let accepted = diagnostic.acceptedRisk {
      out += header("note", "risk accepted: \(accepted.reason)", accepted.range)
    }
    return out
  }

  /// The text of every diagnostic followed by a summary line.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    diagnostics.map(render).joined() + summary(diagnostics)
  }

  /// "2 errors, 1 warning" or "no problems found", with accepted risks counted apart.
  public func summary(_ diagnostics: [Diagnostic]) -> String {
    let active = diagnostics.filter { $0.acceptedRisk == nil }
    let errors = active.filter { $0.severity == .error }.count
    let warnings = active.filter { $0.severity == .warning }.count
    let accepted = diagnostics.count - active.count
    var parts: [String] = []
    if errors > 0 { parts.append(errors == 1 ? "1 error" : "\(errors) errors") }
    if warnings > 0 { parts.append(warnings == 1 ? "1 warning" : "\(warnings) warnings") }
    if accepted > 0 { parts.append(accepted == 1 ? "1 accepted risk" : "\(accepted) accepted risks") }
    return (parts.isEmpty ? "no problems found" : parts.joined(separator: ", ")) + "\n"
  }

  private func header(_ severity: String, _ message: String, _ range: SourceRange?) -> String {
    guard let range else { return "\(severity): \(TerminalText.escaped(message))\n" }
    let location = range.startLocation
    let place = "\(TerminalText.escaped(range.file.path)):\(location.line):\(location.column)"
    return "\(place): \(severity): \(TerminalText.escaped(message))\n"
  }

  /// The widest source excerpt shown, in Unicode scalars: a longer line is cut to a window around the caret marked
  /// with `...`, so that a diagnostic's text is bounded whatever the length of its line.
  public static let excerptWidth = 120
  /// How many scalars of a cut line are shown before the caret.
  static let excerptLead = 40

  private func snippet(_ range: SourceRange, highlights: [SourceRange]) -> String {
    let start = range.startLocation
    let file = range.file
    let line = file.rangeOfLine(start.line)
    let window = excerpt(of: line, around: min(max(range.start, line.lowerBound), line.upperBound), in: file)
    let cutBefore = window.lowerBound > line.lowerBound ? "..." : ""
    let cutAfter = window.upperBound < line.upperBound ? "..." : ""
    let scalars =
      Array(cutBefore.unicodeScalars) + file.columnScalars(in: window) + Array(cutAfter.unicodeScalars)
    let windowColumn = file.location(of: window.lowerBound).column - cutBefore.count
    var marks = Array(repeating: Character(" "), count: scalars.count + 1)
    func mark(_ r: SourceRange, caret: Bool) {
      guard r.file === file else { return }
      let clampedStart = max(r.start, window.lowerBound)
      let clampedEnd = min(max(r.end, r.start + 1), window.upperBound)
      guard clampedStart <= window.upperBound, max(r.end, r.start + 1) > window.lowerBound else { return }
      let from = file.location(of: clampedStart).column - windowColumn
      let to = max(from + 1, file.location(of: clampedEnd).column - windowColumn)
      for column in from..<max(from, min(to, marks.count)) {
        marks[column] = (caret && column == from) ? "^" : (marks[column] == "^" ? "^" : "~")
      }
    }
    for highlight in highlights where highlight.startLocation.line == start.line { mark(highlight, caret: false) }
    mark(range, caret: true)
    var shown = ""
    var underline = ""
    for (column, markChar) in marks.enumerated() {
      let scalar = column < scalars.count ? scalars[column] : nil
      if let scalar, scalar != "\t", TerminalText.isUnsafe(scalar) {
        let escape = TerminalText.escape(scalar)
        shown += escape
        let fill: Character = markChar == " " ? " " : "~"
        underline.append(markChar)
        underline += String(repeating: fill, count: escape.count - 1)
        continue
      }
      if let scalar { shown.unicodeScalars.append(scalar) }
      if markChar == " ", scalar == "\t" { underline.append("\t") } else { underline.append(markChar) }
    }
    while underline.last == " " { underline.removeLast() }
    let number = String(start.line)
    let gutter = String(repeating: " ", count: max(0, 5 - number.count)) + number
    let blank = String(repeating: " ", count: gutter.count)
    return "\(gutter) | \(shown)\n\(blank) | \(underline)\n"
  }

  /// The bytes of `line` shown for a caret at `anchor`: the whole line when it fits in `excerptWidth` scalars,
  /// otherwise that many scalars starting up to `excerptLead` before the anchor.
  private func excerpt(of line: Range<Int>, around anchor: Int, in file: SourceFile) -> Range<Int> {
    let bytes = file.bytes
    func isContinuation(_ offset: Int) -> Bool { bytes[offset] & 0xC0 == 0x80 }
    func back(from offset: Int, scalars: Int) -> Int {
      var offset = offset
      for _ in 0..<scalars where offset > line.lowerBound {
        offset -= 1
        while offset > line.lowerBound, isContinuation(offset) { offset -= 1 }
      }
      return offset
    }
    guard file.location(of: line.upperBound).column - file.location(of: line.lowerBound).column > Self.excerptWidth
    else { return line }
    var lower = back(from: anchor, scalars: Self.excerptLead)
    var upper = lower
    var shown = 0
    while shown < Self.excerptWidth, upper < line.upperBound {
      upper += 1
      while upper < line.upperBound, isContinuation(upper) { upper += 1 }
      shown += 1
    }
    lower = back(from: lower, scalars: Self.excerptWidth - shown)
    return lower..<upper
  }
}

/// Renders diagnostics as the JSON array of CLI.md.
public struct JSONDiagnosticRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  struct Note: Encodable {
    var message: String
    var file: String?
    var line: Int?
    var column: Int?
  }

  struct Entry: Encodable {
    var severity: String
    var id: String
    var message: String
    var file: String?
    var line: Int?
    var column: Int?
    var endLine: Int?
    var endColumn: Int?
    var notes: [Note]
    var acceptedRisk: String?
  }

  /// The JSON text, pretty-printed with sorted keys, ending with a newline.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    let entries = diagnostics.map { diagnostic -> Entry in
      let start = diagnostic.range?.startLocation
      let end = diagnostic.range?.endLocation
      return Entry(
        severity: diagnostic.severity.rawValue, id: diagnostic.id.rawValue, message: diagnostic.message,
        file: diagnostic.range?.file.path, line: start?.line, column: start?.column, endLine: end?.line,
        endColumn: end?.column,
        notes: diagnostic.notes.map {
          let location = $0.range?.startLocation
          return Note(message: $0.message, file: $0.range?.file.path, line: location?.line, column: location?.column)
        },
        acceptedRisk: diagnostic.acceptedRisk?.reason)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(entries)) ?? Data("[]".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
