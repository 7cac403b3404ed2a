import FirewallIR
import FlowSpace
import PolicyLanguage

/// `compile --target iptables` and `--target ip6tables`: iptables-restore input of one address family for a
/// dedicated gateway (`IptablesRestoreRenderer`).
public struct IptablesBackend: Backend {
  /// The family whose flows the output holds: IPv4 for iptables, IPv6 for ip6tables.
  public var family: AddressFamily

  /// Creates the backend of one family.
  public init(family: AddressFamily) {
    self.family = family
  }

  public var target: String { family == .ipv4 ? "iptables" : "ip6tables" }

  public var capabilities: BackendCapabilities { BackendCapabilities(families: [family]) }

  public func names(for ruleset: Ruleset, diagnostics: inout DiagnosticEngine) -> IptablesNames {
    IptablesNames(ruleset, family: family, diagnostics: &diagnostics)
  }

  public func render(_ ruleset: Ruleset, names: IptablesNames, context: RenderContext) -> [[UInt8]] {
    [Array(IptablesRestoreRenderer().render(ruleset, family: family, names: names).utf8)]
  }
}
