import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// An asset that loses a flow, with its criticality.
public struct AffectedAsset: Hashable, Sendable {
  public var name: String
  public var criticality: Criticality?
}

/// A flow that isolating an endpoint cuts, and the assets that lose it: its initiators (a flow is what its sources
/// may open), so an isolated destination's clients and an isolated source itself.
public struct CutFlow: Hashable, Sendable {
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var destinations: AddressRange
  public var selectors: ClosedRange<UInt16>
  public var rules: [RuleOrigin]
  /// The assets of its sources, most critical first.
  public var losers: [AffectedAsset]
}

/// A gateway management line the isolated addresses lose (LANGUAGE.md: `isolate` removes them from management).
public struct CutManagement: Hashable, Sendable {
  public var gateway: String
  public var services: String
  public var location: String
  /// The isolated assets that lose it (empty when the line names addresses, not assets).
  public var assets: [String]
}

/// What pulling the plug on an endpoint means: the conduit flows it takes part in, and the management access it
/// loses.
public struct IsolationImpact: Sendable {
  public var flows: [CutFlow]
  public var management: [CutManagement]

  /// Whether isolating it cuts anything.
  public var isEmpty: Bool { flows.isEmpty && management.isEmpty }

  /// The flows cut from `ruleset` (the policy lowered for every gateway at once) by isolating `isolated`: every part
  /// of a flow whose source or destination is isolated, as `isolate` in a mitigation removes it.
  public static func of(_ isolated: AddressSet, in policy: Policy, ruleset: Ruleset) -> IsolationImpact {
    let owners = AssetAddresses(policy)
    var flows: [CutFlow] = []
    for element in ruleset.elements {
      let sources = AddressSet(element.sources)
      let destinations = AddressSet(element.destinations)
      let isolatedSources = sources.intersection(isolated)
      let isolatedDestinations = destinations.intersection(isolated)
      var parts: [(sources: AddressSet, destinations: AddressSet)] = []
      if !isolatedSources.isEmpty { parts.append((isolatedSources, destinations)) }
      let freeSources = sources.subtracting(isolated)
      if !freeSources.isEmpty, !isolatedDestinations.isEmpty { parts.append((freeSources, isolatedDestinations)) }
      for part in parts {
        for source in part.sources.ranges(of: element.family) {
          for destination in part.destinations.ranges(of: element.family) {
            flows.append(
              CutFlow(
                family: element.family, kind: element.kind, sources: source, destinations: destination,
                selectors: element.selectors, rules: element.rules.map { ruleset.rules[$0] },
                losers: owners.assets(in: [source], policy: policy)))
          }
        }
      }
    }
    var management: [CutManagement] = []
    for gateway in policy.gateways {
      for line in gateway.management {
        let lost = line.sources.filter { !$0.addresses.intersection(isolated).isEmpty }
        guard !lost.isEmpty else { continue }
        let assets = lost.flatMap(\.assets).filter { asset in
          policy.assets[asset].addresses.contains { isolated.contains($0) }
        }.map { policy.assets[$0].name }
        let services = Set(line.items.map { MatchKind.of($0.match) }.map { Query.describeAll($0.kind, $0.selectors) })
          .sorted().joined(separator: ", ")
        management.append(
          CutManagement(
            gateway: gateway.name, services: services,
            location: "\(line.range.file.path):\(line.range.startLocation.line)", assets: Array(Set(assets)).sorted()))
      }
    }
    return IsolationImpact(flows: flows, management: management)
  }
}

/// The assets of each address, to name who loses a flow.
struct AssetAddresses {
  private var byAddress: [(family: AddressFamily, value: UInt128, asset: Int)] = []

  init(_ policy: Policy) {
    for asset in policy.assets {
      for address in asset.addresses { byAddress.append((address.family, address.numericValue, asset.id)) }
    }
    byAddress.sort { ($0.family, $0.value, $0.asset) < ($1.family, $1.value, $1.asset) }
  }

  /// The assets with an address in `ranges`, each once, most critical first, then by name.
  func assets(in ranges: [AddressRange], policy: Policy) -> [AffectedAsset] {
    var found: Set<Int> = []
    for range in ranges {
      let first = range.first.numericValue
      let last = range.last.numericValue
      var low = 0
      var high = byAddress.count
      while low < high {
        let middle = (low + high) / 2
        if (byAddress[middle].family, byAddress[middle].value) < (range.family, first) {
          low = middle + 1
        } else {
          high = middle
        }
      }
      for entry in byAddress[low...].prefix(while: { $0.family == range.family && $0.value <= last }) {
        found.insert(entry.asset)
      }
    }
    return found.map { AffectedAsset(name: policy.assets[$0].name, criticality: policy.assets[$0].criticality) }
      .sorted { ($0.criticality?.rawValue ?? 0, $1.name) > ($1.criticality?.rawValue ?? 0, $0.name) }
  }
}

extension AddressSet {
  /// The addresses of one range.
  init(_ range: AddressRange) {
    switch range.family {
    case .ipv4: self.init(v4: IntervalSet(range.bounds(as: UInt32.self)), v6: IntervalSet())
    case .ipv6: self.init(v4: IntervalSet(), v6: IntervalSet(range.bounds(as: UInt128.self)))
    }
  }

  /// Its ranges of one family.
  func ranges(of family: AddressFamily) -> [AddressRange] {
    switch family {
    case .ipv4: v4.ranges.map(AddressRange.init)
    case .ipv6: v6.ranges.map(AddressRange.init)
    }
  }
}

extension IPAddress {
  /// The address as a number (IPv4 in the low 32 bits).
  var numericValue: UInt128 {
    switch self {
    case .v4(let v4): UInt128(v4.value)
    case .v6(let v6): v6.value
    }
  }
}

extension Query {
  /// `tcp/22`, `tcp` for every port, `icmp/8`.
  static func describeAll(_ kind: MatchKind, _ selectors: IntervalSet<UInt16>) -> String {
    selectors.ranges.map { describe(kind, $0) }.joined(separator: ", ")
  }
}
