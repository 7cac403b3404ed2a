import PolicyLanguage
import PolicyModel

/// Gateways: unenforced-conduit, hairpin-conduit, no-management.
enum GatewayChecks {
  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    for gateway in policy.gateways where gateway.management.isEmpty {
      diagnostics.warning(
        .noManagement,
        "gateway '\(gateway.name)' has no 'management' line: its own input is left as it is, open to every zone",
        at: gateway.nameRange)
    }
    guard !policy.gateways.isEmpty else { return }
    for conduit in policy.conduits {
      guard let pair = conduit.zones else { continue }
      var enforced = false
      for gateway in policy.gateways {
        let first = gateway.interfaces(reaching: pair.first)
        let second = gateway.interfaces(reaching: pair.second)
        guard !first.isEmpty, !second.isEmpty else { continue }
        if gateway.enforces(pair) {
          enforced = true
        } else {
          let interface = first.sorted()[0]
          diagnostics.error(
            .hairpinConduit,
            "gateway '\(gateway.name)' reaches both zones of conduit '\(conduit.name)' through interface '\(interface)' only: traffic between them never crosses the gateway",
            at: gateway.interfaces.first { $0.name == interface }?.range ?? gateway.nameRange,
            notes: [DiagnosticNote("conduit '\(conduit.name)' is declared here", at: conduit.nameRange)])
          enforced = true
        }
      }
      if !enforced {
        diagnostics.warning(
          .unenforcedConduit,
          "no gateway has both zones of conduit '\(conduit.name)' ('\(policy.zones[pair.first].name)' and '\(policy.zones[pair.second].name)') behind its interfaces: nothing enforces it",
          at: conduit.nameRange)
      }
    }
  }
}
