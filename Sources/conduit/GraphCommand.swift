import ArgumentParser
import ConduitKit
import PolicyLanguage

/// `conduit graph POLICY [--format dot|svg]`: the zone and conduit diagram.
struct GraphCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "graph",
    abstract: "Draw the zone and conduit diagram.",
    discussion: """
      Zones are drawn in rows by Purdue level and shaded by SL-T; each conduit joins its two zones with its SL-T, \
      its gateway and the services each side initiates; findings of 'conduit check' are drawn in orange (warnings) \
      and red (errors; dashed when no gateway enforces the conduit). --format svg runs Graphviz's 'dot'. A policy \
      with errors is still drawn, its errors printed on standard error. Exit status: 0 drawn, 1 drawn but the \
      policy has errors, 2 a file could not be read or 'dot' is missing or failed, 64 usage.
      """)

  @OptionGroup var options: PolicyOptions

  @Option(help: "Output format: dot (Graphviz source) or svg (needs Graphviz's 'dot').")
  var format: Pipeline.GraphFormat = .dot

  @Option(name: .shortAndLong, help: "Write to this regular file (atomically) instead of standard output.")
  var output: String?

  func run() throws {
    let graph = try stage { () throws(PipelineStop) in try Pipeline.graph(options.request, format: format) }
    if let output {
      do {
        try OutputFile.write([graph.bytes], to: output, inputs: graph.checked.policy.inputFiles)
      } catch {
        reportError("\(error)")
        throw ExitCode(2)
      }
    } else {
      try printOutput([graph.bytes])
    }
    if graph.checked.hasErrors {
      let errors = graph.checked.diagnostics.filter { $0.severity == .error }
      printError(
        TextDiagnosticRenderer().render(errors) + "conduit: the policy has errors; the diagram shows what resolved\n")
      throw ExitCode(1)
    }
  }
}

extension Pipeline.GraphFormat: ExpressibleByArgument {}
