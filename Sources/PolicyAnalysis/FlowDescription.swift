import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// How the commands print flows: addresses named by their assets where a range holds nothing but known hosts.
public struct FlowDescription: Sendable {
  /// At most this many assets are named for one range; a wider range is printed as written.
  public static let namedAssetLimit = 4

  private let assets: [(address: UInt128, family: AddressFamily, name: String)]

  /// The names of every asset of `policies`; where two name one address, the first policy's name wins.
  public init(_ policies: [Policy]) {
    var names: [IPAddress: String] = [:]
    for policy in policies {
      for asset in policy.assets {
        for address in asset.addresses where names[address] == nil { names[address] = asset.name }
      }
    }
    assets = names.map { (Self.value($0.key), $0.key.family, $0.value) }.sorted {
      ($0.family, $0.address) < ($1.family, $1.address)
    }
  }

  /// `hmi-1 (10.30.0.31)`; `rtac-a, rtac-b (10.61.20.10-10.61.20.12)` when every address of the range is a
  /// known host; otherwise the range as written. Control characters in asset names are shown escaped
  /// (`TerminalText`), so a name cannot forge a line of output.
  public func name(_ range: AddressRange) -> String {
    let names = assetNames(range)
    guard !names.isEmpty else { return range.description }
    let addresses = range.first == range.last ? range.first.description : range.description
    return "\(TerminalText.escaped(names.joined(separator: ", "))) (\(addresses))"
  }

  /// The assets of a range in address order, when every address of it is a known host and there are at most
  /// `namedAssetLimit` of them; empty otherwise.
  public func assetNames(_ range: AddressRange) -> [String] {
    let first = Self.value(range.first)
    let last = Self.value(range.last)
    guard last - first < Self.namedAssetLimit else { return [] }
    var low = 0
    var high = assets.count
    while low < high {
      let middle = (low + high) / 2
      if (assets[middle].family, assets[middle].address) < (range.family, first) {
        low = middle + 1
      } else {
        high = middle
      }
    }
    let inside = assets[low...].prefix { $0.family == range.family && $0.address <= last }
    guard inside.count == Int(last - first) + 1 else { return [] }
    var seen: Set<String> = []
    return inside.map(\.name).filter { seen.insert($0).inserted }
  }

  /// `SOURCE -> DESTINATION tcp/502`.
  public func flow(
    _ sources: AddressRange, _ destinations: AddressRange, _ kind: MatchKind, _ selectors: ClosedRange<UInt16>
  )
    -> String
  {
    "\(name(sources)) -> \(name(destinations)) \(Query.describe(kind, selectors))"
  }

  private static func value(_ address: IPAddress) -> UInt128 {
    switch address {
    case .v4(let v4): UInt128(v4.value)
    case .v6(let v6): v6.value
    }
  }
}
