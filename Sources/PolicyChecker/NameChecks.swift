import PolicyLanguage
import PolicyModel

/// Names that reach the backends: interface names every backend writes literally (bad-value), and conduit and
/// zone names that become the same generated chain name, as the backends generate it (`GeneratedName`: the
/// characters a backend cannot write replaced, long names shortened with a hash suffix), are a name-collision.
/// Length limits are not errors: long names are shortened.
enum NameChecks {
  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    for gateway in policy.gateways {
      for statement in gateway.declaration.interfaces {
        if let problem = interfaceNameProblem(statement.interface.text) {
          diagnostics.error(
            .badValue, "interface name '\(statement.interface.text)' \(problem)", at: statement.interface.range)
        }
      }
    }
    conduitChainCollisions(policy, &diagnostics)
    iptablesChainCollisions(policy, &diagnostics)
  }

  /// Why `name` is not a Linux interface name that nft strings and iptables arguments carry as it is; nil when it
  /// is one: 1 to 15 bytes, no whitespace, control character, `/`, `:`, `"`, `\` or `*`, not `.` or `..`, and
  /// not ending in `+` (iptables' wildcard).
  static func interfaceNameProblem(_ name: String) -> String? {
    if name.isEmpty { return "is empty" }
    if name.utf8.count > 15 { return "is longer than 15 bytes, the kernel's limit" }
    if name == "." || name == ".." { return "is not a Linux interface name" }
    for scalar in name.unicodeScalars {
      if scalar.properties.isWhitespace { return "contains whitespace, which no interface name holds" }
      if TerminalText.isUnsafe(scalar) { return "contains a control character, which no interface name holds" }
      if "/:\"\\*".unicodeScalars.contains(scalar) {
        return "contains '\(scalar)': interface names hold no '/', ':', '\"', '\\' or '*'"
      }
    }
    if name.hasSuffix("+") { return "ends with '+', the interface wildcard of iptables" }
    return nil
  }

  /// Two conduits whose nftables chains (`c_NAME`, `c_NAME_log`) coincide.
  private static func conduitChainCollisions(_ policy: Policy, _ diagnostics: inout DiagnosticEngine) {
    var owners: [String: Conduit] = [:]
    for conduit in policy.conduits {
      let chain = GeneratedName.nftablesConduitChain(conduit.name)
      for name in [chain, chain + "_log"] {
        if let first = owners[name], first.name != conduit.name {
          diagnostics.error(
            .nameCollision,
            "conduit '\(conduit.name)' and conduit '\(first.name)' both become the nftables chain '\(name)'",
            at: conduit.nameRange,
            notes: [DiagnosticNote("conduit '\(first.name)' is declared here", at: first.nameRange)])
        } else if owners[name] == nil {
          owners[name] = conduit
        }
      }
    }
  }

  /// Two conduits, logging chains or ordered zone pairs of conduits whose iptables chains (`c-NAME`, `c-NAME-log`,
  /// `z-SOURCE-DESTINATION`) coincide.
  private static func iptablesChainCollisions(_ policy: Policy, _ diagnostics: inout DiagnosticEngine) {
    var owners: [String: (what: String, conduit: Conduit)] = [:]
    func claim(_ chain: String, _ what: String, _ conduit: Conduit) {
      if let owner = owners[chain], owner.what != what {
        diagnostics.error(
          .nameCollision, "\(what) and \(owner.what) both become the iptables chain '\(chain)'",
          at: conduit.nameRange,
          notes: [DiagnosticNote("conduit '\(owner.conduit.name)' is declared here", at: owner.conduit.nameRange)])
      } else if owners[chain] == nil {
        owners[chain] = (what, conduit)
      }
    }
    for conduit in policy.conduits {
      claim(GeneratedName.iptablesChain("c-" + conduit.name), "conduit '\(conduit.name)'", conduit)
      claim(
        GeneratedName.iptablesChain("c-" + conduit.name, suffix: "-log"),
        "the logging chain of conduit '\(conduit.name)'", conduit)
    }
    for conduit in policy.conduits {
      guard let zones = conduit.zones else { continue }
      let first = policy.zones[zones.first].name
      let second = policy.zones[zones.second].name
      for (source, destination) in [(first, second), (second, first)] {
        claim(
          GeneratedName.iptablesChain("z-\(source)-\(destination)"),
          "zone pair '\(source)' -> '\(destination)'", conduit)
      }
    }
  }
}
