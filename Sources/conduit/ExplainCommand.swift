import ArgumentParser
import PolicyLanguage

/// `conduit explain CHECK-ID [--format text|json]`: a check's rationale, an example, how to fix or accept it, and
/// its IEC 62443 / Purdue source.
struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Explain a check: why it exists, an example, the fix, and its IEC 62443 / Purdue source.",
    discussion: """
      CHECK-ID is the id 'conduit check' prints in brackets, e.g. 'broad-source'. Exit status: 0 explained, \
      64 an unknown id (the nearest one is suggested) or another usage error.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json
  }

  @Argument(help: "The check id, e.g. 'broad-source'.")
  var checkID: String

  @Option(help: "Output format: text or json.")
  var format: Format = .text

  func run() throws {
    guard let id = CheckID(rawValue: checkID) else {
      let guess =
        Spelling.closest(to: checkID, in: CheckID.allCases.map(\.rawValue)).map { "; did you mean '\($0)'?" } ?? ""
      reportError("unknown check id '\(checkID)'\(guess)")
      throw ExitCode.validationFailure
    }
    let explanation = id.explanation
    switch format {
    case .text:
      let lines = explanation.text.split(separator: "\n", omittingEmptySubsequences: false)
      try printOutput(lines.map { TerminalText.escaped(String($0)) }.joined(separator: "\n"))
    case .json: try printOutput(explanation.jsonText)
    }
  }
}
