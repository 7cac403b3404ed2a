import FirewallIR
import IptablesBackend
import NftablesBackend

/// The compile targets, by their command-line names.
public enum Backends {
  /// Every target, in the order `compile --help` lists them.
  public static let all: [any Backend] = [
    NftablesArtifactBackend(), NftablesTextBackend(), IptablesBackend(family: .ipv4), IptablesBackend(family: .ipv6),
    FlowsBackend(),
  ]

  /// The target called `name` (`compile --target NAME`).
  public static func named(_ name: String) -> (any Backend)? {
    all.first { $0.target == name }
  }
}
