import Foundation

/// Renders diagnostics as a SARIF 2.1.0 log that code-scanning services accept.
public struct SARIFRenderer: Sendable {
  /// The tool version written into the log.
  public var toolVersion: String

  /// Creates a renderer.
  public init(toolVersion: String) {
    self.toolVersion = toolVersion
  }

  struct Log: Encodable {
    var schema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    var version = "2.1.0"
    var runs: [Run]
    enum CodingKeys: String, CodingKey {
      case schema = "$schema"
      case version, runs
    }
  }
  struct Run: Encodable {
    var tool: Tool
    var results: [Result]
    var columnKind = "unicodeCodePoints"
  }
  struct Tool: Encodable { var driver: Driver }
  struct Driver: Encodable {
    var name = "conduit"
    var version: String
    var rules: [Rule]
  }
  struct Rule: Encodable {
    var id: String
    var name: String
    var shortDescription: Message
    var fullDescription: Message
    var help: Message
    var defaultConfiguration: Configuration
  }
  struct Configuration: Encodable { var level: String }
  struct Message: Encodable {
    var text: String
    var markdown: String? = nil
  }
  struct Result: Encodable {
    var ruleId: String
    var ruleIndex: Int
    var level: String
    var message: Message
    var locations: [Location]
    var relatedLocations: [Location]?
    var suppressions: [Suppression]?
  }
  struct Location: Encodable {
    var id: Int?
    var physicalLocation: PhysicalLocation?
    var message: Message?
  }
  struct PhysicalLocation: Encodable {
    var artifactLocation: ArtifactLocation
    var region: Region
  }
  struct ArtifactLocation: Encodable { var uri: String }
  struct Region: Encodable {
    var startLine: Int
    var startColumn: Int
    var endLine: Int
    var endColumn: Int
  }
  struct Suppression: Encodable {
    var kind = "inSource"
    var justification: String
    var location: Location
  }

  /// The SARIF text, ending with a newline.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    let usedIDs = Array(Set(diagnostics.map(\.id))).sorted()
    let ruleIndex = Dictionary(uniqueKeysWithValues: usedIDs.enumerated().map { ($1, $0) })
    let rules = usedIDs.map { id in
      let level = diagnostics.first { $0.id == id }.map { sarifLevel($0.severity) } ?? "warning"
      let explanation = id.explanation
      return Rule(
        id: id.rawValue, name: id.rawValue, shortDescription: Message(text: id.summary),
        fullDescription: Message(text: explanation.rationale),
        help: Message(text: explanation.sectionsText, markdown: explanation.sectionsMarkdown),
        defaultConfiguration: Configuration(level: level))
    }
    let results = diagnostics.map { diagnostic in
      var related: [Location] = []
      for (index, note) in diagnostic.notes.enumerated() {
        guard let range = note.range else { continue }
        related.append(Location(id: index + 1, physicalLocation: physical(range), message: Message(text: note.message)))
      }
      let noteText = diagnostic.notes.filter { $0.range == nil }.map { "\n\($0.message)" }.joined()
      return Result(
        ruleId: diagnostic.id.rawValue, ruleIndex: ruleIndex[diagnostic.id] ?? 0,
        level: sarifLevel(diagnostic.severity), message: Message(text: diagnostic.message + noteText),
        locations: diagnostic.range.map { [Location(physicalLocation: physical($0))] } ?? [],
        relatedLocations: related.isEmpty ? nil : related,
        suppressions: diagnostic.acceptedRisk.map {
          [Suppression(justification: $0.reason, location: Location(physicalLocation: physical($0.range)))]
        })
    }
    let log = Log(
      runs: [Run(tool: Tool(driver: Driver(version: toolVersion, rules: rules)), results: results)])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(log)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  private func sarifLevel(_ severity: Severity) -> String {
    switch severity {
    case .error: "error"
    case .warning: "warning"
    case .note: "note"
    }
  }

  private func physical(_ range: SourceRange) -> PhysicalLocation {
    let start = range.startLocation
    var end = range.endLocation
    if end.line > start.line || end.column <= start.column {
      end = SourceLocation(line: start.line, column: start.column + 1)
      if range.end > range.start, range.endLocation.line == start.line { end = range.endLocation }
    }
    return PhysicalLocation(
      artifactLocation: ArtifactLocation(uri: uri(for: range.file.path)),
      region: Region(startLine: start.line, startColumn: start.column, endLine: end.line, endColumn: end.column))
  }

  private func uri(for path: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: ":")
    var trimmed = path
    while trimmed.hasPrefix("./") { trimmed.removeFirst(2) }
    let encoded = trimmed.addingPercentEncoding(withAllowedCharacters: allowed) ?? trimmed
    return path.hasPrefix("/") ? "file://" + encoded : encoded
  }
}
