import Foundation
import Testing

/// Messages on standard error show control characters from paths and names as escapes, whichever command prints
/// them, so an input cannot forge a line or clear the operator's terminal.
@Suite struct ErrorMessageEscapingTests {
  static let hostilePath = "/nonexistent/\u{1B}[2Jplant\nconduit: applied table inet conduit_x.conduit"

  @Test(arguments: [
    ["check", hostilePath], ["compile", hostilePath, "--target", "nft-text"], ["graph", hostilePath],
    ["apply", hostilePath], ["query", hostilePath, "--from", "a", "--to", "b"], ["diff", hostilePath, hostilePath],
  ])
  func aPathWithControlCharactersIsShownEscaped(_ arguments: [String]) throws {
    let result = try ConduitRunner.run(arguments)
    #expect(result.status == 2, "\(result.standardError)")
    #expect(!result.standardError.unicodeScalars.contains("\u{1B}"))
    #expect(result.standardError.contains("\\u{1B}[2Jplant\\u{A}conduit: applied"))
    #expect(!result.standardError.contains("\nconduit: applied"))
  }
}
