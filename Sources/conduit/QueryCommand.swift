import ArgumentParser
import ConduitKit

/// `conduit query POLICY --from ENDPOINT --to ENDPOINT [--service ITEMS]`: is this traffic allowed, and by which
/// rule?
struct QueryCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "query",
    abstract: "Tell whether traffic is allowed, and by which rules.",
    discussion: """
      Endpoints are written as in a rule: asset names, globs, 'role NAME', 'zone NAME' or addresses, several \
      separated by commas. Without --service, every allowed item is listed. Exit status: 0 allowed, 1 denied or \
      only partly allowed, 2 a file could not be read, 64 usage.
      """)

  @OptionGroup var options: PolicyOptions

  @Option(help: "Who initiates (endpoints as in a rule).")
  var from: String

  @Option(help: "Who is connected to (endpoints as in a rule).")
  var to: String

  @Option(help: "Services and port literals, e.g. 'modbus, tcp/443'.")
  var service: String?

  @Option(name: .customLong("mitigation"), help: "Answer as compiled with this mitigation (repeatable).")
  var mitigations: [String] = []

  func run() throws {
    let request = QueryRequest(
      policy: options.request, from: from, to: to, service: service, mitigations: mitigations)
    let result = try stage { () throws(PipelineStop) in try Pipeline.query(request) }
    try printOutput(result.text + "\n")
    if !result.answer.isAllowed { throw ExitCode(1) }
  }
}
