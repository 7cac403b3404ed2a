import FirewallIR
import FlowSpace
import PolicyAnalysis
import PolicyModel

/// How the commands print flows: addresses named by their asset where a range is one known host.
struct FlowDescription {
  private let assetsByAddress: [IPAddress: String]

  init(_ policies: [Policy]) {
    var names: [IPAddress: String] = [:]
    for policy in policies {
      for asset in policy.assets {
        for address in asset.addresses where names[address] == nil { names[address] = asset.name }
      }
    }
    assetsByAddress = names
  }

  /// `hmi-1 (10.30.0.31)`, or the range as written.
  func name(_ range: AddressRange) -> String {
    guard range.first == range.last, let asset = assetsByAddress[range.first] else { return range.description }
    return "\(asset) (\(range.first))"
  }

  /// `SOURCE -> DESTINATION tcp/502`.
  func flow(_ sources: AddressRange, _ destinations: AddressRange, _ kind: MatchKind, _ selectors: ClosedRange<UInt16>)
    -> String
  {
    "\(name(sources)) -> \(name(destinations)) \(Query.describe(kind, selectors))"
  }
}
