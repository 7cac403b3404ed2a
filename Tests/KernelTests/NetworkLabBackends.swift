import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyLanguage
import Testing

/// The ways a compiled ruleset reaches the lab's gateway.
enum LabBackend: String, CaseIterable, Sendable {
  /// The nft-text script loaded with `nft -f`.
  case nftables
  /// iptables-restore and ip6tables-restore input.
  case iptables
  /// The nft artifact applied with `conduit apply`.
  case artifact
}

extension NetworkLab {
  /// Loads `ruleset` into the gateway namespace through `backend`; what the renderers report goes to `diagnostics`.
  func load(_ ruleset: Ruleset, through backend: LabBackend, diagnostics: inout DiagnosticEngine) throws {
    switch backend {
    case .nftables:
      try loadNftables(
        script: NftablesTextRenderer().render(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics)))
    case .artifact:
      let names = NftablesNames(ruleset, diagnostics: &diagnostics)
      let artifact = try NftablesArtifact.compiled(ruleset, names: names)
      let file = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID().uuidString).nftb")
      try Data(artifact.encoded()).write(to: file)
      defer { try? FileManager.default.removeItem(at: file) }
      let applied = try ConduitExecutable.run(["apply", file.path, "--netns", gatewayNamespace])
      #expect(applied.status == 0, "\(applied.standardError)")
    case .iptables:
      var scripts: [String] = []
      for family in [AddressFamily.ipv4, .ipv6] {
        let names = IptablesNames(ruleset, family: family, diagnostics: &diagnostics)
        scripts.append(IptablesRestoreRenderer().render(ruleset, family: family, names: names))
      }
      try loadIptables(ipv4: scripts[0], ipv6: scripts[1])
    }
  }
}
