import Advisories
import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// A zone as an impact report names it.
public struct ImpactZone: Hashable, Sendable {
  public var name: String
  /// Its target security level (SL-T), when declared.
  public var securityLevel: Int?
  /// Whether it is the `network outside` zone.
  public var isOutside: Bool
}

/// One flow that reaches an asset: from `sources` to the asset's address `destination`, on `selectors` of `kind`,
/// allowed by `rules`.
public struct ExposureFlow: Hashable, Sendable {
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var destination: AddressRange
  public var selectors: ClosedRange<UInt16>
  public var rules: [RuleOrigin]
}

/// The flows that reach an asset from one source zone.
public struct SourceZoneExposure: Hashable, Sendable {
  public var zone: ImpactZone
  /// Whether the zone's SL-T is below that of the asset's zone the flows reach (a zone without SL-T counts as 0).
  public var isLowerSecurityLevel: Bool
  public var flows: [ExposureFlow]

  /// Lower-SL and `outside` sources are flagged.
  public var isFlagged: Bool { zone.isOutside || isLowerSecurityLevel }
}

/// How exposed an asset is, by the worst source that reaches it.
public enum ExposureLevel: Int, Hashable, Sendable, Comparable, CustomStringConvertible {
  /// Nothing reaches it through a gateway.
  case none = 0
  /// Only zones of the same or a higher SL-T reach it.
  case sameOrHigherSecurityLevel
  /// A zone of a lower SL-T reaches it.
  case lowerSecurityLevel
  /// The `outside` zone reaches it.
  case outside

  public static func < (lhs: ExposureLevel, rhs: ExposureLevel) -> Bool { lhs.rawValue < rhs.rawValue }

  public var description: String {
    switch self {
    case .none: "not exposed"
    case .sameOrHigherSecurityLevel: "exposed to zones of the same or a higher SL-T"
    case .lowerSecurityLevel: "exposed to a lower-SL zone"
    case .outside: "exposed to outside"
    }
  }
}

/// Whether the policy exposes a port an advisory names on an asset, and from which zones.
public struct PortExposure: Hashable, Sendable {
  public var port: NamedPort
  /// The source zones whose flows reach the asset on that port, in order.
  public var zones: [String]

  public var isExposed: Bool { !zones.isEmpty }
}

/// One asset an advisory hits, and how exposed it is.
public struct ImpactFinding: Sendable {
  /// The asset's id in the policy.
  public var assetID: Int
  public var asset: String
  public var criticality: Criticality?
  /// The zones its addresses lie in.
  public var zones: [ImpactZone]
  /// The advisory's tracking id, title and file.
  public var advisory: String
  public var advisoryTitle: String
  public var advisoryFile: String
  /// The advisory's product that matched, and how.
  public var productID: String
  public var product: String
  public var evidence: AdvisoryMatch.Evidence
  public var reason: String
  public var vulnerabilities: [Advisory.ProductVulnerability]
  /// The advisory's remediation categories for the product.
  public var remediations: [String]
  /// Every flow that reaches the asset, by source zone (flagged zones first, then by name).
  public var exposure: [SourceZoneExposure]
  /// The ports the advisory names, and whether the policy exposes them on this asset.
  public var ports: [PortExposure]

  /// The highest CVSS v3 base score of its vulnerabilities.
  public var highestScore: Double? { vulnerabilities.compactMap(\.baseScore).max() }

  /// The worst source that reaches it.
  public var level: ExposureLevel {
    if exposure.contains(where: \.zone.isOutside) { return .outside }
    if exposure.contains(where: \.isLowerSecurityLevel) { return .lowerSecurityLevel }
    return exposure.isEmpty ? .none : .sameOrHigherSecurityLevel
  }

  /// Whether any flow reaches it.
  public var isExposed: Bool { !exposure.isEmpty }
}

/// One matched asset with every advisory that hits it and its exposure, as the report shows it: an asset hit by
/// several advisories is listed once.
public struct AssetImpact: Sendable {
  /// Its findings, one per advisory, most severe first (highest score, then advisory id).
  public var findings: [ImpactFinding]

  /// The asset's part of its findings (the same in each).
  public var first: ImpactFinding { findings[0] }
  public var highestScore: Double? { findings.compactMap(\.highestScore).max() }

  /// The matched assets of `findings`, ranked by criticality, then exposure, then the highest score (then name).
  public static func grouping(_ findings: [ImpactFinding]) -> [AssetImpact] {
    var order: [Int] = []
    var byAsset: [Int: [ImpactFinding]] = [:]
    for finding in findings {
      if byAsset[finding.assetID] == nil { order.append(finding.assetID) }
      byAsset[finding.assetID, default: []].append(finding)
    }
    let assets = order.map { asset in
      AssetImpact(
        findings: byAsset[asset]!.sorted {
          ($0.highestScore ?? -1, $1.advisory, $1.productID) > ($1.highestScore ?? -1, $0.advisory, $0.productID)
        })
    }
    let keys = assets.map { asset in
      var key = Impact.RankKey(asset.first)
      key.score = asset.highestScore ?? -1
      key.names = [asset.first.asset]
      return key
    }
    return keys.indices.sorted { keys[$0] < keys[$1] }.map { assets[$0] }
  }
}

/// `conduit impact --advisory`: which assets advisories hit (ADVISORIES.md, matching), and the exposure of each
/// through the policy's flows, ranked by criticality, then exposure, then score.
public enum Impact {
  /// The findings of `advisories` against the policy's assets, with exposure taken from `ruleset` (the policy
  /// lowered for every gateway at once, with the mitigations asked for); `matcher` is `matcher(for: policy)`, when
  /// the caller built it already.
  public static func findings(
    of advisories: [Advisory], in policy: Policy, ruleset: Ruleset, matcher: AdvisoryMatcher? = nil
  ) -> [ImpactFinding] {
    let matcher = matcher ?? Self.matcher(for: policy)
    let matchesByAdvisory = concurrentMap(count: advisories.count) { matcher.matches(advisories[$0]) }
    let matchedAssets = Set(matchesByAdvisory.flatMap { $0.map(\.asset) })
    let exposures = ExposureIndex(ruleset: ruleset, policy: policy, assets: matchedAssets)
    let assetList = Array(matchedAssets)
    let computed = concurrentMap(count: assetList.count) { index in
      (exposures.exposure(of: assetList[index]), exposures.zones(of: policy.assets[assetList[index]]))
    }
    let exposureOfAsset = Dictionary(uniqueKeysWithValues: zip(assetList, computed))

    var findings: [ImpactFinding] = []
    for (advisory, matches) in zip(advisories, matchesByAdvisory) {
      guard !matches.isEmpty else { continue }
      let ports = advisory.namedPorts
      var details: [String: ([Advisory.ProductVulnerability], [String])] = [:]
      for match in matches {
        let asset = policy.assets[match.asset]
        let (exposure, zones) = exposureOfAsset[match.asset]!
        if details[match.productID] == nil {
          details[match.productID] = (
            advisory.vulnerabilities(of: match.productID), advisory.remediationCategories(of: match.productID)
          )
        }
        let (vulnerabilities, remediations) = details[match.productID]!
        findings.append(
          ImpactFinding(
            assetID: asset.id, asset: asset.name, criticality: asset.criticality, zones: zones,
            advisory: advisory.id, advisoryTitle: advisory.title, advisoryFile: advisory.file,
            productID: match.productID, product: match.product, evidence: match.evidence, reason: match.reason,
            vulnerabilities: vulnerabilities, remediations: remediations, exposure: exposure,
            ports: ports.map { PortExposure(port: $0, zones: Self.zones(exposing: $0, in: exposure)) }))
      }
    }
    let keys = findings.map(RankKey.init)
    return keys.indices.sorted { keys[$0] < keys[$1] }.map { findings[$0] }
  }

  /// Criticality first, then exposure (the worst source, then how many flagged zones and flows), then the highest
  /// score, each descending; then the asset's name, the advisory's id and the product, so the order is total.
  struct RankKey: Comparable {
    var criticality: Int
    var level: Int
    var flaggedZones: Int
    var flows: Int
    var score: Double
    var names: [String]

    init(_ finding: ImpactFinding) {
      criticality = finding.criticality?.rawValue ?? 0
      level = finding.level.rawValue
      flaggedZones = finding.exposure.filter(\.isFlagged).count
      flows = finding.exposure.map(\.flows.count).reduce(0, +)
      score = finding.highestScore ?? -1
      names = [finding.asset, finding.advisory, finding.productID]
    }

    static func < (lhs: RankKey, rhs: RankKey) -> Bool {
      let left = (lhs.criticality, lhs.level, lhs.flaggedZones, lhs.flows, lhs.score)
      let right = (rhs.criticality, rhs.level, rhs.flaggedZones, rhs.flows, rhs.score)
      if left != right { return left > right }
      return lhs.names.lexicographicallyPrecedes(rhs.names)
    }
  }

  /// The policy's assets indexed for matching (the baseline's and the policy's own).
  public static func matcher(for policy: Policy) -> AdvisoryMatcher {
    AdvisoryMatcher(
      assets: policy.assets.map {
        AssetIdentity(
          name: $0.name, vendor: $0.vendor, product: $0.product, model: $0.model, version: $0.version,
          cpe: Self.cpe(of: $0))
      })
  }

  /// The asset's CPE: a baseline column named `cpe` or `cpe23` (in any case, with or without `-`, `_`, spaces).
  static func cpe(of asset: Asset) -> String? {
    asset.attributes.first { key, _ in
      let normalized = String(key.lowercased().unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "_" })
      return normalized == "cpe" || normalized == "cpe23"
    }?.value
  }

  /// The source zones whose flows reach the asset on `port` (on TCP and UDP when the advisory names no transport).
  static func zones(exposing port: NamedPort, in exposure: [SourceZoneExposure]) -> [String] {
    let kinds: [MatchKind] =
      switch port.transport {
      case .tcp?: [.tcp]
      case .udp?: [.udp]
      case nil: [.tcp, .udp]
      }
    return exposure.filter { zone in
      zone.flows.contains { kinds.contains($0.kind) && $0.selectors.contains(port.port) }
    }.map(\.zone.name)
  }
}

/// The flows of a ruleset that reach each of some assets, found by one pass over the flow elements against the
/// assets' addresses in sorted order (a binary search per element), not by a scan per asset.
struct ExposureIndex {
  private let policy: Policy
  private let zonesByName: [String: Zone]
  private var reaching: [Int: [ExposureFlow]] = [:]

  init(ruleset: Ruleset, policy: Policy, assets: Set<Int>) {
    self.policy = policy
    zonesByName = Dictionary(policy.zones.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    var addresses: [(family: AddressFamily, value: UInt128, address: IPAddress, asset: Int)] = []
    for asset in assets {
      for address in policy.assets[asset].addresses {
        addresses.append((address.family, address.numericValue, address, asset))
      }
    }
    addresses.sort { ($0.family, $0.value, $0.asset) < ($1.family, $1.value, $1.asset) }
    for element in ruleset.elements {
      let first = element.destinations.first.numericValue
      let last = element.destinations.last.numericValue
      var low = 0
      var high = addresses.count
      while low < high {
        let middle = (low + high) / 2
        if (addresses[middle].family, addresses[middle].value) < (element.family, first) {
          low = middle + 1
        } else {
          high = middle
        }
      }
      for entry in addresses[low...].prefix(while: { $0.family == element.family && $0.value <= last }) {
        reaching[entry.asset, default: []].append(
          ExposureFlow(
            family: element.family, kind: element.kind, sources: element.sources,
            destination: AddressRange(first: entry.address, last: entry.address), selectors: element.selectors,
            rules: element.rules.map { ruleset.rules[$0] }))
      }
    }
  }

  /// The flows that reach `asset`, by source zone: flagged zones first, then by name.
  func exposure(of asset: Int) -> [SourceZoneExposure] {
    var byZone: [String: [ExposureFlow]] = [:]
    for flow in reaching[asset] ?? [] { byZone[flow.rules.first?.sourceZone ?? "", default: []].append(flow) }
    let exposure = byZone.map { name, flows in
      let destinationLevel = flows.compactMap { zonesByName[$0.rules.first?.destinationZone ?? ""]?.securityLevel }
        .max()
      let zone = impactZone(name)
      let isLower = destinationLevel.map { (zone.securityLevel ?? 0) < $0 } ?? false
      return SourceZoneExposure(
        zone: zone, isLowerSecurityLevel: isLower,
        flows: flows.sorted {
          ($0.family, $0.kind, $0.sources, $0.selectors.lowerBound) < (
            $1.family, $1.kind, $1.sources, $1.selectors.lowerBound
          )
        })
    }
    return exposure.sorted { ($0.isFlagged ? 0 : 1, $0.zone.name) < ($1.isFlagged ? 0 : 1, $1.zone.name) }
  }

  /// The zones of an asset's addresses (the outside zone for an address in no zone, when declared).
  func zones(of asset: Asset) -> [ImpactZone] {
    var names: [String] = []
    for (address, zone) in zip(asset.addresses, asset.addressZones) {
      guard let zone = zone ?? policy.zone(of: address) else { continue }
      let name = policy.zones[zone].name
      if !names.contains(name) { names.append(name) }
    }
    return names.map(impactZone)
  }

  private func impactZone(_ name: String) -> ImpactZone {
    let zone = zonesByName[name]
    return ImpactZone(name: name, securityLevel: zone?.securityLevel, isOutside: zone?.isOutside ?? false)
  }
}
