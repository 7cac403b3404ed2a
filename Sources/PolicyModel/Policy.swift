import FlowSpace
import Foundation
import PolicyLanguage

/// A Purdue model level, stored in tenths so that the industrial DMZ (3.5) is exact.
public struct PurdueLevel: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The level times ten: 0, 10, 20, 30, 35, 40, 50.
  public var tenths: Int

  /// The levels the language accepts.
  public static let valid: [PurdueLevel] = [0, 10, 20, 30, 35, 40, 50].map(PurdueLevel.init(tenths:))

  /// Creates a level from tenths.
  public init(tenths: Int) {
    self.tenths = tenths
  }

  /// Parses `0`, `1`, `2`, `3`, `3.5`, `4` or `5`.
  public init?(_ text: String) {
    let accepted = ["0": 0, "1": 10, "2": 20, "3": 30, "3.5": 35, "4": 40, "5": 50]
    guard let tenths = accepted[text] else { return nil }
    self.tenths = tenths
  }

  public var description: String { tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)" }

  public static func < (lhs: PurdueLevel, rhs: PurdueLevel) -> Bool { lhs.tenths < rhs.tenths }
}

/// An asset's criticality to the process.
public enum Criticality: Int, Hashable, Sendable, Comparable, CaseIterable, CustomStringConvertible {
  case low = 1
  case medium, high, critical

  /// Parses a name (`high`) or a number 1-4, ignoring case.
  public init?(_ text: String) {
    switch text.lowercased() {
    case "low", "1": self = .low
    case "medium", "2": self = .medium
    case "high", "3": self = .high
    case "critical", "4": self = .critical
    default: return nil
    }
  }

  public var description: String {
    switch self {
    case .low: "low"
    case .medium: "medium"
    case .high: "high"
    case .critical: "critical"
    }
  }

  public static func < (lhs: Criticality, rhs: Criticality) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A prefix with the place it was written.
public struct LocatedPrefix: Hashable, Sendable {
  /// The prefix.
  public var prefix: IPPrefix
  /// Where it is written.
  public var range: SourceRange
}

/// A zone: a group of assets with one target security level.
public struct Zone: Hashable, Sendable {
  /// Index in `Policy.zones`.
  public var id: Int
  /// The zone's name.
  public var name: String
  /// Where the name is written.
  public var nameRange: SourceRange
  /// The whole declaration.
  public var range: SourceRange
  /// The Purdue level, when given.
  public var level: PurdueLevel?
  /// The target security level (SL-T), when given validly.
  public var securityLevel: Int?
  /// The declared networks.
  public var networks: [LocatedPrefix]
  /// Whether this is the `network outside` zone.
  public var isOutside: Bool
  /// The addresses of the zone: its networks, or for the outside zone every address in no other zone.
  public var addresses: AddressSet
  /// Assets listed in an `assets` line.
  public var listedAssets: [Identifier]
  /// Labels.
  public var tags: Set<String>
  /// The declaration as parsed.
  public var declaration: ZoneDeclaration
}

/// Where an asset comes from.
public enum AssetOrigin: Hashable, Sendable {
  /// An `asset` declaration in the policy.
  case policy(SourceRange)
  /// A baseline row; the range covers the row.
  case baseline(SourceRange)
  /// Both: a baseline row refined by a policy declaration.
  case both(baseline: SourceRange, policy: SourceRange)

  /// The range findings about the asset point at: the policy declaration when there is one, else the row.
  public var range: SourceRange {
    switch self {
    case .policy(let range), .baseline(let range): range
    case .both(_, let policy): policy
    }
  }

  /// The baseline row, when the asset has one.
  public var baselineRange: SourceRange? {
    switch self {
    case .policy: nil
    case .baseline(let range), .both(let range, _): range
    }
  }
}

/// A device of the site, from the baseline or the policy.
public struct Asset: Hashable, Sendable {
  /// Index in `Policy.assets`.
  public var id: Int
  /// The asset's name (case-sensitive).
  public var name: String
  /// Its addresses.
  public var addresses: [IPAddress]
  /// The role (compared ignoring case).
  public var role: String?
  public var vendor: String?
  public var product: String?
  public var model: String?
  public var version: String?
  public var criticality: Criticality?
  /// The capability security level (SL-C), 0-4.
  public var securityLevel: Int?
  public var mac: String?
  public var tags: Set<String>
  /// May share its addresses with other assets.
  public var isShared: Bool
  /// The zone named in the baseline's `zone` column, with the cell's range.
  public var baselineZone: Literal?
  /// Columns the baseline has that conduit does not interpret.
  public var attributes: [String: String]
  /// Where it is defined.
  public var origin: AssetOrigin
  /// The zone of each address (nil when unzoned), parallel to `addresses`.
  public var addressZones: [Int?]

  /// The distinct zones the asset's addresses lie in.
  public var zones: [Int] {
    var seen: [Int] = []
    for case let zone? in addressZones where !seen.contains(zone) { seen.append(zone) }
    return seen
  }

  /// The asset's addresses that lie in `zone`.
  public func addresses(in zone: Int) -> [IPAddress] {
    zip(addresses, addressZones).compactMap { $0.1 == zone ? $0.0 : nil }
  }

  public static func == (lhs: Asset, rhs: Asset) -> Bool { lhs.id == rhs.id && lhs.name == rhs.name }
  public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// The transport protocols that have ports.
public enum TransportProtocol: String, Hashable, Sendable, CaseIterable {
  case tcp, udp

  /// The IP protocol number.
  public var number: UInt8 { self == .tcp ? 6 : 17 }
}

/// What one service item matches besides addresses.
public enum ServiceMatch: Hashable, Sendable, CustomStringConvertible {
  /// TCP or UDP destination ports (`PortSet.full` for a bare `tcp`).
  case ports(TransportProtocol, PortSet)
  /// An ICMP query type (IPv4 only).
  case icmp(type: UInt8, name: String)
  /// An ICMPv6 query type (IPv6 only).
  case icmpv6(type: UInt8, name: String)
  /// Another IP protocol by number.
  case proto(UInt8)

  /// The address families the item applies to.
  public var families: Set<AddressFamily> {
    switch self {
    case .icmp: [.ipv4]
    case .icmpv6: [.ipv6]
    case .ports, .proto: [.ipv4, .ipv6]
    }
  }

  public var description: String {
    switch self {
    case .ports(let transport, let ports):
      if ports.isFull { return transport.rawValue }
      return ports.ranges.map { range in
        range.lowerBound == range.upperBound
          ? "\(transport.rawValue)/\(range.lowerBound)"
          : "\(transport.rawValue)/\(range.lowerBound)-\(range.upperBound)"
      }.joined(separator: ", ")
    case .icmp(_, let name): return "icmp/\(name)"
    case .icmpv6(_, let name): return "icmpv6/\(name)"
    case .proto(let number): return "proto/\(number)"
    }
  }
}

/// One resolved service item of a rule: what it matches and where it comes from.
public struct ResolvedItem: Hashable, Sendable {
  /// What it matches.
  public var match: ServiceMatch
  /// The item as written in the rule (a service name or a port literal).
  public var range: SourceRange
  /// The port literal it expands to (inside a service definition when reached through one).
  public var literalRange: SourceRange
  /// The services it was reached through, outermost first.
  public var viaServices: [String]
}

/// A resolved endpoint of a rule.
public struct ResolvedEndpoint: Hashable, Sendable {
  /// The endpoint as written.
  public var endpoint: Endpoint
  /// The addresses it stands for on its side of the rule.
  public var addresses: AddressSet
  /// The assets it names (empty for zones and literals).
  public var assets: [Int]
}

/// Identifies a rule: in a conduit or in a mitigation.
public enum RuleOwner: Hashable, Sendable {
  case conduit(Int)
  case mitigation(Int)
}

/// One `allow` rule after resolution.
public struct Rule: Hashable, Sendable {
  /// Where the rule is declared.
  public var owner: RuleOwner
  /// The conduit whose zones the rule crosses (for a mitigation rule: the conduit of its zones), if any.
  public var conduit: Int?
  /// The zone the sources lie in.
  public var sourceZone: Int
  /// The zone the destinations lie in.
  public var destinationZone: Int
  public var sources: [ResolvedEndpoint]
  public var destinations: [ResolvedEndpoint]
  public var items: [ResolvedItem]
  /// Whether the rule logs new connections.
  public var log: Bool
  /// Indices in `Policy.flows` (conduit rules) or `Mitigation.flows` (mitigation rules) of the rule's flows, which
  /// lie next to each other.
  public var flows: Range<Int>
  /// The rule as parsed.
  public var declaration: AllowRule

  /// Where the rule is written.
  public var range: SourceRange { declaration.range }
}

/// A set of flows: every connection from a source to a destination address of one family on one item.
public struct Flow: Hashable, Sendable {
  /// The family of every address of the flow.
  public var family: AddressFamily
  /// The initiating addresses.
  public var sources: AddressSet
  /// The addresses connected to.
  public var destinations: AddressSet
  /// Protocol and port or type.
  public var match: ServiceMatch
  /// The conduit the flow belongs to.
  public var conduit: Int
  /// The rule that allows it (index in `Policy.rules`).
  public var rule: Int
  /// The item of the rule it comes from (index in the rule's `items`).
  public var item: Int
  /// Whether new connections are logged.
  public var log: Bool
}

/// A conduit between two zones.
public struct Conduit: Hashable, Sendable {
  /// Index in `Policy.conduits`.
  public var id: Int
  public var name: String
  public var nameRange: SourceRange
  public var range: SourceRange
  /// The two zones, in the order of `between` (nil when `between` is missing or names unknown zones).
  public var zones: ZonePair?
  /// The conduit's SL-T.
  public var securityLevel: Int?
  public var owner: String?
  public var justification: String?
  /// The last day (UTC) the conduit allows its flows.
  public var expires: CalendarDay?
  /// Indices in `Policy.rules`.
  public var rules: [Int]
  public var declaration: ConduitDeclaration
}

/// A gateway and the zones behind each of its interfaces.
public struct Gateway: Hashable, Sendable {
  public var id: Int
  public var name: String
  public var nameRange: SourceRange
  public var range: SourceRange
  /// The interfaces and the zones behind each.
  public var interfaces: [GatewayInterface] {
    didSet { interfacesByZone = Self.interfacesByZone(interfaces) }
  }
  /// The names of the interfaces behind which each zone lies (derived from `interfaces`), so that every conduit of
  /// a site with many zones finds its interfaces without reading every interface.
  public private(set) var interfacesByZone: [Int: Set<String>]
  /// Connections allowed to the gateway itself.
  public var management: [Management]
  public var declaration: GatewayDeclaration

  /// Creates a gateway.
  public init(
    id: Int, name: String, nameRange: SourceRange, range: SourceRange, interfaces: [GatewayInterface],
    management: [Management], declaration: GatewayDeclaration
  ) {
    self.id = id
    self.name = name
    self.nameRange = nameRange
    self.range = range
    self.interfaces = interfaces
    self.interfacesByZone = Self.interfacesByZone(interfaces)
    self.management = management
    self.declaration = declaration
  }

  private static func interfacesByZone(_ interfaces: [GatewayInterface]) -> [Int: Set<String>] {
    var result: [Int: Set<String>] = [:]
    for interface in interfaces {
      for zone in interface.zones { result[zone, default: []].insert(interface.name) }
    }
    return result
  }

  /// The interfaces behind which `zone` lies.
  public func interfaces(reaching zone: Int) -> Set<String> {
    interfacesByZone[zone] ?? []
  }

  /// Whether traffic between the two zones crosses the gateway: they lie behind two different interfaces.
  public func enforces(_ pair: ZonePair) -> Bool {
    let first = interfaces(reaching: pair.first)
    let second = interfaces(reaching: pair.second)
    return first.contains { one in second.contains { $0 != one } }
  }
}

/// One `interface` line of a gateway.
public struct GatewayInterface: Hashable, Sendable {
  /// The interface name.
  public var name: String
  /// The zones reached through it.
  public var zones: [Int]
  /// The line.
  public var range: SourceRange
}

/// One `revoke service ITEMS [from ENDPOINTS] [to ENDPOINTS]`: the conduit flows on its items from its sources to
/// its destinations are removed.
public struct Revocation: Hashable, Sendable {
  /// The items revoked.
  public var items: [ResolvedItem]
  /// The sources it applies to; nil for all.
  public var sources: AddressSet?
  /// The destinations it applies to; nil for all.
  public var destinations: AddressSet?
  public var range: SourceRange
}

/// The two zones of a conduit.
public struct ZonePair: Hashable, Sendable {
  public var first: Int
  public var second: Int

  /// Whether the pair joins `zone`.
  public func contains(_ zone: Int) -> Bool { first == zone || second == zone }
  /// The other zone of the pair.
  public func other(than zone: Int) -> Int { zone == first ? second : first }
}

/// A `management` line: who may connect to the gateway, on what.
public struct Management: Hashable, Sendable {
  public var items: [ResolvedItem]
  public var sources: [ResolvedEndpoint]
  public var range: SourceRange
}

/// A prepared change, active only when compiled with `--mitigation NAME`.
public struct Mitigation: Hashable, Sendable {
  public var id: Int
  public var name: String
  public var nameRange: SourceRange
  public var reason: String?
  /// Addresses that `isolate` cuts off.
  public var isolated: AddressSet
  /// What `revoke` removes.
  public var revocations: [Revocation]
  /// Indices in `Policy.rules` of the mitigation's own `allow` rules.
  public var rules: [Int]
  /// The flows of its `allow` rules.
  public var flows: [Flow]
  public var declaration: MitigationDeclaration
}

/// A service definition (built-in or from the policy).
public struct ServiceDefinition: Hashable, Sendable {
  public var name: String
  /// Where it is defined; nil for built-ins.
  public var declaration: ServiceDeclaration?
  /// Its items expanded to matches (empty when its definition is broken).
  public var items: [ResolvedItem]
}

/// A resolved policy: the site's zones, assets, conduits and the flows they allow, each keeping its origin.
public struct Policy: Sendable {
  /// The `site` name, when given.
  public var siteName: String?
  /// The policy files read (the main file first, then includes in the order read).
  public var files: [PolicyFile]
  /// The baseline file, when one was read.
  public var baselineFile: SourceFile?
  public var zones: [Zone]
  public var assets: [Asset]
  public var services: [String: ServiceDefinition]
  public var gateways: [Gateway]
  public var conduits: [Conduit]
  public var mitigations: [Mitigation]
  /// Every rule: conduit rules and mitigation rules.
  public var rules: [Rule]
  /// The flows of the conduit rules (mitigation rules' flows are not included).
  public var flows: [Flow]
  /// Zone of every address (the outside zone excluded).
  public var zoneIndex: AddressIndex<Int>
  /// The outside zone, when declared.
  public var outsideZone: Int?
  /// Top-level `accept-risk` statements.
  public var siteAcceptRisks: [AcceptRiskStatement]
  /// Services a rule, management line, revoke or other service refers to.
  public var usedServices: Set<String>
  /// Zones named by a conduit, interface or management line.
  public var usedZones: Set<Int>

  /// The zone holding `address`, counting the outside zone.
  public func zone(of address: IPAddress) -> Int? {
    zoneIndex.value(at: address) ?? outsideZone
  }

  /// Asset ids by name.
  public var assetsByName: [String: Int] {
    Dictionary(assets.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
  }

  /// The conduit joining two zones, in either order.
  public func conduit(between first: Int, and second: Int) -> Int? {
    conduits.first { conduit in
      guard let zones = conduit.zones else { return false }
      return (zones.first == first && zones.second == second) || (zones.first == second && zones.second == first)
    }?.id
  }
}
