import ArgumentParser
import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel

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
    let checked: CheckedPolicy
    do {
      checked = try checkPolicy(
        at: options.policy, resolveOptions: options.resolveOptions,
        checkOptions: CheckOptions(today: options.day, mitigationsActive: !mitigations.isEmpty))
    } catch {
      reportError("\(error)")
      throw ExitCode(2)
    }
    if checked.hasErrors {
      printError(TextDiagnosticRenderer().render(checked.diagnostics) + "conduit: the policy has errors; no answer\n")
      throw ExitCode(2)
    }
    let policy = checked.policy
    var diagnostics = DiagnosticEngine()
    let sources = parse(from, "--from", policy, &diagnostics)
    let destinations = parse(to, "--to", policy, &diagnostics)
    var items: [ResolvedItem]?
    if let service {
      var parser = Parser(SourceFile(path: "--service", text: service))
      let parsed = parser.parseServiceItemList()
      diagnostics.append(contentsOf: parser.syntaxDiagnostics)
      items = parsed.map { policy.matches(of: $0, diagnostics: &diagnostics) }
    }
    guard let sources, let destinations, !diagnostics.hasErrors else {
      printError(TextDiagnosticRenderer().render(diagnostics.diagnostics))
      throw ExitCode(64)
    }
    let answer: QueryAnswer
    do {
      answer = try Query.answer(
        policy, from: sources, to: destinations, items: items, mitigations: mitigations, diagnostics: &diagnostics)
    } catch {
      reportError("\(error)")
      throw ExitCode(64)
    }
    try printOutput(render(answer, policy) + "\n")
    if !answer.isAllowed { throw ExitCode(1) }
  }

  private func parse(_ text: String, _ option: String, _ policy: Policy, _ diagnostics: inout DiagnosticEngine)
    -> AddressSet?
  {
    var parser = Parser(SourceFile(path: option, text: text))
    let endpoints = parser.parseEndpointList()
    diagnostics.append(contentsOf: parser.syntaxDiagnostics)
    return endpoints.flatMap { policy.addresses(of: $0, diagnostics: &diagnostics) }
  }

  private func render(_ answer: QueryAnswer, _ policy: Policy) -> String {
    var lines: [String] = []
    let verdict =
      answer.isAllowed ? "allowed" : answer.allowed.isEmpty ? "denied" : "partly allowed"
    lines.append(verdict)
    for part in answer.allowed {
      let rules = part.rules.map { answer.rules[$0] }
      let origins = rules.map { "\($0.location)" + ($0.mitigation.map { " (mitigation \($0))" } ?? "") }
      lines.append(
        "  allowed \(describe(part, policy)) by conduit '\(rules.first?.conduit ?? "")': \(origins.joined(separator: ", "))"
      )
    }
    for part in answer.denied {
      lines.append("  denied  \(describe(part, policy))")
    }
    for reason in answer.reasons { lines.append("  \(reason)") }
    return lines.map(TerminalText.escaped).joined(separator: "\n")
  }

  private func describe(_ part: QueryPart, _ policy: Policy) -> String {
    FlowDescription([policy]).flow(part.sources, part.destinations, part.kind, part.selectors)
  }
}
