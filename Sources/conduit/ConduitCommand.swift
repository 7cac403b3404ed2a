import ArgumentParser
import ConduitKit
import Foundation
import PolicyLanguage

/// The `conduit` command: IEC 62443 zone/conduit allowlist policies for OT networks, checked and compiled into
/// default-deny Linux gateway firewalls.
@main
struct ConduitCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "conduit",
    abstract: "Check IEC 62443 zone/conduit allowlist policies against the asset baseline.",
    discussion: """
      A policy (.conduit file) describes a site as zones and the conduits between them. `conduit check` parses it,
      resolves every name against the asset baseline (an inventory export, CSV or JSON) and runs the checks of
      IEC 62443 practice, printing each finding with its place in the policy or the baseline.

      Exit status: 0 no errors, 1 errors found (or warnings with --strict), 2 a file could not be read,
      64 command-line usage error.
      """,
    version: ConduitVersion.current,
    subcommands: [
      CheckCommand.self, CompileCommand.self, ApplyCommand.self, ConfirmCommand.self, RollbackCommand.self,
      RemoveCommand.self, StatusCommand.self,
      QueryCommand.self, DiffCommand.self, GraphCommand.self, ImpactCommand.self, ExplainCommand.self,
      WatchdogCommand.self,
    ]
  )

  /// The commands a user types (the watchdog's own is left out).
  static var subcommandNames: [String] {
    configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName }
  }

  /// Runs the command named on the command line, with every byte it prints going through `StandardStreams`: help
  /// and version text too, so that a failed write is reported (exit 2) rather than lost.
  static func main() {
    StandardStreams.prepare()
    let arguments = Array(CommandLine.arguments.dropFirst())
    if arguments.isEmpty {
      printError(helpMessage() + "\n")
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
    let known = configuration.subcommands.map { $0._commandName }
    if let word = arguments.first, !word.hasPrefix("-"), word != "help", !known.contains(word) {
      let guess = Spelling.closest(to: word, in: subcommandNames).map { "; did you mean '\($0)'?" } ?? ""
      printError(
        "conduit: error: unknown command '\(TerminalText.escaped(word))'\(guess)\nSee 'conduit --help' for the commands.\n"
      )
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      let code = exitCode(for: error)
      let message = fullMessage(for: error)
      if !message.isEmpty {
        if code == .success {
          do { try printOutput(message + "\n") } catch { Foundation.exit(2) }
        } else {
          printError(message + "\n")
        }
      }
      Foundation.exit(code.rawValue)
    }
  }
}
