import ArgumentParser
import FirewallIR
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// `conduit diff OLD NEW`: the flows a change adds and removes, for the change-window review.
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Show the flows a policy change adds and removes.",
    discussion: """
      Both policies are resolved against their own baselines; the difference is exact: no output means they allow \
      exactly the same traffic. Exit status: 0 equal, 1 different, 2 a file could not be read or a policy has \
      errors, 64 usage.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json
  }

  @Argument(help: "The policy before the change.")
  var old: String

  @Argument(help: "The policy after the change.")
  var new: String

  @Option(help: "Output format: text or json.")
  var format: Format = .text

  @OptionGroup var date: DayOption

  func run() throws {
    let day = date.day
    let before = try checked(old, day)
    let after = try checked(new, day)
    var diagnostics = DiagnosticEngine()
    let difference: PolicyDifference
    do {
      difference = try Diff.between(before, after, diagnostics: &diagnostics)
    } catch {
      reportError("\(error)")
      throw ExitCode(64)
    }
    let names = FlowDescription([after, before])
    switch format {
    case .text: if !difference.isEmpty { try printOutput(text(difference, names)) }
    case .json: try printOutput(DiffJSON.render(difference, assets: names.assetNames))
    }
    if !difference.isEmpty { throw ExitCode(1) }
  }

  private func checked(_ path: String, _ day: CalendarDay) throws -> Policy {
    do {
      let result = try checkPolicy(at: path, checkOptions: CheckOptions(today: day))
      if result.hasErrors {
        printError(
          TextDiagnosticRenderer().render(result.diagnostics)
            + "conduit: '\(TerminalText.escaped(path))' has errors; no diff\n")
        throw ExitCode(2)
      }
      return result.policy
    } catch let error as InputFileError {
      reportError("\(error)")
      throw ExitCode(2)
    }
  }

  private func text(_ difference: PolicyDifference, _ names: FlowDescription) -> String {
    let parts = difference.added.map { ("+", $0) } + difference.removed.map { ("-", $0) }
    var out = ""
    for conduit in Set(parts.map(\.1.conduit)).sorted() {
      out += "conduit '\(TerminalText.escaped(conduit))':\n"
      for (sign, part) in parts where part.conduit == conduit {
        let origins = TerminalText.escaped(part.rules.map(\.location).joined(separator: ", "))
        out += "  \(sign) \(names.flow(part.sources, part.destinations, part.kind, part.selectors))  (\(origins))\n"
      }
    }
    out += "\(difference.added.count) added, \(difference.removed.count) removed\n"
    return out
  }
}
