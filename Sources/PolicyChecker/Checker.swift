import FlowSpace
import Foundation
import PolicyLanguage
import PolicyModel

/// Options of the check stage.
public struct CheckOptions: Sendable {
  /// The day date-dependent checks use (`--today`, or today in UTC).
  public var today: CalendarDay
  /// Whether mitigations are being compiled in (expired conduits are then warnings, so emergency builds never block).
  public var mitigationsActive: Bool
  /// The policy's conduit regions when already computed (by `compile`, for the lowering too).
  public var regions: ConduitRegions?

  /// Creates options.
  public init(today: CalendarDay, mitigationsActive: Bool = false, regions: ConduitRegions? = nil) {
    self.today = today
    self.mitigationsActive = mitigationsActive
    self.regions = regions
  }

}

/// The check stage: runs every family of checks of CHECKS.md over a resolved policy, then applies `accept-risk`.
public enum Checker {
  /// One family of checks.
  typealias Family = @Sendable (Policy, CheckOptions, inout DiagnosticEngine) -> Void

  static let families: [Family] = [
    ZoneChecks.run, BaselineChecks.run, GatewayChecks.run, ConduitChecks.run, RuleChecks.run, ServiceChecks.run,
    RedundancyChecks.run, NameChecks.run,
  ]

  /// Runs every check, adding findings to `diagnostics`, and marks the warnings that `accept-risk` acknowledges.
  /// The families run in parallel; their findings are added in the order of `families`.
  public static func check(_ policy: Policy, options: CheckOptions, diagnostics: inout DiagnosticEngine) {
    let findings = concurrentMap(count: families.count) { index in
      var found = DiagnosticEngine()
      families[index](policy, options, &found)
      return found
    }
    for found in findings { diagnostics.append(contentsOf: found) }
    AcceptedRisks.apply(policy, diagnostics: &diagnostics)
  }
}
