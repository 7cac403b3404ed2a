import FirewallIR
import NftablesBackend

extension NftablesArtifact {
  /// The artifact of a lowered ruleset, as `conduit compile` writes it but with fixed digests and date.
  static func compiled(_ ruleset: Ruleset, names: NftablesNames) throws -> NftablesArtifact {
    try NftablesArtifact(
      batch: NetlinkLinearizer().batch(ruleset, names: names), flowTable: FlowTable(ruleset), compiler: "conduit tests",
      site: ruleset.site, gateway: ruleset.gateway, mitigations: ruleset.mitigations, effectiveDate: "2026-01-01",
      policyDigest: String(repeating: "0", count: 64), sources: [])
  }
}
