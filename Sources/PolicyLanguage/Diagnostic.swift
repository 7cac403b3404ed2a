/// How serious a finding is.
public enum Severity: String, Sendable, Hashable, Comparable {
  case note, warning, error

  private var rank: Int {
    switch self {
    case .note: 0
    case .warning: 1
    case .error: 2
    }
  }

  public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A note attached to a diagnostic, with its own location when it has one.
public struct DiagnosticNote: Hashable, Sendable {
  /// What the note says (lowercase, no final period).
  public var message: String
  /// Where it points.
  public var range: SourceRange?

  /// Creates a note.
  public init(_ message: String, at range: SourceRange? = nil) {
    self.message = message
    self.range = range
  }
}

/// One finding: a check id, a severity, a message and the source range that causes it.
public struct Diagnostic: Hashable, Sendable {
  /// The stable check id.
  public var id: CheckID
  /// Error, warning or note.
  public var severity: Severity
  /// The message (lowercase, no final period, names in single quotes).
  public var message: String
  /// The main range; nil only for findings without a place in any file.
  public var range: SourceRange?
  /// Further ranges to underline with `~`.
  public var highlights: [SourceRange]
  /// Related places.
  public var notes: [DiagnosticNote]
  /// Set when an `accept-risk` statement acknowledged this warning.
  public var acceptedRisk: AcceptedRisk?

  /// Creates a diagnostic.
  public init(
    _ severity: Severity, _ id: CheckID, _ message: String, at range: SourceRange?,
    highlights: [SourceRange] = [], notes: [DiagnosticNote] = []
  ) {
    self.id = id
    self.severity = severity
    self.message = message
    self.range = range
    self.highlights = highlights
    self.notes = notes
    self.acceptedRisk = nil
  }
}

/// The `accept-risk` statement that acknowledged a warning.
public struct AcceptedRisk: Hashable, Sendable {
  /// The reason given.
  public var reason: String
  /// Where the statement is.
  public var range: SourceRange

  /// Creates the record of an acknowledgement.
  public init(reason: String, range: SourceRange) {
    self.reason = reason
    self.range = range
  }
}

/// Collects the diagnostics of every stage; stages report all they find and go on.
public struct DiagnosticEngine: Sendable {
  /// Everything reported so far, in report order.
  public private(set) var diagnostics: [Diagnostic] = []

  /// Creates an empty engine.
  public init() {}

  /// Records a diagnostic.
  public mutating func report(_ diagnostic: Diagnostic) {
    diagnostics.append(diagnostic)
  }

  /// Records an error.
  public mutating func error(
    _ id: CheckID, _ message: String, at range: SourceRange?, highlights: [SourceRange] = [],
    notes: [DiagnosticNote] = []
  ) {
    report(Diagnostic(.error, id, message, at: range, highlights: highlights, notes: notes))
  }

  /// Records a warning.
  public mutating func warning(
    _ id: CheckID, _ message: String, at range: SourceRange?, highlights: [SourceRange] = [],
    notes: [DiagnosticNote] = []
  ) {
    report(Diagnostic(.warning, id, message, at: range, highlights: highlights, notes: notes))
  }

  /// Appends the diagnostics of another engine.
  public mutating func append(contentsOf other: DiagnosticEngine) {
    diagnostics.append(contentsOf: other.diagnostics)
  }

  /// Replaces the collected diagnostics (used by stages that filter, such as accept-risk).
  public mutating func replaceAll(with diagnostics: [Diagnostic]) {
    self.diagnostics = diagnostics
  }

  /// Whether an error has been reported (`Sequence.hasErrors`).
  public var hasErrors: Bool { diagnostics.hasErrors }
}

extension Sequence<Diagnostic> {
  /// Whether an error is among them. Only warnings can be acknowledged by `accept-risk`, so every error counts.
  public var hasErrors: Bool { contains { $0.severity == .error } }
  /// Whether a warning that no `accept-risk` acknowledges is among them.
  public var hasWarnings: Bool { contains { $0.severity == .warning && $0.acceptedRisk == nil } }
}
