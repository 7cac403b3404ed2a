import PolicyLanguage
import PolicyModel

/// A checker finding drawn on the diagram, attached to the zone, conduit or gateway it concerns.
public struct DiagramFinding: Hashable, Sendable {
  /// The check that reported it.
  public var id: CheckID
  /// Its severity.
  public var severity: Severity
  /// A short text for the picture; `conduit check` prints the full message.
  public var summary: String
  /// Whether an `accept-risk` statement acknowledges it.
  public var isAccepted: Bool

  /// Creates a finding.
  public init(id: CheckID, severity: Severity, summary: String, isAccepted: Bool) {
    self.id = id
    self.severity = severity
    self.summary = summary
    self.isAccepted = isAccepted
  }
}

/// How serious the worst finding of a zone, conduit or gateway is.
public enum DiagramStatus: Int, Hashable, Sendable, Comparable {
  /// No finding, or only accepted risks.
  case clean
  /// At least one unacknowledged warning.
  case warning
  /// At least one error.
  case error

  /// The status of a set of findings: accepted risks do not count.
  public init(_ findings: [DiagramFinding]) {
    let active = findings.filter { !$0.isAccepted }
    self =
      active.contains { $0.severity == .error }
      ? .error : active.contains { $0.severity == .warning } ? .warning : .clean
  }

  public static func < (lhs: DiagramStatus, rhs: DiagramStatus) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A zone as drawn: a box in the row of its Purdue level.
public struct DiagramZone: Hashable, Sendable {
  /// Index in `ZoneDiagram.zones` (the zone's index in the policy).
  public var id: Int
  public var name: String
  /// The Purdue level; nil places the zone in the row of unlevelled zones.
  public var level: PurdueLevel?
  /// The target security level.
  public var securityLevel: Int?
  /// The declared networks as written (empty for the outside zone).
  public var networks: [String]
  /// Whether this is the `network outside` zone.
  public var isOutside: Bool
  /// How many assets lie in the zone (for the outside zone: the assets it lists).
  public var assetCount: Int
  /// Labels, sorted.
  public var tags: [String]
  /// The zone's `description`, when given.
  public var description: String?
  /// Findings about the zone and its assets.
  public var findings: [DiagramFinding]

  /// The worst unacknowledged finding.
  public var status: DiagramStatus { DiagramStatus(findings) }
}

/// The connections one zone of a conduit initiates into the other, and on what.
public struct DiagramDirection: Hashable, Sendable {
  /// The initiating zone.
  public var from: Int
  /// The zone connected to.
  public var to: Int
  /// The services and port literals of the rules, as written, each once, in the order of the policy.
  public var services: [String]

  /// Creates a direction.
  public init(from: Int, to: Int, services: [String]) {
    self.from = from
    self.to = to
    self.services = services
  }
}

/// A conduit as drawn: a labelled connector between its two zones.
public struct DiagramConduit: Hashable, Sendable {
  /// Index in the policy's conduits.
  public var id: Int
  public var name: String
  /// The two zones, in the order of `between`.
  public var zones: ZonePair
  /// The conduit's SL-T.
  public var securityLevel: Int?
  /// The gateways that enforce it (its two zones lie behind two different interfaces).
  public var gateways: [String]
  /// Whether the policy declares any gateway at all.
  public var siteHasGateways: Bool
  /// The last day the conduit allows its flows.
  public var expires: CalendarDay?
  /// The conduit's `owner`, when given.
  public var owner: String?
  /// The conduit's `justification`, when given.
  public var justification: String?
  /// Who initiates into whom, one entry per direction that has rules.
  public var directions: [DiagramDirection]
  /// Findings about the conduit and its rules.
  public var findings: [DiagramFinding]

  /// Whether the checker found that no gateway enforces the conduit (`unenforced-conduit` or `hairpin-conduit`).
  public var isUnenforced: Bool {
    findings.contains { !$0.isAccepted && ($0.id == .unenforcedConduit || $0.id == .hairpinConduit) }
  }

  /// Whether a rule lets a zone initiate into a zone of much higher SL-T (`sl-step-up`, not acknowledged).
  public var hasStepUp: Bool { findings.contains { !$0.isAccepted && $0.id == .slStepUp } }

  /// The worst unacknowledged finding.
  public var status: DiagramStatus { DiagramStatus(findings) }
}

/// One interface of a gateway and the zones behind it.
public struct DiagramInterface: Hashable, Sendable {
  public var name: String
  /// Zone indices.
  public var zones: [Int]
}

/// A gateway as listed beside the diagram.
public struct DiagramGateway: Hashable, Sendable {
  public var name: String
  public var interfaces: [DiagramInterface]
  /// Findings about the gateway.
  public var findings: [DiagramFinding]

  /// The worst unacknowledged finding.
  public var status: DiagramStatus { DiagramStatus(findings) }
}

/// The zone and conduit diagram of a site: zones ranked by Purdue level, conduits between them with their
/// services and gateways, and the checker's findings on the elements they concern. Renderers (DOT) only draw it.
public struct ZoneDiagram: Hashable, Sendable {
  /// The site name, or the policy file's name without extension.
  public var title: String
  /// The main policy file's name.
  public var fileName: String
  /// The checker's summary line ("no problems found", "1 error, 2 warnings").
  public var checkSummary: String
  /// The rows from top to bottom: the levels in use, highest first, then nil for unlevelled zones if any.
  public var levels: [PurdueLevel?]
  /// Every zone, in the order of the policy.
  public var zones: [DiagramZone]
  /// Every conduit whose two zones are known, in the order of the policy.
  public var conduits: [DiagramConduit]
  /// Every gateway, in the order of the policy.
  public var gateways: [DiagramGateway]

  /// Builds the diagram of a checked policy; `diagnostics` are the checker's findings (`CheckedPolicy.diagnostics`),
  /// attached to the zone, conduit or gateway whose declaration (or asset) they point into.
  public init(_ policy: Policy, diagnostics: [Diagnostic]) {
    let mainFile = policy.files.first?.file.path ?? ""
    fileName = String(mainFile.split(separator: "/").last ?? "")
    let stem = fileName.hasSuffix(".conduit") ? String(fileName.dropLast(".conduit".count)) : fileName
    title = policy.siteName ?? stem
    checkSummary = String(TextDiagnosticRenderer().summary(diagnostics).dropLast())

    let placed = FindingPlacement(policy, diagnostics)
    var assetCounts = Array(repeating: 0, count: policy.zones.count)
    for asset in policy.assets {
      for zone in asset.zones where zone < assetCounts.count && !policy.zones[zone].isOutside { assetCounts[zone] += 1 }
    }
    zones = policy.zones.map { zone in
      DiagramZone(
        id: zone.id, name: zone.name, level: zone.level, securityLevel: zone.securityLevel,
        networks: zone.networks.map { $0.prefix.description }, isOutside: zone.isOutside,
        assetCount: zone.isOutside ? zone.listedAssets.count : assetCounts[zone.id], tags: zone.tags.sorted(),
        description: zone.declaration.description?.text, findings: placed.zones[zone.id, default: []])
    }
    let used = Set(policy.zones.compactMap(\.level)).sorted(by: >)
    levels = used.map { Optional($0) } + (policy.zones.contains { $0.level == nil } ? [nil] : [])

    conduits = policy.conduits.compactMap { conduit in
      guard let pair = conduit.zones else { return nil }
      var directions: [DiagramDirection] = []
      var seen: [Set<String>] = []
      for index in conduit.rules {
        let rule = policy.rules[index]
        var direction = directions.firstIndex { $0.from == rule.sourceZone && $0.to == rule.destinationZone }
        if direction == nil {
          directions.append(DiagramDirection(from: rule.sourceZone, to: rule.destinationZone, services: []))
          seen.append([])
          direction = directions.count - 1
        }
        for service in rule.declaration.items.map(\.writtenText) where seen[direction!].insert(service).inserted {
          directions[direction!].services.append(service)
        }
      }
      directions.sort { ($0.from == pair.first ? 0 : 1) < ($1.from == pair.first ? 0 : 1) }
      return DiagramConduit(
        id: conduit.id, name: conduit.name, zones: pair, securityLevel: conduit.securityLevel,
        gateways: policy.gateways.filter { $0.enforces(pair) }.map(\.name), siteHasGateways: !policy.gateways.isEmpty,
        expires: conduit.expires, owner: conduit.owner, justification: conduit.justification, directions: directions,
        findings: placed.conduits[conduit.id, default: []])
    }
    gateways = policy.gateways.map { gateway in
      DiagramGateway(
        name: gateway.name, interfaces: gateway.interfaces.map { DiagramInterface(name: $0.name, zones: $0.zones) },
        findings: placed.gateways[gateway.id, default: []])
    }
  }
}

extension ServiceItem {
  fileprivate var writtenText: String {
    switch self {
    case .service(let name): name.text
    case .port(let literal): literal.text
    }
  }
}

/// Attaches each diagnostic to the conduits, zones and gateways it concerns, by the places it points at.
private struct FindingPlacement {
  var zones: [Int: [DiagramFinding]] = [:]
  var conduits: [Int: [DiagramFinding]] = [:]
  var gateways: [Int: [DiagramFinding]] = [:]

  init(_ policy: Policy, _ diagnostics: [Diagnostic]) {
    let conduitIndex = RangeIndex(policy.conduits.map { ($0.range, $0.id) })
    let ruleIndex = RangeIndex(policy.rules.indices.map { (policy.rules[$0].range, $0) })
    let gatewayIndex = RangeIndex(policy.gateways.map { ($0.range, $0.id) })
    let zoneIndex = RangeIndex(
      policy.zones.map { ($0.range, [$0.id]) }
        + policy.assets.flatMap { asset in
          [asset.origin.range, asset.origin.baselineRange].compactMap { $0 }.map { ($0, asset.zones) }
        })
    for diagnostic in diagnostics {
      guard let range = diagnostic.range else { continue }
      let finding = DiagramFinding(
        id: diagnostic.id, severity: diagnostic.severity, summary: diagnostic.id.rawValue,
        isAccepted: diagnostic.acceptedRisk != nil)
      var concerned = Set(conduitIndex.values(containing: range))
      for note in diagnostic.notes.compactMap(\.range) {
        concerned.formUnion(
          conduitIndex.values(containing: note).filter { policy.conduits[$0].nameRange.contains(note) })
      }
      for conduit in concerned.sorted() {
        let rule = ruleIndex.values(containing: range).first.map { policy.rules[$0] }
        var described = finding
        described.summary = Self.summary(diagnostic, policy.conduits[conduit], rule, gatewayIndex, policy)
        conduits[conduit, default: []].append(described)
      }
      for zone in Set(zoneIndex.values(containing: range).joined()).sorted() {
        zones[zone, default: []].append(finding)
      }
      for gateway in gatewayIndex.values(containing: range) {
        gateways[gateway, default: []].append(finding)
      }
    }
  }

  /// A short text for a conduit finding; the checks the picture is about get a sentence, others their id.
  static func summary(
    _ diagnostic: Diagnostic, _ conduit: Conduit, _ rule: Rule?, _ gateways: RangeIndex<Int>, _ policy: Policy
  ) -> String {
    let pair = conduit.zones
    func zoneName(_ id: Int) -> String { policy.zones[id].name }
    switch diagnostic.id {
    case .unenforcedConduit:
      return "not enforced: no gateway has both zones behind its interfaces"
    case .hairpinConduit:
      let gateway = diagnostic.range.flatMap { gateways.values(containing: $0).first }.map { policy.gateways[$0].name }
      return "not enforced: both zones behind one interface of \(gateway ?? "a gateway")"
    case .slStepUp:
      guard let rule, let from = policy.zones[rule.sourceZone].securityLevel,
        let to = policy.zones[rule.destinationZone].securityLevel
      else { return "SL step-up" }
      let source = "\(zoneName(rule.sourceZone)) (SL-T \(from))"
      return "SL step-up: \(source) initiates into \(zoneName(rule.destinationZone)) (SL-T \(to))"
    case .purdueSkip:
      guard let pair, let a = policy.zones[pair.first].level, let b = policy.zones[pair.second].level else {
        return "Purdue skip"
      }
      return "Purdue skip: level \(max(a, b)) to level \(min(a, b))"
    case .conduitSLBelowZone:
      let highest = pair.flatMap { [$0.first, $0.second].compactMap { policy.zones[$0].securityLevel }.max() }
      let own = conduit.securityLevel.map(String.init) ?? "?"
      return "conduit SL-T \(own) below zone SL-T \(highest.map(String.init) ?? "?")"
    case .expiredConduit:
      return "expired on \(conduit.expires.map { "\($0)" } ?? "?")"
    case .expiringConduit:
      return "expires soon (\(conduit.expires.map { "\($0)" } ?? "?"))"
    default:
      return diagnostic.id.rawValue
    }
  }
}

/// Declarations that do not overlap one another (zones, assets, conduits, rules, gateways), found by a place
/// inside them by binary search.
private struct RangeIndex<Value> {
  private var entries: [(file: Int, start: Int, end: Int, value: Value)]

  init(_ items: [(SourceRange, Value)]) {
    entries = items.map { (file: $0.0.file.id, start: $0.0.start, end: $0.0.end, value: $0.1) }
      .sorted { ($0.file, $0.start) < ($1.file, $1.start) }
  }

  /// The values of the declarations holding `range`.
  func values(containing range: SourceRange) -> [Value] {
    let file = range.file.id
    var low = 0
    var high = entries.count
    while low < high {
      let middle = (low + high) / 2
      if (entries[middle].file, entries[middle].start) <= (file, range.start) {
        low = middle + 1
      } else {
        high = middle
      }
    }
    var found: [Value] = []
    var index = low - 1
    while index >= 0, entries[index].file == file, entries[index].start == entries[low - 1].start {
      if range.end <= entries[index].end { found.append(entries[index].value) }
      index -= 1
    }
    return found
  }
}
