import FlowSpace
import Foundation

/// Renders the flows a ruleset allows as JSON, for review tools and SIEMs: one entry per disjoint element with the
/// conduit and the rules (file:line) that allow it.
public struct FlowsJSONRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  struct Document: Encodable {
    var site: String?
    var gateway: String?
    var mitigations: [String]
    var flows: [Entry]
  }

  struct Entry: Encodable {
    var family: String
    var `protocol`: String
    var sources: String
    var destinations: String
    var ports: String?
    var icmpTypes: String?
    var protocolNumbers: String?
    var conduit: String
    var sourceZone: String
    var destinationZone: String
    var log: Bool
    var rules: [String]
  }

  /// The JSON text, pretty-printed with sorted keys, ending with a newline.
  public func render(_ ruleset: Ruleset) -> String {
    let entries = ruleset.elements.map { element -> Entry in
      let selectors =
        element.selectors.lowerBound == element.selectors.upperBound
        ? "\(element.selectors.lowerBound)" : "\(element.selectors.lowerBound)-\(element.selectors.upperBound)"
      let first = ruleset.rules[element.rules[0]]
      return Entry(
        family: element.family.rawValue, protocol: element.kind.description, sources: element.sources.description,
        destinations: element.destinations.description,
        ports: element.kind.hasPorts ? selectors : nil,
        icmpTypes: element.kind == .icmp || element.kind == .icmpv6 ? selectors : nil,
        protocolNumbers: element.kind == .proto ? selectors : nil, conduit: ruleset.chains[element.chain].conduit,
        sourceZone: first.sourceZone, destinationZone: first.destinationZone, log: element.log,
        rules: element.rules.map { ruleset.rules[$0].location })
    }
    let document = Document(
      site: ruleset.site, gateway: ruleset.gateway, mitigations: ruleset.mitigations, flows: entries)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
