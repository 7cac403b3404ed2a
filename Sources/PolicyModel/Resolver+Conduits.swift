import FlowSpace
import Foundation
import PolicyLanguage

extension Resolver {
  mutating func resolveGateways() {
    for zone in zones {
      for name in zone.listedAssets where assetsByName[name.text] == nil {
        unknown("asset", name, candidates: assetNames)
      }
    }
    var gatewaysByName: [String: Int] = [:]
    for case .gateway(let declaration) in declarations {
      if let first = gatewaysByName[declaration.name.text] {
        duplicate("gateway", declaration.name, first: gateways[first].nameRange)
        continue
      }
      var interfaces: [GatewayInterface] = []
      var interfaceLines: [String: SourceRange] = [:]
      for statement in declaration.interfaces {
        let name = statement.interface
        if let first = interfaceLines[name.text] {
          diagnostics.error(
            .duplicateDefinition, "interface '\(name.text)' is declared twice in gateway '\(declaration.name.text)'",
            at: name.range, notes: [DiagnosticNote("first declared here", at: first)])
          continue
        }
        interfaceLines[name.text] = statement.range
        var zoneIDs: [Int] = []
        for zoneName in statement.zones {
          guard let zone = zone(named: zoneName) else { continue }
          usedZones.insert(zone)
          if !zoneIDs.contains(zone) { zoneIDs.append(zone) }
        }
        interfaces.append(GatewayInterface(name: name.text, zones: zoneIDs, range: statement.range))
      }
      var management: [Management] = []
      for statement in declaration.management {
        let items = expand(statement.items)
        let sources = statement.sources.compactMap { unrestrictedEndpoint($0) }
        management.append(Management(items: items, sources: sources, range: statement.range))
      }
      gatewaysByName[declaration.name.text] = gateways.count
      gateways.append(
        Gateway(
          id: gateways.count, name: declaration.name.text, nameRange: declaration.name.range,
          range: declaration.range, interfaces: interfaces, management: management, declaration: declaration))
    }
  }

  mutating func resolveConduits() {
    var conduitsByName: [String: Int] = [:]
    var ruleWork: [ConduitRules] = []
    for case .conduit(let declaration) in declarations {
      if let first = conduitsByName[declaration.name.text] {
        duplicate("conduit", declaration.name, first: conduits[first].nameRange)
        continue
      }
      let id = conduits.count
      var conduit = Conduit(
        id: id, name: declaration.name.text, nameRange: declaration.name.range, range: declaration.range,
        zones: nil, securityLevel: nil, owner: declaration.owner?.text,
        justification: declaration.justification?.text, expires: nil, rules: [], declaration: declaration)
      conduit.securityLevel = checkSecurityLevel(
        declaration.securityLevel, range: 1...4, what: "a conduit's security level (SL-T)")
      if let expires = declaration.expires {
        conduit.expires = CalendarDay(expires.text)
        if conduit.expires == nil {
          diagnostics.error(.badValue, "'\(expires.text)' is not a valid date", at: expires.range)
        }
      }
      if let between = declaration.between {
        let first = zone(named: between.first)
        let second = zone(named: between.second)
        if let first, let second {
          usedZones.formUnion([first, second])
          if first == second {
            diagnostics.error(
              .badValue, "a conduit joins two different zones, but both are '\(zones[first].name)'",
              at: between.second.range)
          } else {
            conduit.zones = ZonePair(first: first, second: second)
          }
        }
      } else {
        diagnostics.error(
          .missingStatement, "conduit '\(declaration.name.text)' has no 'between ZONE and ZONE'",
          at: declaration.name.range)
      }
      conduitsByName[conduit.name] = id
      conduits.append(conduit)
      guard let pair = conduit.zones else {
        for rule in declaration.rules { resolveUnanchoredNames(rule) }
        continue
      }
      ruleWork.append(ConduitRules(conduit: id, pair: pair, rules: declaration.rules))
    }
    resolveRules(of: ruleWork)
  }

  /// The rules of one conduit, to resolve.
  struct ConduitRules: Sendable {
    let conduit: Int
    let pair: ZonePair
    let rules: [AllowRule]
  }

  /// What resolving one run of conduits' rules on a copy of the resolver gives, numbered from 0: its rules (their
  /// flows counted from 0), its flows (their rules counted from 0) and, per conduit of the run, its rules.
  struct ResolvedRules: Sendable {
    var rules: [Rule]
    var flows: [Flow]
    var conduitRules: [[Int]]
    var diagnostics: DiagnosticEngine
    /// How many unknown names the run reported, and which of its findings carry a "did you mean" note.
    var unknownNames: Int
    var suggestions: [Suggestion]
    var usedServices: Set<String>
    var usedZones: Set<Int>
  }

  /// A "did you mean" note: the finding that carries it and the number of the unknown name it is for, both in the
  /// order the resolver reported them.
  struct Suggestion: Sendable {
    var diagnostic: Int
    var unknownName: Int
  }

  /// Resolves the rules of every conduit in one run of conduits per core, each on a copy of the resolver with rules
  /// and flows of its own, then appends the runs in conduit order with their numbers moved past the runs before.
  /// The result is that of one pass in conduit order: a rule that does not resolve only moves the numbers of the
  /// rules after it, and of the suggestions each run made, those one pass would not have made (it stops after
  /// `suggestionsLeft` unknown names) are dropped.
  private mutating func resolveRules(of work: [ConduitRules]) {
    let runs = Self.runs(of: work, count: ProcessInfo.processInfo.activeProcessorCount)
    if !work.isEmpty, assetPlacements.count != assets.count { placeEveryAsset() }
    let start = self
    var parts = concurrentMap(count: runs.count) { index in
      var resolver = start
      let ruleCount = work[runs[index]].reduce(0) { $0 + $1.rules.count }
      resolver.rules = []
      resolver.rules.reserveCapacity(ruleCount)
      resolver.flows = []
      resolver.flows.reserveCapacity(ruleCount)
      resolver.diagnostics = DiagnosticEngine()
      resolver.unknownNames = 0
      resolver.suggestions = []
      let conduitRules = work[runs[index]].map { conduit in
        conduit.rules.compactMap { rule in
          resolver.resolveRule(
            rule, owner: .conduit(conduit.conduit), conduit: conduit.conduit, pair: conduit.pair, flowSink: .policy)
        }
      }
      return ResolvedRules(
        rules: resolver.rules, flows: resolver.flows, conduitRules: conduitRules, diagnostics: resolver.diagnostics,
        unknownNames: resolver.unknownNames, suggestions: resolver.suggestions, usedServices: resolver.usedServices,
        usedZones: resolver.usedZones)
    }
    var unknownNamesBefore = 0
    for (index, run) in runs.enumerated() {
      let ruleOffset = rules.count
      let flowOffset = flows.count
      if flowOffset != 0 {
        for rule in parts[index].rules.indices {
          let local = parts[index].rules[rule].flows
          parts[index].rules[rule].flows = (local.lowerBound + flowOffset)..<(local.upperBound + flowOffset)
        }
      }
      if ruleOffset != 0 {
        for flow in parts[index].flows.indices { parts[index].flows[flow].rule += ruleOffset }
      }
      for (conduit, local) in zip(work[run], parts[index].conduitRules) {
        conduits[conduit.conduit].rules = local.map { $0 + ruleOffset }
      }
      var found = parts[index].diagnostics.diagnostics
      for suggestion in parts[index].suggestions
      where unknownNamesBefore + suggestion.unknownName >= start.suggestionsLeft {
        found[suggestion.diagnostic].notes.removeFirst()
      }
      unknownNamesBefore += parts[index].unknownNames
      for diagnostic in found { diagnostics.report(diagnostic) }
      Self.append(&parts[index].rules, to: &rules)
      Self.append(&parts[index].flows, to: &flows)
      usedServices.formUnion(parts[index].usedServices)
      usedZones.formUnion(parts[index].usedZones)
    }
    suggestionsLeft = start.suggestionsLeft - unknownNamesBefore
    unknownNames = start.unknownNames + unknownNamesBefore
  }

  /// Moves the elements of `part` to the end of `whole` (taking its storage when `whole` is empty).
  private static func append<Element>(_ part: inout [Element], to whole: inout [Element]) {
    if whole.isEmpty {
      swap(&whole, &part)
    } else {
      whole.append(contentsOf: part)
      part = []
    }
  }

  /// Consecutive runs of conduits with about the same number of rules, at most `count` of them.
  static func runs(of work: [ConduitRules], count: Int) -> [Range<Int>] {
    let total = work.reduce(0) { $0 + $1.rules.count }
    let share = max(1, (total + max(1, count) - 1) / max(1, count))
    var runs: [Range<Int>] = []
    var start = 0
    var rulesInRun = 0
    for (index, conduit) in work.enumerated() {
      rulesInRun += conduit.rules.count
      if rulesInRun >= share {
        runs.append(start..<(index + 1))
        start = index + 1
        rulesInRun = 0
      }
    }
    if start < work.count { runs.append(start..<work.count) }
    return runs
  }

  mutating func resolveMitigations() {
    for conduit in conduits {
      guard let pair = conduit.zones else { continue }
      let key = [pair.first, pair.second].sorted()
      if conduitsByZones[key] == nil { conduitsByZones[key] = conduit.id }
    }
    var mitigationsByName: [String: Int] = [:]
    for case .mitigation(let declaration) in declarations {
      if let first = mitigationsByName[declaration.name.text] {
        duplicate("mitigation", declaration.name, first: mitigations[first].nameRange)
        continue
      }
      let id = mitigations.count
      if declaration.reason == nil {
        diagnostics.error(
          .missingStatement, "mitigation '\(declaration.name.text)' has no 'reason'", at: declaration.name.range)
      }
      var isolatedParts: [AddressSet] = []
      for statement in declaration.isolates {
        for endpoint in statement.endpoints {
          if let resolved = unrestrictedEndpoint(endpoint) { isolatedParts.append(resolved.addresses) }
        }
      }
      let isolated = AddressSet.union(of: isolatedParts)
      var revocations: [Revocation] = []
      for statement in declaration.revokes {
        revocations.append(
          Revocation(
            items: expand(statement.items), sources: revokedAddresses(statement.sources),
            destinations: revokedAddresses(statement.destinations), range: statement.range))
      }
      mitigationsByName[declaration.name.text] = id
      mitigations.append(
        Mitigation(
          id: id, name: declaration.name.text, nameRange: declaration.name.range, reason: declaration.reason?.text,
          isolated: isolated, revocations: revocations, rules: [], flows: [], declaration: declaration))
      for rule in declaration.rules {
        guard let pair = conduitPair(forMitigationRule: rule) else { continue }
        if let index = resolveRule(
          rule, owner: .mitigation(id), conduit: pair.conduit, pair: pair.zones, flowSink: .mitigation(id))
        {
          mitigations[id].rules.append(index)
        }
      }
    }
  }

  /// The addresses of a revoke's `from` or `to` endpoints, whatever their zones; nil when the clause is absent.
  private mutating func revokedAddresses(_ endpoints: [Endpoint]) -> AddressSet? {
    guard !endpoints.isEmpty else { return nil }
    return AddressSet.union(of: endpoints.compactMap { unrestrictedEndpoint($0)?.addresses })
  }

  /// The conduit whose zones a mitigation's `allow` crosses; reports `mitigation-outside-conduit` when none.
  private mutating func conduitPair(forMitigationRule rule: AllowRule) -> (conduit: Int, zones: ZonePair)? {
    var sourceZones: [Int] = []
    var destinationZones: [Int] = []
    var failed = false
    for (endpoints, sink) in [(rule.sources, 0), (rule.destinations, 1)] {
      for endpoint in endpoints {
        guard let candidates = candidates(for: endpoint, zones: nil) else {
          failed = true
          continue
        }
        for zone in candidates.placement.byZone.keys.sorted() {
          if sink == 0 {
            if !sourceZones.contains(zone) { sourceZones.append(zone) }
          } else if !destinationZones
            .contains(zone)
          {
            destinationZones.append(zone)
          }
        }
      }
    }
    if failed { return nil }
    for source in sourceZones {
      for destination in destinationZones where source != destination {
        if let conduit = conduitsByZones[[source, destination].sorted()] {
          return (conduit, conduits[conduit].zones!)
        }
      }
    }
    let names = (sourceZones + destinationZones).map { "'\(zones[$0].name)'" }
    diagnostics.error(
      .mitigationOutsideConduit,
      "this allow crosses no conduit: no conduit joins the zones of its endpoints (\(names.joined(separator: ", ")))",
      at: rule.keywordRange)
    return nil
  }

  /// Reports unknown names of a rule whose conduit has no valid zones, so one run still finds them.
  private mutating func resolveUnanchoredNames(_ rule: AllowRule) {
    for endpoint in rule.sources + rule.destinations { _ = unrestrictedEndpoint(endpoint) }
    _ = expand(rule.items)
  }

  enum FlowSink {
    case policy
    case mitigation(Int)
  }

  /// Resolves one rule against the two zones it must cross; adds the rule and its flows; returns the rule index.
  mutating func resolveRule(_ rule: AllowRule, owner: RuleOwner, conduit: Int, pair: ZonePair, flowSink: FlowSink)
    -> Int?
  {
    var resolvedSources: [EndpointCandidates] = []
    var resolvedDestinations: [EndpointCandidates] = []
    resolvedSources.reserveCapacity(rule.sources.count)
    resolvedDestinations.reserveCapacity(rule.destinations.count)
    var complete = true
    for endpoint in rule.sources {
      if let found = candidates(for: endpoint, zones: pair) { resolvedSources.append(found) } else { complete = false }
    }
    for endpoint in rule.destinations {
      if let found = candidates(for: endpoint, zones: pair) {
        resolvedDestinations.append(found)
      } else {
        complete = false
      }
    }
    let items = expand(rule.items)
    if let functions = rule.functions {
      diagnostics.error(
        .functionsUnsupported,
        "'functions' is not yet supported: the backends cannot enforce Modbus function codes, so the rule is refused rather than widened",
        at: functions.range)
    }
    guard complete else { return nil }

    func fits(_ sourceZone: Int, _ destinationZone: Int) -> Bool {
      resolvedSources.allSatisfy { $0.fits(sourceZone) } && resolvedDestinations.allSatisfy { $0.fits(destinationZone) }
    }
    let forward = fits(pair.first, pair.second)
    let backward = fits(pair.second, pair.first)
    guard forward != backward else {
      reportUnfitEndpoints(
        rule, conduit: conduit, pair: pair, sources: resolvedSources, destinations: resolvedDestinations,
        ambiguous: forward)
      return nil
    }
    let (sourceZone, destinationZone) = forward ? (pair.first, pair.second) : (pair.second, pair.first)

    let ruleIndex = rules.count
    let sourceEndpoints = resolvedSources.map { $0.resolved(in: sourceZone) }
    let destinationEndpoints = resolvedDestinations.map { $0.resolved(in: destinationZone) }
    let sourceAddresses = Self.union(of: sourceEndpoints)
    let destinationAddresses = Self.union(of: destinationEndpoints)
    var sink: [Flow] = []
    switch flowSink {
    case .policy: swap(&sink, &flows)
    case .mitigation(let id): swap(&sink, &mitigations[id].flows)
    }
    let firstFlow = sink.count
    for family in AddressFamily.allCases {
      let from = sourceAddresses.restricted(to: family)
      let to = destinationAddresses.restricted(to: family)
      guard !from.isEmpty, !to.isEmpty else { continue }
      for (itemIndex, item) in items.enumerated() where item.match.families.contains(family) {
        sink.append(
          Flow(
            family: family, sources: from, destinations: to, match: item.match, conduit: conduit, rule: ruleIndex,
            item: itemIndex, log: rule.log != nil))
      }
    }
    let flowIndices = firstFlow..<sink.count
    switch flowSink {
    case .policy: swap(&sink, &flows)
    case .mitigation(let id): swap(&sink, &mitigations[id].flows)
    }
    let resolved = Rule(
      owner: owner, conduit: conduit, sourceZone: sourceZone, destinationZone: destinationZone,
      sources: sourceEndpoints, destinations: destinationEndpoints, items: items, log: rule.log != nil,
      flows: flowIndices, declaration: rule)
    rules.append(resolved)
    return ruleIndex
  }

  /// Every address of some endpoints (no copy for one endpoint).
  private static func union(of endpoints: [ResolvedEndpoint]) -> AddressSet {
    endpoints.count == 1 ? endpoints[0].addresses : AddressSet.union(of: endpoints.lazy.map(\.addresses))
  }

  /// Reports why a rule fits its conduit in no direction, or in both (`ambiguous`).
  private mutating func reportUnfitEndpoints(
    _ rule: AllowRule, conduit: Int, pair: ZonePair, sources: [EndpointCandidates],
    destinations: [EndpointCandidates], ambiguous: Bool
  ) {
    let conduitName = conduits[conduit].name
    if ambiguous {
      diagnostics.error(
        .endpointOutsideConduit,
        "the direction of this rule is ambiguous: its sources and its destinations all have assets in both zones of conduit '\(conduitName)'; name the sources or destinations more precisely",
        at: rule.keywordRange)
      return
    }
    func failures(_ orientation: (Int, Int)) -> [(EndpointCandidates, Int, String)] {
      sources.filter { !$0.fits(orientation.0) }.map { ($0, orientation.0, "sources") }
        + destinations.filter { !$0.fits(orientation.1) }.map { ($0, orientation.1, "destinations") }
    }
    let forward = failures((pair.first, pair.second))
    let backward = failures((pair.second, pair.first))
    let best = backward.count < forward.count ? backward : forward
    for (candidate, expectedZone, side) in best {
      diagnostics.error(
        .endpointOutsideConduit,
        "'\(candidate.endpoint.range.text)' lies in \(placement(of: candidate)), but the \(side) of this rule must lie in zone '\(zones[expectedZone].name)' of conduit '\(conduitName)'",
        at: candidate.endpoint.range,
        notes: [
          DiagnosticNote(
            "conduit '\(conduitName)' joins '\(zones[pair.first].name)' and '\(zones[pair.second].name)'",
            at: conduits[conduit].declaration.between?.range)
        ])
    }
  }
}
