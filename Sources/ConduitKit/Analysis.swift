import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// What `query` asks: traffic between endpoints written as in a rule, on services and port literals.
public struct QueryRequest: Sendable {
  /// The policy asked about.
  public var policy: PolicyRequest
  /// Who initiates (`--from`).
  public var from: String
  /// Who is connected to (`--to`).
  public var to: String
  /// Services and port literals (`--service`); nil asks about everything.
  public var service: String?
  /// The mitigations the answer is compiled with.
  public var mitigations: [String]

  /// Creates a request.
  public init(policy: PolicyRequest, from: String, to: String, service: String? = nil, mitigations: [String] = []) {
    self.policy = policy
    self.from = from
    self.to = to
    self.service = service
    self.mitigations = mitigations
  }
}

/// The answer to a query, with what its text needs.
public struct QueryResult: Sendable {
  /// What is allowed and denied, by which rules.
  public var answer: QueryAnswer
  /// The policy's assets, to name addresses by.
  public var names: FlowDescription
  /// The answer as `conduit query` prints it (without a final line break).
  public var text: String { QueryTextRenderer().render(answer, names: names) }
}

/// The difference between two policies, with what its text needs.
public struct DiffResult: Sendable {
  /// The flows added and removed.
  public var difference: PolicyDifference
  /// The assets of both policies (the new one's names first), to name addresses by.
  public var names: FlowDescription
  /// The difference as `conduit diff` prints it (empty when there is none).
  public var text: String { DiffTextRenderer().render(difference, names: names) }
  /// The difference as `conduit diff --format json` prints it.
  public var json: String { DiffJSON.render(difference, assets: names.assetNames) }
}

/// The zone diagram of a policy.
public struct GraphResult: Sendable {
  /// The output: DOT source, or SVG.
  public var bytes: [UInt8]
  /// The policy drawn, with its findings (a policy with errors is still drawn).
  public var checked: CheckedPolicy
}

extension Pipeline {
  /// `query`: the policy checked (errors give no answer: `.unusableInput`), the endpoints and services parsed as
  /// in a rule (errors: `.usage`), then the answer.
  public static func query(_ request: QueryRequest) throws(PipelineStop) -> QueryResult {
    let checked = try check(request.policy, mitigationsActive: !request.mitigations.isEmpty)
    if checked.hasErrors {
      throw PipelineStop(.unusableInput, "the policy has errors; no answer", diagnostics: checked.diagnostics)
    }
    let policy = checked.policy
    var diagnostics = DiagnosticEngine()
    let sources = addresses(request.from, "--from", policy, &diagnostics)
    let destinations = addresses(request.to, "--to", policy, &diagnostics)
    var items: [ResolvedItem]?
    if let service = request.service {
      var parser = Parser(SourceFile(path: "--service", text: service))
      let parsed = parser.parseServiceItemList()
      diagnostics.append(contentsOf: parser.syntaxDiagnostics)
      items = parsed.map { policy.matches(of: $0, diagnostics: &diagnostics) }
    }
    guard let sources, let destinations, !diagnostics.hasErrors else {
      throw PipelineStop(.usage, nil, diagnostics: diagnostics.diagnostics)
    }
    let answer: QueryAnswer
    do throws(LoweringError) {
      answer = try Query.answer(
        policy, from: sources, to: destinations, items: items, mitigations: request.mitigations,
        diagnostics: &diagnostics)
    } catch {
      throw PipelineStop(.usage, error.description)
    }
    if diagnostics.hasErrors {
      throw PipelineStop(
        .unusableInput, "the policy with these mitigations has errors; no answer", diagnostics: diagnostics.diagnostics)
    }
    return QueryResult(answer: answer, names: FlowDescription([policy]))
  }

  static func addresses(
    _ text: String, _ option: String, _ policy: Policy, _ diagnostics: inout DiagnosticEngine
  ) -> AddressSet? {
    var parser = Parser(SourceFile(path: option, text: text))
    let endpoints = parser.parseEndpointList()
    diagnostics.append(contentsOf: parser.syntaxDiagnostics)
    return endpoints.flatMap { policy.addresses(of: $0, diagnostics: &diagnostics) }
  }

  /// `diff`: both policies checked against their own baselines (one with errors: `.unusableInput`), the new one
  /// with `mitigations` active, then the flows the change adds and removes, whatever the gateways. A mitigation the
  /// new policy does not have, or a conflict between the mitigations, leaves nothing to compare (`.unusableInput`).
  public static func diff(old: PolicyRequest, new: PolicyRequest, mitigations: [String] = []) throws(PipelineStop)
    -> DiffResult
  {
    let before = try checkedWithoutErrors(old)
    let after = try checkedWithoutErrors(new, mitigations: mitigations)
    var diagnostics = DiagnosticEngine()
    let difference: PolicyDifference
    do throws(LoweringError) {
      difference = try Diff.between(before, after, mitigations: mitigations, diagnostics: &diagnostics)
    } catch {
      throw PipelineStop(.usage, error.description)
    }
    if diagnostics.hasErrors {
      throw PipelineStop(
        .unusableInput, "'\(new.policyPath)' has errors with \(Self.mitigationList(mitigations)); no diff",
        diagnostics: diagnostics.diagnostics)
    }
    return DiffResult(difference: difference, names: FlowDescription([after, before]))
  }

  /// The policy checked (with `mitigations` active, each of which it must have); stops when it has errors.
  private static func checkedWithoutErrors(_ request: PolicyRequest, mitigations: [String] = []) throws(PipelineStop)
    -> Policy
  {
    let checked = try check(request, mitigationsActive: !mitigations.isEmpty)
    guard !checked.hasErrors else {
      throw PipelineStop(
        .unusableInput, "'\(request.policyPath)' has errors; no diff",
        diagnostics: checked.diagnostics)
    }
    let names = checked.policy.mitigations.map(\.name)
    if let unknown = mitigations.first(where: { !names.contains($0) }) {
      throw PipelineStop(
        .unusableInput,
        "no mitigation '\(unknown)' in '\(request.policyPath)'"
          + (names.isEmpty ? "" : "; its mitigations: \(names.joined(separator: ", "))") + "; no diff")
    }
    return checked.policy
  }

  private static func mitigationList(_ names: [String]) -> String {
    (names.count == 1 ? "mitigation " : "mitigations ") + names.map { "'\($0)'" }.joined(separator: ", ")
  }

  /// The formats of `graph`.
  public enum GraphFormat: String, Sendable, CaseIterable {
    /// Graphviz source.
    case dot
    /// SVG drawn by Graphviz's `dot`.
    case svg
  }

  /// `graph`: the zone and conduit diagram of the checked policy, drawn even when it has errors; a file the policy
  /// names that cannot be read stops it (`.unusableInput`), and so does a missing or failing `dot` (`.failed`).
  public static func graph(_ request: PolicyRequest, format: GraphFormat) throws(PipelineStop) -> GraphResult {
    let checked = try check(request)
    if checked.diagnostics.hasUnreadableFile {
      throw PipelineStop(
        .unusableInput, "a file could not be read; no diagram",
        diagnostics: checked.diagnostics.filter { $0.severity == .error })
    }
    let source = ZoneDiagramDOTRenderer().render(ZoneDiagram(checked.policy, diagnostics: checked.diagnostics))
    switch format {
    case .dot: return GraphResult(bytes: Array(source.utf8), checked: checked)
    case .svg: return GraphResult(bytes: try Graphviz.svg(from: source), checked: checked)
    }
  }
}
