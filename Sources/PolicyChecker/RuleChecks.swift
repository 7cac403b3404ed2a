import FlowSpace
import PolicyLanguage
import PolicyModel

/// Rules: empty-rule, family-mismatch, sl-step-up, broad-source, all-ports, unknown-device,
/// general-purpose-service.
enum RuleChecks {
  /// General-purpose IT services that have no place in a zone of SL-T 3 or 4.
  static let generalPurposeServices: [(name: String, ports: PortSet)] = [
    ("telnet", PortSet(23...23)), ("ftp", PortSet(20...21)), ("smtp", PortSet([25...25, 465...465, 587...587])),
    ("pop3", PortSet([110...110, 995...995])), ("imap", PortSet([143...143, 993...993])),
    ("smb", PortSet([139...139, 445...445])), ("rdp", PortSet(3389...3389)), ("vnc", PortSet(5900...5900)),
    ("http", PortSet(80...80)),
  ]

  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    let knownAddresses = policy.assets.flatMap(\.addresses).sorted()
    policy.rules.withUnsafeBufferPointer { rules in
      for index in rules.indices { check(rules[index], policy, knownAddresses, &diagnostics) }
    }
    for gateway in policy.gateways {
      for line in gateway.management {
        for endpoint in line.sources { unknownDevice(endpoint.endpoint, knownAddresses, &diagnostics) }
      }
    }
  }

  /// The checks of one rule of a conduit (the destination zone is read only when a finding names it).
  private static func check(
    _ rule: Rule, _ policy: Policy, _ knownAddresses: [IPAddress], _ diagnostics: inout DiagnosticEngine
  ) {
    guard case .conduit = rule.owner else { return }
    let destinationLevel = policy.zones[rule.destinationZone].securityLevel
    let strict = (destinationLevel ?? 0) >= 3
    flowsAndFamilies(rule, policy, &diagnostics)
    if let source = policy.zones[rule.sourceZone].securityLevel, let destination = destinationLevel,
      destination - source >= 2
    {
      diagnostics.warning(
        .slStepUp,
        "zone '\(policy.zones[rule.sourceZone].name)' (SL-T \(source)) initiates into zone '\(policy.zones[rule.destinationZone].name)' (SL-T \(destination)), two or more levels higher",
        at: rule.declaration.keywordRange)
    }
    let destination = ZoneReference(zones: policy.zones, index: rule.destinationZone)
    for endpoint in rule.sources { broadSource(endpoint, strict: strict, destination: destination, &diagnostics) }
    for item in rule.items {
      allPorts(item, strict: strict, destination: destination, &diagnostics)
      if strict { generalPurpose(item, destination: destination, &diagnostics) }
    }
    for endpoint in rule.sources { unknownDevice(endpoint.endpoint, knownAddresses, &diagnostics) }
    for endpoint in rule.destinations { unknownDevice(endpoint.endpoint, knownAddresses, &diagnostics) }
  }

  private static func flowsAndFamilies(_ rule: Rule, _ policy: Policy, _ diagnostics: inout DiagnosticEngine) {
    guard !rule.flows.isEmpty else {
      if !hasReportedPart(rule) {
        diagnostics.error(
          .emptyRule,
          "this rule allows nothing: no source and destination share an address family that its items apply to",
          at: rule.declaration.range)
      }
      return
    }
    let sourceFamilies = rule.sources.reduce(FamilyMask()) { $0.union(FamilyMask($1.addresses)) }
    let destinationFamilies = rule.destinations.reduce(FamilyMask()) { $0.union(FamilyMask($1.addresses)) }
    familyMismatches(rule.sources, otherSide: "destination", otherFamilies: destinationFamilies, &diagnostics)
    familyMismatches(rule.destinations, otherSide: "source", otherFamilies: sourceFamilies, &diagnostics)
  }

  /// Whether part of the rule did not resolve (an unknown service or name, a broken literal) or names no address
  /// (a glob or role that matches nothing): those are reported where they are written, and the rule's emptiness
  /// follows from them, so it is not reported again.
  static func hasReportedPart(_ rule: Rule) -> Bool {
    let resolvedItems = Set(rule.items.map(\.range))
    if rule.declaration.items.contains(where: { !resolvedItems.contains($0.range) }) { return true }
    let sources = Set(rule.sources.map(\.endpoint))
    let destinations = Set(rule.destinations.map(\.endpoint))
    if rule.declaration.sources.contains(where: { !sources.contains($0) }) { return true }
    if rule.declaration.destinations.contains(where: { !destinations.contains($0) }) { return true }
    return (rule.sources + rule.destinations).contains { $0.addresses.isEmpty }
  }

  private static func familyMismatches(
    _ endpoints: [ResolvedEndpoint], otherSide side: String, otherFamilies: FamilyMask,
    _ diagnostics: inout DiagnosticEngine
  ) {
    for endpoint in endpoints where FamilyMask(endpoint.addresses).isDisjoint(with: otherFamilies) {
      let own = endpoint.addresses.families.map { $0 == .ipv4 ? "IPv4" : "IPv6" }.sorted().joined(separator: "/")
      diagnostics.warning(
        .familyMismatch,
        "'\(endpoint.endpoint.range.text)' has only \(own) addresses and no \(side) of this rule has one: it contributes no flow",
        at: endpoint.endpoint.range)
    }
  }

  /// A zone of the policy, copied out only when a finding names it.
  struct ZoneReference {
    let zones: [Zone]
    let index: Int

    var zone: Zone { zones[index] }
  }

  /// The address families of a set, as two bits (checked once per endpoint of 100,000 rules: no `Set` allocation).
  struct FamilyMask: Equatable {
    var bits: UInt8 = 0

    init() {}

    init(_ addresses: AddressSet) {
      bits = (addresses.v4.isEmpty ? 0 : 1) | (addresses.v6.isEmpty ? 0 : 2)
    }

    func union(_ other: FamilyMask) -> FamilyMask {
      var result = self
      result.bits |= other.bits
      return result
    }

    func isDisjoint(with other: FamilyMask) -> Bool { bits & other.bits == 0 }
  }

  private static func broadSource(
    _ endpoint: ResolvedEndpoint, strict: Bool, destination: ZoneReference, _ diagnostics: inout DiagnosticEngine
  ) {
    let reason: String
    switch endpoint.endpoint.kind {
    case .zone(let name):
      reason = "a whole zone ('\(name.text)')"
    case .address(let literal):
      guard let prefix = IPPrefix(literal.text), prefix.length < (prefix.family == .ipv4 ? 24 : 64) else { return }
      reason = "the prefix \(prefix), wider than /\(prefix.family == .ipv4 ? 24 : 64),"
    default:
      return
    }
    let message = "\(reason) as a source lets any device there initiate"
    let destination = destination.zone
    if strict {
      diagnostics.error(
        .broadSource,
        message + " into zone '\(destination.name)' of SL-T \(destination.securityLevel!): name the assets",
        at: endpoint.endpoint.range)
    } else {
      diagnostics.warning(.broadSource, message + ": name the assets", at: endpoint.endpoint.range)
    }
  }

  private static func allPorts(
    _ item: ResolvedItem, strict: Bool, destination: ZoneReference, _ diagnostics: inout DiagnosticEngine
  ) {
    guard case .ports(let transport, let ports) = item.match else { return }
    let count = ports.ranges.reduce(0) { $0 + Int($1.upperBound) - Int($1.lowerBound) + 1 }
    guard count > 1024 else { return }
    let what =
      ports.isFull
      ? "'\(transport.rawValue)' without a port allows every port" : "'\(item.match)' allows \(count) ports"
    let destination = destination.zone
    var notes: [DiagnosticNote] = []
    if item.literalRange != item.range {
      notes.append(DiagnosticNote("defined here", at: item.literalRange))
    }
    if strict {
      diagnostics.error(
        .allPorts, "\(what) into zone '\(destination.name)' of SL-T \(destination.securityLevel!)", at: item.range,
        notes: notes)
    } else {
      diagnostics.warning(.allPorts, "\(what): name the ports the process needs", at: item.range, notes: notes)
    }
  }

  private static func generalPurpose(
    _ item: ResolvedItem, destination: ZoneReference, _ diagnostics: inout DiagnosticEngine
  ) {
    guard case .ports(.tcp, let ports) = item.match, !ports.isFull else { return }
    for service in generalPurposeServices where !ports.isDisjoint(with: service.ports) {
      let destination = destination.zone
      diagnostics.warning(
        .generalPurposeService,
        "\(service.name) is a general-purpose IT service: allowing it into zone '\(destination.name)' of SL-T \(destination.securityLevel!) widens the attack surface",
        at: item.range)
    }
  }

  private static func unknownDevice(_ endpoint: Endpoint, _ known: [IPAddress], _ diagnostics: inout DiagnosticEngine) {
    guard case .address(let literal) = endpoint.kind, let prefix = IPPrefix(literal.text) else { return }
    var low = 0
    var high = known.count
    while low < high {
      let mid = (low + high) / 2
      if known[mid] < prefix.first { low = mid + 1 } else { high = mid }
    }
    if low < known.count, known[low] <= prefix.last { return }
    let what = prefix.isHost ? "address \(prefix.addressDescription)" : "prefix \(prefix)"
    diagnostics.warning(
      .unknownDevice, "\(what) holds no asset of the baseline or the policy: an unknown device", at: endpoint.range)
  }
}
