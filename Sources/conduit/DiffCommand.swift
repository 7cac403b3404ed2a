import ArgumentParser
import ConduitKit

/// `conduit diff OLD NEW [--mitigation NAME]…`: the flows a change adds and removes, for the change-window review.
struct DiffCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Show the flows a policy change adds and removes.",
    discussion: """
      Both policies are resolved against their own baselines; the difference is exact: no output means they allow \
      exactly the same traffic. With --mitigation, NEW is compiled with those mitigations active, so \
      'conduit diff site.conduit site.conduit --mitigation NAME' shows exactly what an emergency change removes. \
      Exit status: 0 equal, 1 different, 2 a file could not be read, a policy has errors, NEW has no such \
      mitigation or its mitigations conflict, 64 usage.
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

  @Option(name: .customLong("mitigation"), help: "Compile NEW with this mitigation active (repeatable).")
  var mitigations: [String] = []

  @OptionGroup var date: DayOption

  func run() throws {
    let result = try stage { () throws(PipelineStop) in
      try Pipeline.diff(
        old: PolicyRequest(policyPath: old, today: date.day), new: PolicyRequest(policyPath: new, today: date.day),
        mitigations: mitigations)
    }
    switch format {
    case .text: if !result.difference.isEmpty { try printOutput(result.text) }
    case .json: try printOutput(result.json)
    }
    if !result.difference.isEmpty { throw ExitCode(1) }
  }
}
