import FlowSpace
import PolicyLanguage

extension Resolver {
  /// A resolver that knows a resolved policy's names, to resolve endpoints and services given later (queries).
  init(lookingUpIn policy: Policy) {
    self.init(files: policy.files, options: ResolveOptions())
    zones = policy.zones
    zonesByName = Dictionary(policy.zones.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
    outsideZone = policy.outsideZone
    zoneIndex = policy.zoneIndex
    assets = policy.assets
    assetsByName = policy.assetsByName
    assetNames = policy.assets.map(\.name)
    for asset in policy.assets {
      if let role = asset.role { assetsByRole[role.lowercased(), default: []].append(asset.id) }
    }
    services = policy.services
  }
}

extension Policy {
  /// Every address of the endpoints (asset names, globs, roles, zones, literal addresses), reporting unknown names;
  /// nil when one does not resolve.
  public func addresses(of endpoints: [Endpoint], diagnostics: inout DiagnosticEngine) -> AddressSet? {
    var resolver = Resolver(lookingUpIn: self)
    let resolved = endpoints.map { resolver.unrestrictedEndpoint($0) }
    diagnostics.append(contentsOf: resolver.diagnostics)
    guard resolved.allSatisfy({ $0 != nil }) else { return nil }
    return AddressSet.union(of: resolved.lazy.map { $0!.addresses })
  }

  /// The matches of service items (service names and port literals), reporting unknown services and bad literals.
  public func matches(of items: [ServiceItem], diagnostics: inout DiagnosticEngine) -> [ResolvedItem] {
    var resolver = Resolver(lookingUpIn: self)
    let expanded = resolver.expand(items)
    diagnostics.append(contentsOf: resolver.diagnostics)
    return expanded
  }
}
