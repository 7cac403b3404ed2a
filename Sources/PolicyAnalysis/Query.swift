import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// One disjoint part of a query's answer: flows from `sources` to `destinations` on `selectors` of `kind`, and
/// (when allowed) the rules that allow them.
public struct QueryPart: Hashable, Sendable {
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var destinations: AddressRange
  public var selectors: ClosedRange<UInt16>
  /// Indices in `QueryAnswer.rules`; empty for denied parts.
  public var rules: [Int]
}

/// The answer to "is this traffic allowed, and by what?".
public struct QueryAnswer: Sendable {
  /// What is allowed, with its rules.
  public var allowed: [QueryPart]
  /// What is asked for but not allowed (empty when no service was asked for).
  public var denied: [QueryPart]
  /// The rules parts refer to.
  public var rules: [RuleOrigin]
  /// Why denied parts are denied: an active mitigation cuts them, no conduit joins the zones, or what the conduit
  /// allows instead.
  public var reasons: [String]

  /// Whether everything asked for is allowed (and, without services, whether anything is).
  public var isAllowed: Bool { denied.isEmpty && !allowed.isEmpty }
}

/// `conduit query`: which flows between two sets of addresses a policy allows, by which rules.
public enum Query {
  /// Answers for traffic from `sources` to `destinations` on `items` (every item when nil), with the policy as
  /// compiled with `mitigations`, whatever the gateways.
  public static func answer(
    _ policy: Policy, from sources: AddressSet, to destinations: AddressSet, items: [ResolvedItem]?,
    mitigations: [String] = [], diagnostics: inout DiagnosticEngine
  ) throws(LoweringError) -> QueryAnswer {
    let ruleset = try Lowering.lower(
      policy, options: LoweringOptions(mitigations: mitigations, ignoringGateways: true), diagnostics: &diagnostics)
    var asked: [MatchKind: IntervalSet<UInt16>] = [:]
    if let items {
      for item in items {
        let (kind, selectors) = MatchKind.of(item.match)
        asked[kind, default: IntervalSet()].formUnion(selectors)
      }
    } else {
      for kind in MatchKind.all { asked[kind] = .full }
    }
    var answer = QueryAnswer(allowed: [], denied: [], rules: ruleset.rules, reasons: [])
    for family in AddressFamily.allCases {
      let from = sources.restricted(to: family)
      let to = destinations.restricted(to: family)
      guard !from.isEmpty, !to.isEmpty else { continue }
      for kind in MatchKind.kinds(of: family) {
        guard let selectors = asked[kind] else { continue }
        switch family {
        case .ipv4:
          answer.add(
            family, kind, ruleset, from.v4, to.v4, selectors, range: AddressRange.init, askedExplicitly: items != nil)
        case .ipv6:
          answer.add(
            family, kind, ruleset, from.v6, to.v6, selectors, range: AddressRange.init, askedExplicitly: items != nil)
        }
      }
    }
    if !answer.denied.isEmpty || answer.allowed.isEmpty {
      answer.reasons = reasons(policy, ruleset, sources, destinations)
      if !mitigations.isEmpty {
        var unmitigatedDiagnostics = DiagnosticEngine()
        let unmitigated = try Self.answer(
          policy, from: sources, to: destinations, items: items, diagnostics: &unmitigatedDiagnostics)
        answer.reasons.insert(
          contentsOf: mitigationReasons(policy, mitigations, sources, destinations, unmitigated), at: 0)
      }
    }
    return answer
  }

  /// Which active mitigations cut these endpoints (an isolate of some of their addresses, a revoke whose sources and
  /// destinations reach them), and what the rules would allow without them.
  static func mitigationReasons(
    _ policy: Policy, _ names: [String], _ sources: AddressSet, _ destinations: AddressSet,
    _ unmitigated: QueryAnswer
  ) -> [String] {
    guard !unmitigated.allowed.isEmpty else { return [] }
    var reasons: [String] = []
    for mitigation in policy.mitigations where names.contains(mitigation.name) {
      if !mitigation.isolated.intersection(sources.union(destinations)).isEmpty {
        reasons.append("mitigation '\(mitigation.name)' isolates some of these addresses")
      } else if let revocation = mitigation.revocations.first(where: { revocation in
        (revocation.sources.map { !$0.intersection(sources).isEmpty } ?? true)
          && (revocation.destinations.map { !$0.intersection(destinations).isEmpty } ?? true)
      }) {
        let scope =
          switch (revocation.sources, revocation.destinations) {
          case (nil, _): "to some of these destinations"
          case (_, nil): "from some of these sources"
          default: "from some of these sources to some of these destinations"
          }
        reasons.append("mitigation '\(mitigation.name)' revokes services \(scope)")
      }
    }
    let rules = Set(unmitigated.allowed.flatMap(\.rules)).sorted().prefix(5).map { unmitigated.rules[$0].location }
    reasons.append("without mitigations, allowed by " + rules.joined(separator: ", "))
    return reasons
  }

  /// Whether some address of `range` is in `addresses`.
  static func reaches(_ addresses: AddressSet, _ range: AddressRange) -> Bool {
    switch range.family {
    case .ipv4: addresses.v4.intersects(range.bounds(as: UInt32.self))
    case .ipv6: addresses.v6.intersects(range.bounds(as: UInt128.self))
    }
  }

  /// The nearest reasons: zone pairs without a conduit, and what the conduits that exist allow instead.
  static func reasons(_ policy: Policy, _ ruleset: Ruleset, _ sources: AddressSet, _ destinations: AddressSet)
    -> [String]
  {
    let sourceZones = Set(sources.prefixes.flatMap { zones(of: $0, policy) })
    let destinationZones = Set(destinations.prefixes.flatMap { zones(of: $0, policy) })
    var reasons: [String] = []
    for source in sourceZones.sorted() {
      for destination in destinationZones.sorted() where source != destination {
        let from = policy.zones[source].name
        let to = policy.zones[destination].name
        guard let conduit = policy.conduit(between: source, and: destination) else {
          reasons.append("no conduit joins zone '\(from)' and zone '\(to)'")
          continue
        }
        let offered = ruleset.elements.filter { element in
          element.rules.contains { ruleset.rules[$0].sourceZone == from && ruleset.rules[$0].destinationZone == to }
            && sources.contains(element.sources.first) && destinations.contains(element.destinations.first)
        }
        let services = Set(offered.map { Self.describe($0.kind, $0.selectors) }).sorted()
        let name = policy.conduits[conduit].name
        guard services.isEmpty else {
          reasons.append(
            "conduit '\(name)' allows from '\(from)' to '\(to)' between these endpoints: "
              + services.joined(separator: ", "))
          continue
        }
        let reaching = ruleset.elements.filter { element in
          element.rules.contains { ruleset.rules[$0].sourceZone == from && ruleset.rules[$0].destinationZone == to }
            && reaches(destinations, element.destinations)
        }
        let rules = Set(reaching.flatMap(\.rules)).sorted().prefix(5).map { ruleset.rules[$0].location }
        reasons.append(
          "conduit '\(name)' allows nothing from these sources to these destinations"
            + (rules.isEmpty ? "" : "; rules that reach them from other sources: " + rules.joined(separator: ", ")))
      }
    }
    if sourceZones == destinationZones, sourceZones.count == 1 {
      reasons.append("both ends lie in zone '\(policy.zones[sourceZones.first!].name)': no gateway filters that")
    }
    return reasons
  }

  static func zones(of prefix: IPPrefix, _ policy: Policy) -> [Int] {
    var result = policy.zoneIndex.values(overlapping: prefix).map(\.value)
    if let outside = policy.outsideZone, !policy.zoneIndex.uncovered(prefix).isEmpty { result.append(outside) }
    return result
  }

  /// `tcp/502`, `udp/1000-2000`, `icmp/8`, `proto/47`.
  public static func describe(_ kind: MatchKind, _ selectors: ClosedRange<UInt16>) -> String {
    let range =
      selectors.lowerBound == selectors.upperBound
      ? "\(selectors.lowerBound)" : "\(selectors.lowerBound)-\(selectors.upperBound)"
    if kind.hasPorts, selectors == 0...UInt16.max { return kind.description }
    return "\(kind)/\(range)"
  }
}

extension QueryAnswer {
  fileprivate mutating func add<Address>(
    _ family: AddressFamily, _ kind: MatchKind, _ ruleset: Ruleset, _ sources: IntervalSet<Address>,
    _ destinations: IntervalSet<Address>, _ selectors: IntervalSet<UInt16>,
    range: (ClosedRange<Address>) -> AddressRange, askedExplicitly: Bool
  ) {
    let question = FlowRegion(sources: sources, destinations: destinations, selectors: selectors, rule: -1)
    let regions = [question] + ruleset.regions(family, kind, as: Address.self)
    let combined = FlowRegion.union(regions)
    for box in combined.boxes where box.cover.rules.contains(-1) {
      let rules = box.cover.rules.filter { $0 >= 0 }
      let part = QueryPart(
        family: family, kind: kind, sources: range(box.sources), destinations: range(box.destinations),
        selectors: box.selectors, rules: rules)
      if !rules.isEmpty {
        allowed.append(part)
      } else if askedExplicitly {
        denied.append(part)
      }
    }
  }
}
