import PolicyLanguage
import PolicyModel

/// Conduits: duplicate-conduit, purdue-skip, conduit-sl-below-zone, expired-conduit, expiring-conduit,
/// missing-justification, missing-owner, empty-conduit.
enum ConduitChecks {
  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    var conduitByPair: [[Int]: Conduit] = [:]
    for conduit in policy.conduits {
      let declaration = conduit.declaration
      if let pair = conduit.zones {
        let key = [pair.first, pair.second].sorted()
        if let first = conduitByPair[key] {
          diagnostics.error(
            .duplicateConduit,
            "conduit '\(conduit.name)' joins the same zones as conduit '\(first.name)': at most one conduit per pair of zones",
            at: declaration.between?.range ?? conduit.nameRange,
            notes: [DiagnosticNote("conduit '\(first.name)' is declared here", at: first.nameRange)])
        } else {
          conduitByPair[key] = conduit
        }
        purdueSkip(conduit, pair, policy, &diagnostics)
        let zoneLevels = [pair.first, pair.second].compactMap { policy.zones[$0].securityLevel }
        if let level = conduit.securityLevel, let highest = zoneLevels.max(), level < highest {
          let zone = [pair.first, pair.second].first { policy.zones[$0].securityLevel == highest }!
          diagnostics.warning(
            .conduitSLBelowZone,
            "conduit '\(conduit.name)' has SL-T \(level), below the SL-T \(highest) of zone '\(policy.zones[zone].name)'",
            at: declaration.securityLevel?.range ?? conduit.nameRange,
            notes: [
              DiagnosticNote("zone '\(policy.zones[zone].name)' is declared here", at: policy.zones[zone].nameRange)
            ])
        }
      }
      if let expires = conduit.expires, let range = declaration.expires?.range {
        let daysLeft = expires.daysSinceEpoch - options.today.daysSinceEpoch
        if daysLeft < 0 {
          let message = "conduit '\(conduit.name)' expired on \(expires) (today is \(options.today))"
          if options.mitigationsActive {
            diagnostics.warning(.expiredConduit, message + "; its flows are kept for this emergency build", at: range)
          } else {
            diagnostics.error(.expiredConduit, message, at: range)
          }
        } else if daysLeft <= 30 {
          diagnostics.warning(
            .expiringConduit,
            "conduit '\(conduit.name)' expires on \(expires), in \(daysLeft) day\(daysLeft == 1 ? "" : "s")", at: range)
        }
      }
      if declaration.justification == nil {
        diagnostics.warning(
          .missingJustification, "conduit '\(conduit.name)' has no 'justification': why does the process need it?",
          at: conduit.nameRange)
      }
      if declaration.owner == nil {
        diagnostics.warning(.missingOwner, "conduit '\(conduit.name)' has no 'owner'", at: conduit.nameRange)
      }
      if declaration.rules.isEmpty {
        diagnostics.warning(.emptyConduit, "conduit '\(conduit.name)' has no rules", at: conduit.nameRange)
      }
    }
  }

  private static func purdueSkip(
    _ conduit: Conduit, _ pair: ZonePair, _ policy: Policy, _ diagnostics: inout DiagnosticEngine
  ) {
    let first = policy.zones[pair.first]
    let second = policy.zones[pair.second]
    guard let a = first.level, let b = second.level else { return }
    let (upper, lower) = a > b ? (first, second) : (second, first)
    let high = max(a, b).tenths
    let low = min(a, b).tenths
    let range = conduit.declaration.between?.range ?? conduit.nameRange
    let notes = [
      DiagnosticNote("zone '\(upper.name)' is level \(upper.level!)", at: upper.declaration.level?.range),
      DiagnosticNote("zone '\(lower.name)' is level \(lower.level!)", at: lower.declaration.level?.range),
    ]
    if high >= 40, low <= 20 {
      diagnostics.error(
        .purdueSkip,
        "conduit '\(conduit.name)' joins level \(upper.level!) ('\(upper.name)') directly to level \(lower.level!) ('\(lower.name)'): route it through the industrial DMZ",
        at: range, notes: notes)
    } else if high == 35, low <= 10 {
      diagnostics.warning(
        .purdueSkip,
        "conduit '\(conduit.name)' joins the industrial DMZ ('\(upper.name)') directly to level \(lower.level!) ('\(lower.name)')",
        at: range, notes: notes)
    }
  }
}
