import FlowSpace
import PolicyLanguage

/// Values by zone for the one to three zones an endpoint of a rule touches: a short list searched in order (no
/// hashing, one small allocation), resolved 100,000 times per large policy.
struct ZoneMap<Value: Sendable>: Sendable {
  private(set) var entries: [(zone: Int, value: Value)] = []

  /// The zones with a value, in the order they were added.
  var keys: [Int] { entries.map(\.zone) }
  var isEmpty: Bool { entries.isEmpty }

  subscript(zone: Int) -> Value? {
    get { entries.first { $0.zone == zone }?.value }
    set {
      if let index = entries.firstIndex(where: { $0.zone == zone }) {
        if let newValue { entries[index].value = newValue } else { entries.remove(at: index) }
      } else if let newValue {
        entries.append((zone, newValue))
      }
    }
  }

  subscript(zone: Int, default value: @autoclosure () -> Value) -> Value {
    get { self[zone] ?? value() }
    set { self[zone] = newValue }
  }

  /// Appends `element` to the list of `zone` in place (through the `default:` subscript the list would be copied at
  /// every append).
  mutating func append<Element>(_ element: Element, to zone: Int) where Value == [Element] {
    if let index = entries.firstIndex(where: { $0.zone == zone }) {
      entries[index].value.append(element)
    } else {
      entries.append((zone, [element]))
    }
  }

  /// Whether every zone with a value is `zone`.
  func onlyHas(_ zone: Int) -> Bool { entries.allSatisfy { $0.zone == zone } }
}

/// Addresses (and the assets they belong to) by zone, restricted to the zones that matter, and those outside them.
struct AssetPlacement: Sendable {
  /// Addresses by zone (the outside zone included).
  var byZone = ZoneMap<AddressSet>()
  /// Assets by zone, for names, globs and roles.
  var assetsByZone = ZoneMap<[Int]>()
  /// Addresses that lie in none of the zones that matter.
  var stray = AddressSet()
}

/// An endpoint's addresses split by zone, before a rule's direction is known.
struct EndpointCandidates {
  var endpoint: Endpoint
  /// The endpoint's addresses by zone; stray addresses of a zone or literal endpoint make it invalid.
  var placement = AssetPlacement()
  /// Whether the endpoint must lie wholly in one zone (zones and literals) or is narrowed (assets, globs, roles).
  var isStrict: Bool

  func fits(_ zone: Int) -> Bool {
    guard placement.byZone.entries.contains(where: { $0.zone == zone && !$0.value.isEmpty }) else { return false }
    return !isStrict || (placement.stray.isEmpty && placement.byZone.onlyHas(zone))
  }

  func resolved(in zone: Int) -> ResolvedEndpoint {
    ResolvedEndpoint(
      endpoint: endpoint, addresses: placement.byZone[zone] ?? AddressSet(),
      assets: placement.assetsByZone[zone] ?? [])
  }
}

extension Resolver {
  /// Matches `*` and `?` against a whole name.
  static func globMatches(_ pattern: [UInt8], _ name: [UInt8]) -> Bool {
    var p = 0
    var n = 0
    var star = -1
    var mark = 0
    while n < name.count {
      if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == name[n] {
        p += 1
        n += 1
      } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
        star = p
        mark = n
        p += 1
      } else if star >= 0 {
        p = star + 1
        mark += 1
        n = mark
      } else {
        return false
      }
    }
    while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
    return p == pattern.count
  }

  /// The assets whose names match a glob. Only names that start with the glob's literal prefix are tried (found by
  /// binary search in the sorted names), and each distinct glob is matched once.
  mutating func assets(matchingGlob pattern: String) -> [Int] {
    if let cached = globCache[pattern] { return cached }
    if assetNamesSorted.count != assets.count {
      assetNamesSorted = assets.map { (Array($0.name.utf8), $0.id) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
    }
    let bytes = Array(pattern.utf8)
    let prefix = Array(bytes.prefix { $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: "?") })
    var low = 0
    var high = assetNamesSorted.count
    while low < high {
      let mid = (low + high) / 2
      if assetNamesSorted[mid].name.lexicographicallyPrecedes(prefix) { low = mid + 1 } else { high = mid }
    }
    var matches: [Int] = []
    while low < assetNamesSorted.count, assetNamesSorted[low].name.starts(with: prefix) {
      if Self.globMatches(bytes, assetNamesSorted[low].name) { matches.append(assetNamesSorted[low].id) }
      low += 1
    }
    matches.sort()
    globCache[pattern] = matches
    return matches
  }

  /// The assets an asset, glob or role endpoint names; reports unknown names and empty globs (nil).
  mutating func namedAssets(_ endpoint: Endpoint) -> [Int]? {
    switch endpoint.kind {
    case .asset(let name):
      guard let id = assetsByName[name.text] else {
        unknown("asset", name, candidates: assetNames)
        return nil
      }
      return [id]
    case .glob(let pattern):
      let matches = assets(matchingGlob: pattern.text)
      if matches.isEmpty {
        if !baselineUnreadable {
          diagnostics.error(.emptyGlob, "'\(pattern.text)' matches no asset", at: endpoint.range)
        }
        return nil
      }
      return matches
    case .role(let role):
      guard let matches = assetsByRole[role.text.lowercased()], !matches.isEmpty else {
        var notes: [DiagnosticNote] = []
        if let guess = Spelling.closest(to: role.text, in: assetsByRole.keys) {
          notes.append(DiagnosticNote("did you mean 'role \(guess)'?"))
        }
        if !baselineUnreadable {
          diagnostics.error(.emptyGlob, "no asset has the role '\(role.text)'", at: endpoint.range, notes: notes)
        }
        return nil
      }
      return matches
    case .zone, .address:
      return nil
    }
  }

  /// The addresses of `prefix` by zone (the outside zone taking what no other zone holds).
  func zoneParts(of prefix: IPPrefix) -> (parts: [Int: AddressSet], unzoned: AddressSet) {
    var parts: [Int: AddressSet] = [:]
    for (zone, part) in zoneIndex.values(overlapping: prefix) {
      parts[zone, default: AddressSet()].formUnion(part)
    }
    let uncovered = zoneIndex.uncovered(prefix)
    if let outside = outsideZone, !uncovered.isEmpty {
      parts[outside, default: AddressSet()].formUnion(uncovered)
      return (parts, AddressSet())
    }
    return (parts, uncovered)
  }

  /// An endpoint's addresses by zone; `limit` is the pair of zones that count (nil: all). Nil after reporting an
  /// error.
  mutating func candidates(for endpoint: Endpoint, zones limit: ZonePair?) -> EndpointCandidates? {
    var result = EndpointCandidates(endpoint: endpoint, isStrict: false)
    switch endpoint.kind {
    case .zone(let name):
      guard let zone = zone(named: name) else { return nil }
      usedZones.insert(zone)
      result.isStrict = true
      result.placement.byZone[zone] = zones[zone].addresses
      if let limit, !limit.contains(zone) {
        result.placement.byZone = ZoneMap()
        result.placement.stray = zones[zone].addresses
      }
    case .address(let literal):
      guard let prefix = parsePrefix(literal) else { return nil }
      result.isStrict = true
      let (parts, unzoned) = zoneParts(of: prefix)
      result.placement.stray = unzoned
      for (zone, part) in parts {
        if limit?.contains(zone) ?? true {
          result.placement.byZone[zone] = part
        } else {
          result.placement.stray.formUnion(part)
        }
      }
    case .asset(let name):
      guard let id = assetsByName[name.text] else {
        unknown("asset", name, candidates: assetNames)
        return nil
      }
      result.placement = placement(ofAsset: id, within: limit)
    case .glob, .role:
      guard let ids = namedAssets(endpoint) else { return nil }
      result.placement = placement(of: ids, within: limit)
      if let limit, result.placement.byZone.isEmpty {
        if !baselineUnreadable {
          let zoneNames = [limit.first, limit.second].sorted().map { "'\(zones[$0].name)'" }.joined(separator: " or ")
          diagnostics.error(
            .emptyGlob, "'\(endpoint.range.text)' matches no asset in zone \(zoneNames) of this conduit",
            at: endpoint.range)
        }
        return nil
      }
    }
    return result
  }

  /// The addresses of assets by zone within `limit` (nil: every zone), and those outside it or in no zone.
  private func placement(of ids: [Int], within limit: ZonePair?) -> AssetPlacement {
    var result = AssetPlacement()
    var hostsByZone = ZoneMap<[IPPrefix]>()
    var strayHosts: [IPPrefix] = []
    for id in ids {
      for (address, zone) in zip(assets[id].addresses, assets[id].addressZones) {
        guard let zone, limit?.contains(zone) ?? true else {
          strayHosts.append(IPPrefix(host: address))
          continue
        }
        hostsByZone.append(IPPrefix(host: address), to: zone)
        if result.assetsByZone[zone]?.last != id { result.assetsByZone.append(id, to: zone) }
      }
    }
    for (zone, hosts) in hostsByZone.entries { result.byZone[zone] = AddressSet(hosts) }
    if !strayHosts.isEmpty { result.stray = AddressSet(strayHosts) }
    return result
  }

  /// One asset's addresses by zone, from `assetPlacements`: most rules name single assets, many of them repeatedly.
  private mutating func placement(ofAsset id: Int, within limit: ZonePair?) -> AssetPlacement {
    if assetPlacements.count != assets.count { placeEveryAsset() }
    let everywhere = assetPlacements[id]
    guard let limit, !everywhere.byZone.entries.allSatisfy({ limit.contains($0.zone) }) else { return everywhere }
    return placement(of: [id], within: limit)
  }

  /// Computes every asset's placement, in parallel, once the assets are known.
  mutating func placeEveryAsset() {
    let resolver = self
    assetPlacements = concurrentMap(count: assets.count, chunkSize: 1024) { resolver.placement(of: [$0], within: nil) }
  }

  /// Every address of an endpoint, whatever its zone (management lines, isolate, revoke).
  mutating func unrestrictedEndpoint(_ endpoint: Endpoint) -> ResolvedEndpoint? {
    switch endpoint.kind {
    case .zone(let name):
      guard let zone = zone(named: name) else { return nil }
      usedZones.insert(zone)
      return ResolvedEndpoint(endpoint: endpoint, addresses: zones[zone].addresses, assets: [])
    case .address(let literal):
      guard let prefix = parsePrefix(literal) else { return nil }
      return ResolvedEndpoint(endpoint: endpoint, addresses: AddressSet(prefix), assets: [])
    case .asset, .glob, .role:
      guard let ids = namedAssets(endpoint) else { return nil }
      let assets = self.assets
      let addresses = AddressSet(ids.lazy.flatMap { assets[$0].addresses.lazy.map { IPPrefix(host: $0) } })
      return ResolvedEndpoint(endpoint: endpoint, addresses: addresses, assets: ids)
    }
  }

  /// Describes where an endpoint's addresses lie, for messages.
  func placement(of candidates: EndpointCandidates) -> String {
    var parts: [String] = candidates.placement.byZone.keys.sorted().map { "zone '\(zones[$0].name)'" }
    if !candidates.placement.stray.isEmpty {
      let zonesOfStray = Set(
        candidates.placement.stray.prefixes.compactMap { zoneIndex.value(at: $0.address) ?? outsideZone })
      if zonesOfStray.isEmpty {
        parts.append("no zone (\(candidates.placement.stray))")
      } else {
        parts += zonesOfStray.sorted().map { "zone '\(zones[$0].name)'" }
      }
    }
    return parts.joined(separator: " and ")
  }
}
