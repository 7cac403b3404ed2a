@testable import PolicyLanguage

/// Policy text with markers (`1️⃣`, `2️⃣`, …) where diagnostics must point, as swift-syntax's tests write them.
struct MarkedSource {
  static let markers = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣"]

  /// The text without markers.
  var text: String
  /// Marker name to its location in the stripped text.
  var locations: [String: SourceLocation]

  init(_ marked: String) {
    var text = ""
    var locations: [String: SourceLocation] = [:]
    var line = 1
    var column = 1
    var rest = Substring(marked)
    outer: while let character = rest.first {
      for marker in Self.markers where rest.hasPrefix(marker) {
        locations[marker] = SourceLocation(line: line, column: column)
        rest = rest.dropFirst(marker.count)
        continue outer
      }
      text.append(character)
      if character == "\n" {
        line += 1
        column = 1
      } else {
        column += character.unicodeScalars.count
      }
      rest = rest.dropFirst()
    }
    self.text = text
    self.locations = locations
  }

  /// Parses the stripped text and returns the syntax diagnostics.
  func parse() -> (PolicyFile, [Diagnostic]) {
    var diagnostics = DiagnosticEngine()
    let file = Parser.parse(SourceFile(path: "test.conduit", text: text), diagnostics: &diagnostics)
    return (file, diagnostics.diagnostics)
  }
}
