import FlowSpace
import PolicyLanguage
import PolicyModel

/// What to lower for.
public struct LoweringOptions: Sendable {
  /// The gateway (`--gateway`); nil picks the only one, or address-only matching when there is none.
  public var gateway: String?
  /// Mitigations to compile in (`--mitigation`), in order.
  public var mitigations: [String]
  /// Every conduit by addresses alone, whatever the gateways (the policy's meaning, for analysis).
  public var ignoringGateways: Bool
  /// The policy's conduit regions when already computed (by `compile`, for the check too).
  public var regions: ConduitRegions?
  /// The day expiry is judged against (`--today`): a conduit already expired on it (kept by an emergency build)
  /// gets no expiry in the kernel; nil gives every conduit with `expires` its expiry.
  public var today: CalendarDay?

  /// Creates options.
  public init(
    gateway: String? = nil, mitigations: [String] = [], ignoringGateways: Bool = false, regions: ConduitRegions? = nil,
    today: CalendarDay? = nil
  ) {
    self.gateway = gateway
    self.mitigations = mitigations
    self.ignoringGateways = ignoringGateways
    self.regions = regions
    self.today = today
  }
}

/// The command line asked for something the policy does not have (exit status 64).
public enum LoweringError: Error, CustomStringConvertible, Sendable {
  /// Several gateways and no `--gateway`.
  case gatewayRequired(available: [String])
  /// `--gateway` names no gateway.
  case unknownGateway(String, available: [String])
  /// `--mitigation` names no mitigation.
  case unknownMitigation(String, available: [String])

  public var description: String {
    switch self {
    case .gatewayRequired(let names):
      "the policy has several gateways; choose one with --gateway: \(names.joined(separator: ", "))"
    case .unknownGateway(let name, let names):
      "no gateway '\(name)' in the policy" + (names.isEmpty ? "" : "; its gateways: \(names.joined(separator: ", "))")
    case .unknownMitigation(let name, let names):
      "no mitigation '\(name)' in the policy"
        + (names.isEmpty ? "" : "; its mitigations: \(names.joined(separator: ", "))")
    }
  }
}

/// The lower stage: a checked `Policy` and one gateway become a backend-neutral `Ruleset` of disjoint elements.
public enum Lowering {
  /// Lowers `policy` for the gateway and mitigations of `options`. Mitigation conflicts are reported as errors.
  public static func lower(
    _ policy: Policy, options: LoweringOptions = LoweringOptions(), diagnostics: inout DiagnosticEngine
  ) throws(LoweringError) -> Ruleset {
    let gateway = options.ignoringGateways ? nil : try selectGateway(policy, options.gateway)
    let mitigations = try options.mitigations.map { name throws(LoweringError) -> Mitigation in
      guard let mitigation = policy.mitigations.first(where: { $0.name == name }) else {
        throw .unknownMitigation(name, available: policy.mitigations.map(\.name))
      }
      return mitigation
    }
    let enforced = policy.conduits.filter { conduit in
      guard let pair = conduit.zones else { return false }
      return gateway?.enforces(pair) ?? true
    }
    let chainOfConduit = Dictionary(uniqueKeysWithValues: enforced.enumerated().map { ($1.id, $0) })
    let chains = enforced.map { conduit in
      ConduitChain(
        conduit: conduit.name, conduitID: conduit.id,
        zones: [conduit.zones!.first, conduit.zones!.second].map { policy.zones[$0].name }, range: conduit.nameRange,
        expiresAt: conduit.expires.flatMap { expires in
          options.today.map { expires >= $0 } ?? true ? Int64(expires.daysSinceEpoch + 1) * 86_400 : nil
        })
    }
    let rules = policy.rules.map { rule in
      RuleOrigin(
        conduit: rule.conduit.map { policy.conduits[$0].name } ?? "",
        mitigation: { if case .mitigation(let id) = rule.owner { policy.mitigations[id].name } else { nil } }(),
        range: rule.declaration.range, log: rule.log, sourceZone: policy.zones[rule.sourceZone].name,
        destinationZone: policy.zones[rule.destinationZone].name)
    }

    var flowsOfSelection: [SelectionKey: [Int]] = [:]
    for index in policy.flows.indices {
      let flow = policy.flows[index]
      let key = SelectionKey(conduit: flow.conduit, family: flow.family, kind: MatchKind.of(flow.match).kind)
      flowsOfSelection[key, default: []].append(index)
    }
    var mitigationFlowsByConduit: [Int: [Int: [Flow]]] = [:]
    for mitigation in mitigations {
      for (conduit, flows) in Dictionary(grouping: mitigation.flows, by: \.conduit) {
        mitigationFlowsByConduit[conduit, default: [:]][mitigation.id] = flows
      }
    }
    let selections = AddressFamily.allCases.flatMap { family in
      MatchKind.kinds(of: family).flatMap { kind in
        enforced.map { SelectionKey(conduit: $0.id, family: family, kind: kind) }
      }
    }
    let lowered = concurrentMap(count: selections.count) { [flowsOfSelection, mitigationFlowsByConduit] index in
      let key = selections[index]
      let flows = FlowSelection(
        policy: policy, family: key.family, kind: key.kind, conduit: key.conduit,
        flows: flowsOfSelection[key] ?? [], mitigationFlows: mitigationFlowsByConduit[key.conduit] ?? [:])
      var found = DiagnosticEngine()
      let elements: [FlowElement]
      switch key.family {
      case .ipv4:
        let region: FlowRegion<UInt32> = flows.region(
          mitigations: mitigations, addresses: \.v4, precomputed: options.regions?.v4[key.regionKey],
          diagnostics: &found)
        elements = region.boxes.map { element($0, key.family, key.kind, AddressRange.init, policy, chainOfConduit) }
      case .ipv6:
        let region: FlowRegion<UInt128> = flows.region(
          mitigations: mitigations, addresses: \.v6, precomputed: options.regions?.v6[key.regionKey],
          diagnostics: &found)
        elements = region.boxes.map { element($0, key.family, key.kind, AddressRange.init, policy, chainOfConduit) }
      }
      return (elements, found)
    }
    var elements: [FlowElement] = []
    elements.reserveCapacity(lowered.reduce(0) { $0 + $1.0.count })
    var reported: Set<Diagnostic> = []
    for (selectionElements, found) in lowered {
      elements += selectionElements
      for diagnostic in found.diagnostics where reported.insert(diagnostic).inserted {
        diagnostics.report(diagnostic)
      }
    }
    elements.sort {
      ($0.family, $0.kind, $0.sources, $0.destinations, $0.selectors.lowerBound) < (
        $1.family, $1.kind, $1.sources, $1.destinations, $1.selectors.lowerBound
      )
    }

    let isolated = AddressSet.union(of: mitigations.map(\.isolated))
    return Ruleset(
      site: policy.siteName, gateway: gateway?.name, gatewayRange: gateway?.nameRange,
      interfaces: gateway?.interfaces.filter { !$0.zones.isEmpty }.map(\.name) ?? [],
      interfaceZones: gateway.map { interfaceZones($0, policy) } ?? [], chains: chains, elements: elements,
      rules: rules, management: gateway.flatMap { managementElements($0, isolated: isolated) },
      mitigations: options.mitigations, isolated: isolated, mainPolicyPath: policy.files.first?.file.path)
  }

  private static func selectGateway(_ policy: Policy, _ name: String?) throws(LoweringError) -> Gateway? {
    let names = policy.gateways.map(\.name)
    if let name {
      guard let gateway = policy.gateways.first(where: { $0.name == name }) else {
        throw .unknownGateway(name, available: names)
      }
      return gateway
    }
    if policy.gateways.count > 1 { throw .gatewayRequired(available: names) }
    return policy.gateways.first
  }

  private static func element<Address>(
    _ box: FlowBox<Address>, _ family: AddressFamily, _ kind: MatchKind,
    _ range: (ClosedRange<Address>) -> AddressRange, _ policy: Policy, _ chainOfConduit: [Int: Int]
  ) -> FlowElement {
    let conduit = box.cover.rules.compactMap { policy.rules[$0].conduit }.min()!
    return FlowElement(
      family: family, kind: kind, sources: range(box.sources), destinations: range(box.destinations),
      selectors: box.selectors, chain: chainOfConduit[conduit]!,
      log: box.cover.rules.contains { policy.rules[$0].log }, rules: box.cover.rules)
  }

  private static func interfaceZones(_ gateway: Gateway, _ policy: Policy) -> [InterfaceZone] {
    var result: [InterfaceZone] = []
    for interface in gateway.interfaces {
      for zoneID in interface.zones {
        let zone = policy.zones[zoneID]
        let ranges = zone.addresses.v4.ranges.map(AddressRange.init) + zone.addresses.v6.ranges.map(AddressRange.init)
        result += ranges.map {
          InterfaceZone(interface: interface.name, zone: zone.name, addresses: $0, range: interface.range)
        }
      }
    }
    return result
  }

  /// The gateway's management elements; the addresses an active mitigation isolates lose their access too.
  private static func managementElements(_ gateway: Gateway, isolated: AddressSet) -> [ManagementElement]? {
    guard !gateway.management.isEmpty else { return nil }
    var result: [ManagementElement] = []
    for family in AddressFamily.allCases {
      for kind in MatchKind.kinds(of: family) {
        var lines: [SegmentMap<UInt128, SegmentMap<UInt16, RuleCover>>] = []
        for (index, line) in gateway.management.enumerated() {
          let sources = line.sources.reduce(AddressSet()) { $0.union($1.addresses) }.subtracting(isolated)
          let ranges: [ClosedRange<UInt128>] =
            family == .ipv4
            ? sources.v4.ranges.map { UInt128($0.lowerBound)...UInt128($0.upperBound) } : sources.v6.ranges
          for item in line.items {
            let (itemKind, selectors) = MatchKind.of(item.match)
            guard itemKind == kind else { continue }
            let selectorMap = SegmentMap<UInt16, RuleCover>(
              sortedDisjoint: selectors.ranges.map { Segment($0, RuleCover(index)) })
            lines.append(SegmentMap(sortedDisjoint: IntervalSet(ranges).ranges.map { Segment($0, selectorMap) }))
          }
        }
        let region = SegmentMap.union(lines) { a, b in SegmentMap.union([a, b]) { $0.union($1) } }
        for source in region.segments {
          let sources =
            family == .ipv4
            ? AddressRange(UInt32(source.range.lowerBound)...UInt32(source.range.upperBound))
            : AddressRange(source.range)
          for selector in source.value.segments {
            result.append(
              ManagementElement(
                family: family, kind: kind, sources: sources, selectors: selector.range,
                lines: selector.value.rules.map { gateway.management[$0].range }))
          }
        }
      }
    }
    return result
  }
}

/// One conduit, family and kind: the unit the lowering works on, in parallel.
struct SelectionKey: Hashable, Sendable {
  let conduit: Int
  let family: AddressFamily
  let kind: MatchKind

  var regionKey: ConduitRegions.Key { ConduitRegions.Key(conduit: conduit, family: family, kind: kind.protocolKind) }
}

/// The flows of one conduit, family and kind, and how mitigations change them. Conduits join different pairs of
/// disjoint zones, so the regions of two conduits never overlap and each is made disjoint on its own.
struct FlowSelection {
  let policy: Policy
  let family: AddressFamily
  let kind: MatchKind
  let conduit: Int
  /// The conduit's flows of this family and kind (indices in `policy.flows`).
  let flows: [Int]
  /// The conduit's flows added by each mitigation's `allow` rules, by mitigation id.
  let mitigationFlows: [Int: [Flow]]

  /// The allowed region; `precomputed` is the union of `flows` when the caller has it (nil: computed here).
  func region<Address>(
    mitigations: [Mitigation], addresses: KeyPath<AddressSet, IntervalSet<Address>> & Sendable,
    precomputed: FlowRegion<Address>?, diagnostics: inout DiagnosticEngine
  ) -> FlowRegion<Address> {
    func region(of flows: [Flow]) -> FlowRegion<Address> {
      FlowRegion.union(
        flows.compactMap { flow in
          let (flowKind, selectors) = MatchKind.of(flow.match)
          guard flow.family == family, flowKind == kind else { return nil }
          return FlowRegion(
            sources: flow.sources[keyPath: addresses], destinations: flow.destinations[keyPath: addresses],
            selectors: selectors, rule: flow.rule)
        })
    }
    func cut(_ region: FlowRegion<Address>, by mitigation: Mitigation) -> FlowRegion<Address> {
      let isolated = mitigation.isolated[keyPath: addresses]
      var result = region.removing(sources: isolated).removing(destinations: isolated, selectors: nil)
      for revocation in mitigation.revocations {
        for item in revocation.items {
          let (itemKind, selectors) = MatchKind.of(item.match)
          guard itemKind == kind else { continue }
          result = result.removing(
            sources: revocation.sources?[keyPath: addresses],
            destinations: revocation.destinations?[keyPath: addresses],
            selectors: selectors)
        }
      }
      return result
    }
    var base = precomputed ?? ConduitRegions.union(flows, of: policy, { $0[keyPath: addresses] })
    for mitigation in mitigations { base = cut(base, by: mitigation) }
    var allowed: [FlowRegion<Address>] = [base]
    for mitigation in mitigations {
      let allows = region(of: mitigationFlows[mitigation.id] ?? [])
      for other in mitigations where other.id != mitigation.id {
        for rule in Set(allows.boxes.flatMap(\.cover.rules)).sorted() {
          let ruleRegion = allows.filteringCovers { $0.rules.contains(rule) ? RuleCover(rule) : nil }
          if cut(ruleRegion, by: other) != ruleRegion {
            reportConflict(rule: rule, of: mitigation, reopening: other, &diagnostics)
          }
        }
      }
      allowed.append(allows)
    }
    return FlowRegion.union(allowed)
  }

  private func reportConflict(
    rule ruleIndex: Int, of mitigation: Mitigation, reopening other: Mitigation, _ diagnostics: inout DiagnosticEngine
  ) {
    let rule = policy.rules[ruleIndex]
    let message =
      "this allow of mitigation '\(mitigation.name)' reopens what mitigation '\(other.name)' isolates or revokes"
    let reported = diagnostics.diagnostics.contains {
      $0.id == .mitigationConflict && $0.range == rule.declaration.keywordRange && $0.message == message
    }
    guard !reported else { return }
    diagnostics.error(
      .mitigationConflict, message, at: rule.declaration.keywordRange,
      notes: [DiagnosticNote("mitigation '\(other.name)' is declared here", at: other.nameRange)])
  }
}

extension MatchKind {
  /// The kind and selectors of one service match.
  public static func of(_ match: ServiceMatch) -> (kind: MatchKind, selectors: IntervalSet<UInt16>) {
    switch match {
    case .ports(let transport, _): (transport == .tcp ? .tcp : .udp, match.selectors)
    case .icmp: (.icmp, match.selectors)
    case .icmpv6: (.icmpv6, match.selectors)
    case .proto: (.proto, match.selectors)
    }
  }

  /// The model's protocol of the kind, by which conduit regions are kept apart.
  public var protocolKind: ProtocolKind {
    switch self {
    case .tcp: .tcp
    case .udp: .udp
    case .icmp: .icmp
    case .icmpv6: .icmpv6
    case .proto: .other
    }
  }
}

extension ConduitChain {
  /// The day (UTC, `YYYY-MM-DD`) on whose first instant the conduit stops admitting new connections: the day after
  /// its `expires` day; nil without expiry.
  public var expiryStartDay: String? {
    expiresAt.map { CalendarDay.today(secondsSinceEpoch: Double($0)).description }
  }
}
