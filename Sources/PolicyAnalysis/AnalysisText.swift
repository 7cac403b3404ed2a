import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// `conduit query`'s answer as text: the verdict, then every part allowed (with the rules that allow it), every
/// part denied, and the reasons. Control characters from the policy are shown escaped, so no name forges a line.
public struct QueryTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The answer's lines, without a final line break.
  public func render(_ answer: QueryAnswer, names: FlowDescription) -> String {
    var lines: [String] = []
    lines.append(answer.isAllowed ? "allowed" : answer.allowed.isEmpty ? "denied" : "partly allowed")
    for part in answer.allowed {
      let rules = part.rules.map { answer.rules[$0] }
      let origins = rules.map { "\($0.location)" + ($0.mitigation.map { " (mitigation \($0))" } ?? "") }
      let flow = names.flow(part.sources, part.destinations, part.kind, part.selectors)
      lines.append("  allowed \(flow) by conduit '\(rules.first?.conduit ?? "")': \(origins.joined(separator: ", "))")
    }
    for part in answer.denied {
      lines.append("  denied  \(names.flow(part.sources, part.destinations, part.kind, part.selectors))")
    }
    for reason in answer.reasons { lines.append("  \(reason)") }
    return lines.map(TerminalText.escaped).joined(separator: "\n")
  }
}

/// `conduit diff`'s difference as text: per conduit, the flows added (`+`) and removed (`-`) with the rules behind
/// them (a mitigation's rules named with it), then a count line. Empty when the policies allow the same traffic.
public struct DiffTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The text, each line ending in a line break.
  public func render(_ difference: PolicyDifference, names: FlowDescription) -> String {
    guard !difference.isEmpty else { return "" }
    let parts = difference.added.map { ("+", $0) } + difference.removed.map { ("-", $0) }
    var out = ""
    for conduit in Set(parts.map(\.1.conduit)).sorted() {
      out += "conduit '\(TerminalText.escaped(conduit))':\n"
      for (sign, part) in parts where part.conduit == conduit {
        let origins = TerminalText.escaped(
          part.rules.map { $0.location + ($0.mitigation.map { " (mitigation \($0))" } ?? "") }.joined(separator: ", "))
        out += "  \(sign) \(names.flow(part.sources, part.destinations, part.kind, part.selectors))  (\(origins))\n"
      }
    }
    out += "\(difference.added.count) added, \(difference.removed.count) removed\n"
    return out
  }
}
