import FlowSpace
import PolicyLanguage

/// What a flow element matches besides its addresses.
public enum MatchKind: Int, Hashable, Sendable, Comparable, CaseIterable, CustomStringConvertible {
  /// TCP; the selectors are destination ports.
  case tcp
  /// UDP; the selectors are destination ports.
  case udp
  /// ICMP query types (IPv4); the selectors are types.
  case icmp
  /// ICMPv6 query types (IPv6); the selectors are types.
  case icmpv6
  /// Another IP protocol; the selectors are protocol numbers.
  case proto

  /// Every kind, in the order backends emit them.
  public static let all: [MatchKind] = allCases

  /// The kinds that exist in a family.
  public static func kinds(of family: AddressFamily) -> [MatchKind] {
    all.filter { kind in
      switch kind {
      case .icmp: family == .ipv4
      case .icmpv6: family == .ipv6
      default: true
      }
    }
  }

  /// Whether the selectors are destination ports (TCP or UDP).
  public var hasPorts: Bool { self == .tcp || self == .udp }

  /// The IP protocol number of TCP and UDP; nil for the other kinds.
  public var transportNumber: UInt8? {
    switch self {
    case .tcp: 6
    case .udp: 17
    default: nil
    }
  }

  public static func < (lhs: MatchKind, rhs: MatchKind) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String {
    switch self {
    case .tcp: "tcp"
    case .udp: "udp"
    case .icmp: "icmp"
    case .icmpv6: "icmpv6"
    case .proto: "proto"
    }
  }
}

/// Where a rule of the ruleset comes from.
public struct RuleOrigin: Hashable, Sendable {
  /// The conduit the rule counts in.
  public var conduit: String
  /// The mitigation that adds the rule, if any.
  public var mitigation: String?
  /// The `allow` statement.
  public var range: SourceRange
  /// Whether the rule asks for `log`.
  public var log: Bool
  /// The zone of the rule's sources.
  public var sourceZone: String
  /// The zone of the rule's destinations.
  public var destinationZone: String

  /// `file:line` of the rule.
  public var location: String {
    let start = range.startLocation
    return "\(range.file.path):\(start.line)"
  }
}

/// A conduit as the gateway enforces it: a chain with its own counter, and a logging chain in front of it.
public struct ConduitChain: Hashable, Sendable {
  /// The conduit's name in the policy.
  public var conduit: String
  /// The conduit's index in the policy.
  public var conduitID: Int
  /// The two zones, in the order of `between`.
  public var zones: [String]
  /// Where the conduit is declared.
  public var range: SourceRange
  /// When the conduit stops admitting new connections in the kernel (seconds since 1970, UTC: the end of its
  /// `expires` day); nil without `expires`, or when an emergency build keeps an expired conduit.
  public var expiresAt: Int64? = nil
}

/// One disjoint element of the flow space the gateway forwards: every new connection from `sources` to
/// `destinations` on `selectors` of `kind` goes to `chain`, logged when `log`.
public struct FlowElement: Hashable, Sendable {
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var destinations: AddressRange
  /// Destination ports, ICMP types or protocol numbers.
  public var selectors: ClosedRange<UInt16>
  /// Index in `Ruleset.chains`.
  public var chain: Int
  /// Whether a covering rule asks for `log`.
  public var log: Bool
  /// Indices in `Ruleset.rules` of the rules that cover the element.
  public var rules: [Int]

  /// Whether the element is one flow: one source, one destination, one port, ICMP type or protocol.
  public var isExact: Bool {
    sources.first == sources.last && destinations.first == destinations.last
      && selectors.lowerBound == selectors.upperBound
  }
}

/// An (interface, addresses) pair: traffic entering the interface must come from, and traffic leaving it must go
/// to, the zones behind it.
public struct InterfaceZone: Hashable, Sendable {
  public var interface: String
  public var zone: String
  public var addresses: AddressRange
  /// The gateway's `interface` line.
  public var range: SourceRange
}

/// One element of the gateway's own input allowed by `management` lines.
public struct ManagementElement: Hashable, Sendable {
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var selectors: ClosedRange<UInt16>
  /// The `management` lines that allow it.
  public var lines: [SourceRange]
}

/// The backend-neutral ruleset of one gateway: what every backend renders.
public struct Ruleset: Sendable {
  /// The site name (`site`), or nil.
  public var site: String?
  /// The gateway compiled for, or nil for address-only matching.
  public var gateway: String?
  /// The gateway's name in its declaration; nil without a gateway.
  public var gatewayRange: SourceRange?
  /// The gateway's interfaces that lead to zones (empty without a gateway).
  public var interfaces: [String]
  /// Interface and zone address pairs (anti-spoofing and egress), in interface order.
  public var interfaceZones: [InterfaceZone]
  /// One chain per enforced conduit.
  public var chains: [ConduitChain]
  /// Disjoint flow elements, by family, kind, source, destination and selector.
  public var elements: [FlowElement]
  /// The rules elements refer to.
  public var rules: [RuleOrigin]
  /// The management elements; nil when the gateway has no `management` line (its input is left alone).
  public var management: [ManagementElement]?
  /// Active mitigations, in the order given.
  public var mitigations: [String]
  /// The addresses the active mitigations isolate (cut from conduit and management flows alike).
  public var isolated: AddressSet = AddressSet()
  /// The path of the main policy file (the first one read), against which origins are recorded; nil for a ruleset
  /// built without one.
  public var mainPolicyPath: String?

  /// The elements of one family and kind.
  public func elements(_ family: AddressFamily, _ kind: MatchKind) -> [FlowElement] {
    elements.filter { $0.family == family && $0.kind == kind }
  }
}

extension Ruleset {
  /// The elements of one family and kind as one region per conduit (regions of different conduits never overlap),
  /// each point covered by the element's rules shifted by `offset`.
  public func regions<Address: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ family: AddressFamily, _ kind: MatchKind, ruleOffset offset: Int = 0, as _: Address.Type
  ) -> [FlowRegion<Address>] {
    let selectedByChain = Dictionary(grouping: elements.filter { $0.family == family && $0.kind == kind }, by: \.chain)
    return selectedByChain.keys.sorted().map { chain in
      FlowRegion(
        boxesOfARegion: selectedByChain[chain]!.map { element in
          FlowBox(
            sources: element.sources.bounds(as: Address.self),
            destinations: element.destinations.bounds(as: Address.self),
            selectors: element.selectors, cover: RuleCover(element.rules.map { $0 + offset }))
        })
    }
  }
}

extension AddressRange {
  /// The range as integers of `Address` (UInt32 for IPv4, UInt128 for IPv6).
  public func bounds<Address: FixedWidthInteger & UnsignedInteger>(as _: Address.Type) -> ClosedRange<Address> {
    func value(_ address: IPAddress) -> Address {
      switch address {
      case .v4(let v4): Address(v4.value)
      case .v6(let v6): Address(truncatingIfNeeded: v6.value)
      }
    }
    return value(first)...value(last)
  }
}
