import FlowSpace
import PolicyLanguage
import PolicyModel

/// Zones: overlapping-zones, missing-level, unused-zone, dedicated-zone.
enum ZoneChecks {
  static let dedicatedTags = ["sis", "wireless", "temporary"]

  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    let networks = policy.zones.flatMap { zone in zone.networks.map { (zone: zone.id, network: $0) } }
    for (later, earlier) in findOverlaps(in: networks.map(\.network.prefix)) {
      let laterNetwork = networks[later]
      let earlierNetwork = networks[earlier]
      guard laterNetwork.zone != earlierNetwork.zone else { continue }
      diagnostics.error(
        .overlappingZones,
        "network \(laterNetwork.network.prefix) of zone '\(policy.zones[laterNetwork.zone].name)' overlaps zone '\(policy.zones[earlierNetwork.zone].name)'",
        at: laterNetwork.network.range,
        notes: [DiagnosticNote("\(earlierNetwork.network.prefix) is declared here", at: earlierNetwork.network.range)])
    }
    for zone in policy.zones {
      if zone.declaration.level == nil {
        diagnostics.warning(
          .missingLevel, "zone '\(zone.name)' has no Purdue 'level' (0, 1, 2, 3, 3.5, 4 or 5)", at: zone.nameRange)
      }
      if !policy.usedZones.contains(zone.id) {
        diagnostics.warning(
          .unusedZone, "zone '\(zone.name)' is named by no conduit, interface or management line", at: zone.nameRange)
      }
    }
    for asset in policy.assets {
      for tag in dedicatedTags where asset.tags.contains(tag) {
        for zoneID in asset.zones where !policy.zones[zoneID].tags.contains(tag) {
          let zone = policy.zones[zoneID]
          diagnostics.warning(
            .dedicatedZone,
            "asset '\(asset.name)' is tagged '\(tag)' but lies in zone '\(zone.name)', which is not tagged '\(tag)'",
            at: asset.origin.range, notes: [DiagnosticNote("zone '\(zone.name)' is declared here", at: zone.nameRange)])
        }
      }
    }
  }
}
