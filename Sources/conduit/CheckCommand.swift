import ArgumentParser
import ConduitKit
import PolicyLanguage

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
    let checked = try stage { () throws(PipelineStop) in try Pipeline.check(options.request) }
    HeldUntilExit.hold(checked)
    switch format {
    case .text: try printOutput(TextDiagnosticRenderer().render(checked.diagnostics))
    case .json: try printOutput(JSONDiagnosticRenderer().render(checked.diagnostics))
    case .sarif: try printOutput(SARIFRenderer(toolVersion: ConduitVersion.current).render(checked.diagnostics))
    }
    if checked.diagnostics.hasUnreadableFile { throw ExitCode(2) }
    if checked.hasErrors || (strict && checked.hasWarnings) { throw ExitCode(1) }
  }
}
