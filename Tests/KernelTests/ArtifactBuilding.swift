import FirewallIR
import NftablesBackend

extension NftablesArtifact {
  static let testPolicyDigest = String(repeating: "0", count: 64)
  static let testEffectiveDate = "2026-01-01"

  /// The artifact of a lowered ruleset, as `conduit compile` writes it but with fixed digests and date.
  static func compiled(_ ruleset: Ruleset, names: NftablesNames) throws -> NftablesArtifact {
    try NftablesArtifact(
      batch: NetlinkLinearizer().batch(ruleset, names: names, identity: testIdentity(ruleset)),
      flowTable: FlowTable(ruleset), compiler: "conduit tests", site: ruleset.site, gateway: ruleset.gateway,
      mitigations: ruleset.mitigations, effectiveDate: testEffectiveDate, policyDigest: testPolicyDigest, sources: [])
  }

  /// The identity `compiled` gives the table of `ruleset`.
  static func testIdentity(_ ruleset: Ruleset) -> NftablesIdentity {
    NftablesIdentity(
      ruleset, context: RenderContext(effectiveDate: testEffectiveDate, compiler: "conduit tests"),
      policyDigest: testPolicyDigest)
  }
}
