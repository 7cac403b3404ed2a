import FlowSpace
import PolicyLanguage
import PolicyModel

/// Baseline: duplicate-address, baseline-zone-mismatch, unzoned-asset, dual-homed-asset, zone-membership,
/// sl-capability-gap.
enum BaselineChecks {
  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    duplicateAddresses(policy, &diagnostics)
    policy.assets.withUnsafeBufferPointer { assets in
      for index in assets.indices { check(assets[index], policy, &diagnostics) }
    }
    guard policy.zones.contains(where: { !$0.listedAssets.isEmpty }) else { return }
    let assetsByName = policy.assetsByName
    for zone in policy.zones {
      for name in zone.listedAssets {
        guard let id = assetsByName[name.text] else { continue }
        let asset = policy.assets[id]
        if !asset.zones.contains(zone.id) {
          diagnostics.error(
            .zoneMembership,
            "asset '\(asset.name)' (\(asset.addresses.map(\.description).joined(separator: ", "))) is listed in zone '\(zone.name)' but does not lie in its networks",
            at: name.range, notes: [DiagnosticNote("asset '\(asset.name)' is defined here", at: asset.origin.range)])
        }
      }
    }
  }

  /// The checks of one asset (read in place: 40,000 assets are common).
  private static func check(_ asset: Asset, _ policy: Policy, _ diagnostics: inout DiagnosticEngine) {
    let assetZones = asset.zones
    zoneOfAsset(asset, assetZones, policy, &diagnostics)
    if let literal = asset.baselineZone {
      let actual = assetZones.map { policy.zones[$0].name }
      if !actual.contains(literal.text) {
        let lies = actual.isEmpty ? "in no zone" : "in zone '\(actual.joined(separator: "', '"))'"
        diagnostics.error(
          .baselineZoneMismatch,
          "the baseline puts '\(asset.name)' in zone '\(literal.text)', but its address lies \(lies)", at: literal.range
        )
      }
    }
    if let capability = asset.securityLevel {
      for zoneID in assetZones {
        guard let target = policy.zones[zoneID].securityLevel, capability < target else { continue }
        let zone = policy.zones[zoneID]
        diagnostics.warning(
          .slCapabilityGap,
          "asset '\(asset.name)' has SL-C \(capability), below the SL-T \(target) of zone '\(zone.name)'",
          at: asset.origin.range, notes: [DiagnosticNote("zone '\(zone.name)' is declared here", at: zone.nameRange)])
      }
    }
  }

  private static func zoneOfAsset(
    _ asset: Asset, _ zones: [Int], _ policy: Policy, _ diagnostics: inout DiagnosticEngine
  ) {
    if asset.addressZones.contains(nil) {
      let unzoned = zip(asset.addresses, asset.addressZones).filter { $0.1 == nil }.map(\.0)
      diagnostics.warning(
        .unzonedAsset,
        "asset '\(asset.name)' has \(unzoned.map(\.description).joined(separator: ", ")) in no zone: an unknown device",
        at: asset.origin.range)
    }
    if let outside = policy.outsideZone, zones.contains(outside) {
      let zone = policy.zones[outside]
      if !zone.listedAssets.contains(where: { $0.text == asset.name }) {
        diagnostics.warning(
          .unzonedAsset,
          "asset '\(asset.name)' lies in the outside zone '\(zone.name)' but is not listed in its 'assets': a mistyped address, or an unknown device",
          at: asset.origin.range, notes: [DiagnosticNote("zone '\(zone.name)' is declared here", at: zone.nameRange)])
      }
    }
    if zones.count > 1 {
      diagnostics.warning(
        .dualHomedAsset,
        "asset '\(asset.name)' has addresses in zones \(zones.map { "'\(policy.zones[$0].name)'" }.joined(separator: " and ")): it bridges them",
        at: asset.origin.range)
    }
  }

  private static func duplicateAddresses(_ policy: Policy, _ diagnostics: inout DiagnosticEngine) {
    var owners: [(address: IPAddress, asset: Int)] = []
    owners.reserveCapacity(policy.assets.count)
    for index in policy.assets.indices {
      let addresses = policy.assets[index].addresses
      if addresses.count == 1 {
        owners.append((addresses[0], index))
      } else {
        for address in Set(addresses) { owners.append((address, index)) }
      }
    }
    owners.sort { ($0.address, $0.asset) < ($1.address, $1.asset) }
    var start = 0
    while start < owners.count {
      var end = start + 1
      while end < owners.count, owners[end].address == owners[start].address { end += 1 }
      if end - start > 1 {
        let group = owners[start..<end].map { policy.assets[$0.asset] }
        if !group.allSatisfy(\.isShared) {
          let first = group[0]
          for later in group.dropFirst() {
            diagnostics.error(
              .duplicateAddress,
              "asset '\(later.name)' has address \(owners[start].address), which asset '\(first.name)' already has (mark both 'shared' if that is intended)",
              at: later.origin.range,
              notes: [DiagnosticNote("asset '\(first.name)' is defined here", at: first.origin.range)])
          }
        }
      }
      start = end
    }
  }
}
