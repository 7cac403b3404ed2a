import ArgumentParser
import ConduitKit

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
    let result = try stage { () throws(PipelineStop) in
      try Pipeline.diff(
        old: PolicyRequest(policyPath: old, today: date.day), new: PolicyRequest(policyPath: new, today: date.day))
    }
    switch format {
    case .text: if !result.difference.isEmpty { try printOutput(result.text) }
    case .json: try printOutput(result.json)
    }
    if !result.difference.isEmpty { throw ExitCode(1) }
  }
}
