import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel
import Testing

/// Proof by packets: every sample policy, compiled for each of its gateways by each backend, is loaded into a gateway
/// namespace. Every rule's flows connect; near misses (wrong port, reverse direction, a neighbour host, another
/// zone, UDP instead of TCP, the other address family, a forged source, the gateway's own ssh) get what the policy's
/// resolved flows say: the oracle is the resolver's flow set, independent of lowering and rendering.
@Suite(.serialized) struct SamplePacketTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var policy: String
    var gateway: String
    var backend: LabBackend
    var mitigations: [String] = []

    var testDescription: String {
      "\(URL(fileURLWithPath: policy).lastPathComponent) \(gateway) \(backend.rawValue)"
        + mitigations.map { " --mitigation \($0)" }.joined()
    }
  }

  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  static func checked(_ policy: String) throws -> CheckedPolicy {
    try Pipeline.check(PolicyRequest(policyPath: policy, today: CalendarDay("2026-11-28")!))
  }

  /// Every sample policy with each of its gateways and each backend. A sample that cannot be read or loaded throws,
  /// failing the tests built on these cases rather than dropping its cases.
  static var cases: [Case] {
    get throws {
      let policies = packageRoot.appendingPathComponent("Policies")
      let files = try FileManager.default.subpathsOfDirectory(atPath: policies.path).filter { $0.hasSuffix(".conduit") }
        .map { policies.appendingPathComponent($0).path }.sorted()
      return try files.flatMap { file in
        let gateways = try checked(file).policy.gateways.map(\.name)
        return gateways.flatMap { gateway in
          LabBackend.allCases.map { Case(policy: file, gateway: gateway, backend: $0) }
        }
      }
    }
  }

  /// Mitigations compiled in: isolation must cut flows and a mitigation's own allow must pass.
  static var mitigationCases: [Case] {
    let samples = [
      ("water-treatment/millbrook.conduit", "gw-core", "chem-lockdown"),
      ("manufacturing-cell/cell3.conduit", "gw-c3", "ews-quarantine"),
    ]
    return samples.flatMap { path, gateway, mitigation in
      LabBackend.allCases.map {
        Case(
          policy: packageRoot.appendingPathComponent("Policies/" + path).path, gateway: gateway, backend: $0,
          mitigations: [mitigation])
      }
    }
  }

  /// A `revoke … from …` written beside a copy of a sample (the samples themselves stay as they are).
  static let revokeFromMitigation = """

    mitigation scada-a-suspect {
      reason "scada-srv-a suspected: its CIP sessions stop, scada-srv-b carries on; S7 to plc-pump-01 from engineering only"
      revoke service enip from scada-srv-a
      revoke service s7comm from role scada to plc-pump-01
    }

    """

  /// Proof by packets of `revoke … from …`, against an oracle of its own rather than the ruleset's elements: a new
  /// connection passes exactly when the policy's flows allow it and no revoke names its source, destination and
  /// item. Besides the sample's usual probes, every host that sends or receives a revoked item in some flow is
  /// probed on it, so both the cut flows and their neighbours (another source, another destination) are tried.
  @Test(.kernelTests, arguments: LabBackend.allCases)
  func aRevokeFromCutsExactlyTheFlowsOfItsSources(_ backend: LabBackend) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-revoke-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let sample = Self.packageRoot.appendingPathComponent("Policies/water-treatment")
    for name in ["millbrook.conduit", "millbrook-assets.csv"] {
      try FileManager.default.copyItem(
        at: sample.appendingPathComponent(name), to: directory.appendingPathComponent(name))
    }
    let path = directory.appendingPathComponent("millbrook.conduit")
    try (String(contentsOf: path, encoding: .utf8) + Self.revokeFromMitigation)
      .write(to: path, atomically: true, encoding: .utf8)
    let checked = try Self.checked(path.path)
    #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
    let policy = checked.policy
    let mitigation = try #require(policy.mitigations.first { $0.name == "scada-a-suspect" })
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      policy, options: LoweringOptions(gateway: "gw-core", mitigations: [mitigation.name]), diagnostics: &diagnostics)
    let gateway = try #require(policy.gateways.first { $0.name == "gw-core" })
    let world = LabWorld(policy: policy, gateway: gateway, ruleset: ruleset)

    func matches(_ match: ServiceMatch, _ probed: (MatchKind, UInt16)) -> Bool {
      let (kind, selectors) = MatchKind.of(match)
      return kind == probed.0 && selectors.contains(probed.1)
    }
    func revoked(_ source: IPAddress, _ destination: IPAddress, _ match: (MatchKind, UInt16)) -> Bool {
      mitigation.revocations.contains { revocation in
        (revocation.sources?.contains(source) ?? true) && (revocation.destinations?.contains(destination) ?? true)
          && revocation.items.contains { matches($0.match, match) }
      }
    }
    func expected(_ source: IPAddress, _ destination: IPAddress, _ match: (MatchKind, UInt16)) -> Bool {
      let allowed = policy.flows.contains { flow in
        world.enforcedConduits.contains(flow.conduit) && flow.sources.contains(source)
          && flow.destinations.contains(destination) && matches(flow.match, match)
      }
      return allowed && !revoked(source, destination, match)
    }

    var probes: [(probe: Probe, expected: Bool, reason: String)] = []
    var seen: Set<Probe> = []
    func add(_ probe: Probe, _ expected: Bool, _ reason: String) {
      if seen.insert(probe).inserted { probes.append((probe, expected, reason)) }
    }
    let hosts = world.hosts.values.flatMap { $0 }.sorted()
    for revocation in mitigation.revocations {
      for item in revocation.items {
        let (kind, selectors) = MatchKind.of(item.match)
        guard let selector = selectors.ranges.first?.lowerBound else { continue }
        let flows = policy.flows.filter {
          world.enforcedConduits.contains($0.conduit) && matches($0.match, (kind, selector))
        }
        for source in hosts where flows.contains(where: { $0.sources.contains(source) }) {
          for destination in hosts where flows.contains(where: { $0.destinations.contains(destination) }) {
            guard let probe = world.probe(source, destination, (kind, selector)) else { continue }
            add(probe, expected(source, destination, (kind, selector)), "revoked item \(item.match)")
          }
        }
      }
    }
    for planned in world.probes() {
      let parts: (from: String, to: String, kind: MatchKind, selector: UInt16)? =
        switch planned.probe {
        case .tcp(let from, let to, let port): (from, to, .tcp, port)
        case .udp(let from, let to, let port): (from, to, .udp, port)
        case .ping(let from, let to): (from, to, from.contains(":") ? .icmpv6 : .icmp, from.contains(":") ? 128 : 8)
        case .proto(let from, let to, let number): (from, to, .proto, UInt16(number))
        case .tcpToGateway, .spoofedUDP: nil
        }
      if let parts, let source = IPAddress(parts.from), let destination = IPAddress(parts.to) {
        add(planned.probe, expected(source, destination, (parts.kind, parts.selector)), planned.reason)
      } else {
        add(planned.probe, planned.allowed, planned.reason)
      }
    }
    let cut = probes.filter { !$0.expected && $0.reason.hasPrefix("revoked") }.count
    let kept = probes.filter { $0.expected && $0.reason.hasPrefix("revoked") }.count
    #expect(cut >= 4 && kept >= 4, "cut \(cut), kept \(kept)")

    let lab = try NetworkLab(interfaces: world.interfaces())
    defer { lab.close() }
    try lab.load(ruleset, through: backend, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    let results = try lab.probe(probes.map(\.probe))
    for (planned, result) in zip(probes, results) {
      #expect(result.reached == planned.expected, "\(planned.reason): \(result.probe) — \(result.detail)")
    }
  }

  @Test func everySampleGatewayIsCovered() throws {
    #expect(try Self.cases.count >= 8)
  }

  @Test(.kernelTests, arguments: try cases + mitigationCases)
  func compiledRulesetForwardsExactlyThePolicysFlows(_ testCase: Case) throws {
    let checked = try Self.checked(testCase.policy)
    #expect(!checked.hasErrors)
    let policy = checked.policy
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      policy, options: LoweringOptions(gateway: testCase.gateway, mitigations: testCase.mitigations),
      diagnostics: &diagnostics)
    let gateway = try #require(policy.gateways.first { $0.name == testCase.gateway })
    let world = LabWorld(policy: policy, gateway: gateway, ruleset: ruleset)
    let probes = world.probes()
    #expect(probes.count >= 20)

    let lab = try NetworkLab(interfaces: world.interfaces())
    defer { lab.close() }
    try lab.load(ruleset, through: testCase.backend, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    let results = try lab.probe(probes.map(\.probe))
    var reachedExpected = 0
    var blockedExpected = 0
    for (planned, result) in zip(probes, results) {
      #expect(result.reached == planned.allowed, "\(planned.reason): \(result.probe) — \(result.detail)")
      if planned.allowed { reachedExpected += 1 } else { blockedExpected += 1 }
    }
    #expect(reachedExpected >= 5 && blockedExpected >= 5)
  }
}

/// A probe with what the policy says about it.
///
/// Without mitigations the oracle is the resolver's flows; with mitigations, whose semantics the lowering tests
/// prove, it is the ruleset's elements.
struct PlannedProbe {
  var probe: Probe
  var allowed: Bool
  var reason: String
}

/// The hosts a lab needs for one gateway of a policy, and the probes that test its ruleset.
struct LabWorld {
  let policy: Policy
  let gateway: Gateway
  let ruleset: Ruleset
  let enforcedConduits: Set<Int>
  /// Interface index by zone.
  let interfaceOfZone: [Int: Int]
  /// Host addresses by interface index.
  private(set) var hosts: [Int: [IPAddress]] = [:]

  init(policy: Policy, gateway: Gateway, ruleset: Ruleset) {
    self.policy = policy
    self.gateway = gateway
    self.ruleset = ruleset
    enforcedConduits = Set(ruleset.chains.map(\.conduitID))
    var interfaceOfZone: [Int: Int] = [:]
    for (index, interface) in gateway.interfaces.enumerated() {
      for zone in interface.zones where interfaceOfZone[zone] == nil { interfaceOfZone[zone] = index }
    }
    self.interfaceOfZone = interfaceOfZone
    for asset in policy.assets {
      for (address, zone) in zip(asset.addresses, asset.addressZones) {
        guard let zone, let interface = interfaceOfZone[zone] else { continue }
        if !(hosts[interface]?.contains(address) ?? false) { hosts[interface, default: []].append(address) }
      }
    }
  }

  func interfaces() -> [LabInterface] {
    gateway.interfaces.enumerated().compactMap { index, interface in
      guard !interface.zones.isEmpty else { return nil }
      let prefixes = interface.zones.flatMap { zone -> [String] in
        let zone = policy.zones[zone]
        return zone.isOutside ? ["0.0.0.0/0", "::/0"] : zone.networks.map(\.prefix.description)
      }
      return LabInterface(interface.name, hosts: (hosts[index] ?? []).map(\.description), prefixes: prefixes)
    }
  }

  func interfaceOf(_ address: IPAddress) -> Int? {
    policy.zone(of: address).flatMap { interfaceOfZone[$0] }
  }

  func isHost(_ address: IPAddress) -> Bool {
    interfaceOf(address).map { hosts[$0]?.contains(address) ?? false } ?? false
  }

  /// A lab host of the set, preferring the lowest.
  func host(in set: AddressSet) -> IPAddress? {
    hosts.values.flatMap { $0 }.filter { set.contains($0) }.min()
  }

  /// The flows probes are planned from: the conduits' and those of the active mitigations' allows.
  var plannedFlows: [Flow] {
    policy.flows + policy.mitigations.filter { ruleset.mitigations.contains($0.name) }.flatMap(\.flows)
  }

  /// Whether a new connection is allowed (the oracle).
  func allows(_ source: IPAddress, _ destination: IPAddress, _ match: (MatchKind, UInt16)) -> Bool {
    guard ruleset.mitigations.isEmpty else {
      return ruleset.elements.contains { element in
        element.kind == match.0 && element.selectors.contains(match.1)
          && element.sources.first <= source && source <= element.sources.last
          && element.destinations.first <= destination && destination <= element.destinations.last
      }
    }
    return policy.flows.contains { flow in
      guard enforcedConduits.contains(flow.conduit), flow.sources.contains(source),
        flow.destinations.contains(destination)
      else { return false }
      let (kind, selectors) = MatchKind.of(flow.match)
      return kind == match.0 && selectors.contains(match.1)
    }
  }

  func probe(_ source: IPAddress, _ destination: IPAddress, _ match: (MatchKind, UInt16)) -> Probe? {
    guard isHost(source), isHost(destination), source.family == destination.family,
      let from = interfaceOf(source), let to = interfaceOf(destination), from != to
    else { return nil }
    switch match.0 {
    case .tcp: return .tcp(from: "\(source)", to: "\(destination)", port: match.1)
    case .udp: return .udp(from: "\(source)", to: "\(destination)", port: match.1)
    case .icmp: return match.1 == 8 ? .ping(from: "\(source)", to: "\(destination)") : nil
    case .icmpv6: return match.1 == 128 ? .ping(from: "\(source)", to: "\(destination)") : nil
    case .proto: return .proto(from: "\(source)", to: "\(destination)", protocolNumber: UInt8(match.1))
    }
  }

  func probes() -> [PlannedProbe] {
    var planned: [PlannedProbe] = []
    var seen: Set<Probe> = []
    func add(_ source: IPAddress, _ destination: IPAddress, _ match: (MatchKind, UInt16), _ reason: String) {
      guard let probe = probe(source, destination, match), seen.insert(probe).inserted else { return }
      planned.append(PlannedProbe(probe: probe, allowed: allows(source, destination, match), reason: reason))
    }
    for flow in plannedFlows where enforcedConduits.contains(flow.conduit) {
      let (kind, selectors) = MatchKind.of(flow.match)
      guard let source = host(in: flow.sources), let destination = host(in: flow.destinations),
        let selector = selectors.ranges.first?.lowerBound
      else { continue }
      let rule = policy.rules[flow.rule].declaration.range
      let origin = "\(rule.file.path.split(separator: "/").last!):\(rule.startLocation.line)"
      add(source, destination, (kind, selector), "allowed by \(origin)")
      if kind.hasPorts {
        if selector < UInt16.max { add(source, destination, (kind, selector + 1), "wrong port near \(origin)") }
        add(source, destination, (kind == .tcp ? .udp : .tcp, selector), "other protocol near \(origin)")
      }
      add(destination, source, (kind, selector), "reverse of \(origin)")
      let destinationZone = policy.zone(of: destination)
      if let neighbour = hosts.values.flatMap({ $0 }).filter({
        policy.zone(of: $0) == destinationZone && !flow.destinations.contains($0) && $0.family == destination.family
      }).min() {
        add(source, neighbour, (kind, selector), "neighbour host near \(origin)")
      }
      if let elsewhere = hosts.values.flatMap({ $0 }).filter({
        policy.zone(of: $0) != destinationZone && interfaceOf($0) != interfaceOf(source) && $0.family == source.family
      }).min() {
        add(source, elsewhere, (kind, selector), "another zone near \(origin)")
      }
      if let sourceAsset = assetOwning(source), let destinationAsset = assetOwning(destination) {
        let otherFamily: AddressFamily = source.family == .ipv4 ? .ipv6 : .ipv4
        if let otherSource = sourceAsset.addresses.first(where: { $0.family == otherFamily }),
          let otherDestination = destinationAsset.addresses.first(where: { $0.family == otherFamily }),
          kind.hasPorts
        {
          add(otherSource, otherDestination, (kind, selector), "other family near \(origin)")
        }
      }
    }
    planned += spoofedProbes()
    planned += managementProbes()
    return planned
  }

  private func assetOwning(_ address: IPAddress) -> Asset? {
    policy.assets.first { $0.addresses.contains(address) }
  }

  /// A UDP flow's source forged from the side of an interface that does not lead to it: anti-spoofing drops it.
  private func spoofedProbes() -> [PlannedProbe] {
    for flow in policy.flows where enforcedConduits.contains(flow.conduit) {
      guard case .ports(.udp, let ports) = flow.match, let source = host(in: flow.sources),
        let destination = host(in: flow.destinations), let port = ports.ranges.first?.lowerBound,
        let sourceInterface = interfaceOf(source), let destinationInterface = interfaceOf(destination)
      else { continue }
      let others = gateway.interfaces.indices.filter {
        $0 != sourceInterface && $0 != destinationInterface && !gateway.interfaces[$0].zones.isEmpty
      }
      let side = others.first ?? destinationInterface
      guard side != destinationInterface else { continue }
      return [
        PlannedProbe(
          probe: .spoofedUDP(
            fromInterfaceSide: gateway.interfaces[side].name, forgedSource: "\(source)", to: "\(destination)",
            port: port),
          allowed: false, reason: "forged source from the wrong interface")
      ]
    }
    return []
  }

  /// The gateway's own ssh: allowed from management sources an active mitigation does not isolate, dropped from the
  /// rest.
  private func managementProbes() -> [PlannedProbe] {
    guard !gateway.management.isEmpty else { return [] }
    let isolated = policy.mitigations.filter { ruleset.mitigations.contains($0.name) }
      .reduce(AddressSet()) { $0.union($1.isolated) }
    let sources = gateway.management.filter { line in
      line.items.contains { if case .ports(.tcp, let ports) = $0.match { ports.contains(22) } else { false } }
    }.reduce(AddressSet()) { $0.union($1.sources.reduce(AddressSet()) { $0.union($1.addresses) }) }
      .subtracting(isolated)
    let all = hosts.values.flatMap { $0 }.sorted()
    var result: [PlannedProbe] = []
    if let allowed = all.first(where: { sources.contains($0) }) {
      result.append(
        PlannedProbe(probe: .tcpToGateway(from: "\(allowed)", port: 22), allowed: true, reason: "management"))
    }
    if let denied = all.first(where: { !sources.contains($0) && $0.family == .ipv4 }) {
      result.append(
        PlannedProbe(probe: .tcpToGateway(from: "\(denied)", port: 22), allowed: false, reason: "not a management host")
      )
    }
    return result
  }
}
