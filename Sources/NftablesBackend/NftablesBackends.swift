import FirewallIR
import FlowSpace
import PolicyLanguage

/// `compile --target nft`: the netlink batch as an artifact for `conduit apply` (`NftablesArtifact`).
public struct NftablesArtifactBackend: Backend {
  /// Creates the backend.
  public init() {}

  public var target: String { "nft" }

  public var capabilities: BackendCapabilities {
    BackendCapabilities(families: [.ipv4, .ipv6], isBinary: true, isApplicable: true)
  }

  public func names(for ruleset: Ruleset, diagnostics: inout DiagnosticEngine) -> NftablesNames {
    NftablesNames(ruleset, diagnostics: &diagnostics)
  }

  public func render(_ ruleset: Ruleset, names: NftablesNames, context: RenderContext) throws(BackendFailure)
    -> [[UInt8]]
  {
    try artifact(ruleset, names: names, context: context).encodedParts()
  }

  /// The artifact: the batch, the flow table beside it, and a header that records the policy digest over
  /// `context.sources`.
  public func artifact(_ ruleset: Ruleset, names: NftablesNames, context: RenderContext) throws(BackendFailure)
    -> NftablesArtifact
  {
    let policyDigest = NftablesArtifact.sha256(of: context.sources.map { ($0.path, $0.bytes) })
    let identity = NftablesIdentity(ruleset, context: context, policyDigest: policyDigest)
    let (batch, flowTable) = inParallel(
      { NetlinkLinearizer().batch(ruleset, names: names, identity: identity) }, { FlowTable(ruleset) })
    do {
      return try NftablesArtifact(
        batch: batch, flowTable: flowTable, compiler: context.compiler, site: ruleset.site,
        gateway: ruleset.gateway, mitigations: ruleset.mitigations, effectiveDate: context.effectiveDate,
        policyDigest: policyDigest, sources: context.sources.map(\.path), isolated: ruleset.isolated)
    } catch {
      throw BackendFailure("the batch built is not one conduit would apply: \(error)")
    }
  }
}

/// `compile --target nft-text`: an `nft -f` script of the same ruleset (`NftablesTextRenderer`).
public struct NftablesTextBackend: Backend {
  /// Creates the backend.
  public init() {}

  public var target: String { "nft-text" }

  public var capabilities: BackendCapabilities { BackendCapabilities(families: [.ipv4, .ipv6]) }

  public func names(for ruleset: Ruleset, diagnostics: inout DiagnosticEngine) -> NftablesNames {
    NftablesNames(ruleset, diagnostics: &diagnostics)
  }

  public func render(_ ruleset: Ruleset, names: NftablesNames, context: RenderContext) -> [[UInt8]] {
    let policyDigest = NftablesArtifact.sha256(of: context.sources.map { ($0.path, $0.bytes) })
    let identity = NftablesIdentity(ruleset, context: context, policyDigest: policyDigest)
    return [Array(NftablesTextRenderer().render(ruleset, names: names, identity: identity).utf8)]
  }
}

extension NftablesIdentity {
  /// The identity of compiling `ruleset` in `context`, whose sources have the digest `policyDigest`.
  public init(_ ruleset: Ruleset, context: RenderContext, policyDigest: String) {
    self.init(
      compiler: TerminalText.escaped(context.compiler), site: ruleset.site.map(TerminalText.escaped),
      gateway: ruleset.gateway.map(TerminalText.escaped),
      compileDigest: NftablesArtifact.compileDigest(
        policyDigest: policyDigest, gateway: ruleset.gateway.map(TerminalText.escaped),
        mitigations: ruleset.mitigations.map(TerminalText.escaped), effectiveDate: context.effectiveDate))
  }
}
