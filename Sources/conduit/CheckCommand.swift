import ArgumentParser
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// `conduit check POLICY`: parse, resolve against the baseline, run every check, print the findings.
struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract: "Check a policy against its baseline and IEC 62443 practice.",
    discussion: "Exit status: 0 no errors, 1 errors (or warnings with --strict), 2 a file could not be read, 64 usage.")

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json, sarif
  }

  @OptionGroup var options: PolicyOptions

  @Option(help: "Output format: text, json or sarif.")
  var format: Format = .text

  @Flag(help: "Treat warnings as errors for the exit status.")
  var strict = false

  func run() throws {
    let checked: CheckedPolicy
    do {
      checked = try checkPolicy(
        at: options.policy, resolveOptions: options.resolveOptions,
        checkOptions: CheckOptions(today: options.day))
    } catch {
      reportError("\(error)")
      throw ExitCode(2)
    }
    HeldUntilExit.hold(checked)
    let output: String
    switch format {
    case .text: output = TextDiagnosticRenderer().render(checked.diagnostics)
    case .json: output = JSONDiagnosticRenderer().render(checked.diagnostics)
    case .sarif: output = SARIFRenderer(toolVersion: Conduit.version).render(checked.diagnostics)
    }
    try printOutput(output)
    if checked.diagnostics.hasUnreadableFile { throw ExitCode(2) }
    if checked.hasErrors || (strict && checked.hasWarnings) {
      throw ExitCode(1)
    }
  }
}
