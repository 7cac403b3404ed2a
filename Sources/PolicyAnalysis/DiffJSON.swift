import FirewallIR
import FlowSpace
import Foundation

/// The difference as JSON, for merge-request comments and review tools.
public enum DiffJSON {
  struct Entry: Encodable {
    var conduit: String
    var family: String
    var `protocol`: String
    var sources: String
    var sourceAssets: [String]
    var destinations: String
    var destinationAssets: [String]
    var selectors: String
    var rules: [String]
  }

  struct Document: Encodable {
    var added: [Entry]
    var removed: [Entry]
    /// The mitigations the new policy was compiled with; absent when none.
    var mitigations: [String]?
  }

  /// Pretty-printed JSON with sorted keys, ending with a newline. `assets` names the assets of an address range
  /// (empty when the range is not made of known hosts).
  public static func render(_ difference: PolicyDifference, assets: (AddressRange) -> [String] = { _ in [] }) -> String
  {
    func entry(_ part: DiffPart) -> Entry {
      let selectors =
        part.selectors.lowerBound == part.selectors.upperBound
        ? "\(part.selectors.lowerBound)" : "\(part.selectors.lowerBound)-\(part.selectors.upperBound)"
      return Entry(
        conduit: part.conduit, family: part.family.rawValue, protocol: part.kind.description,
        sources: part.sources.description, sourceAssets: assets(part.sources),
        destinations: part.destinations.description, destinationAssets: assets(part.destinations), selectors: selectors,
        rules: part.rules.map(\.location))
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let document = Document(
      added: difference.added.map(entry), removed: difference.removed.map(entry),
      mitigations: difference.mitigations.isEmpty ? nil : difference.mitigations)
    let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
