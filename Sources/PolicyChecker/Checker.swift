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

/// The result of the whole pipeline up to the check stage.
public struct CheckedPolicy: Sendable {
  /// The resolved policy.
  public var policy: Policy
  /// Every finding, sorted by place.
  public var diagnostics: [Diagnostic]

  /// Whether an unacknowledged error was found.
  public var hasErrors: Bool { diagnostics.contains { $0.severity == .error && $0.acceptedRisk == nil } }
  /// Whether an unacknowledged warning was found.
  public var hasWarnings: Bool { diagnostics.contains { $0.severity == .warning && $0.acceptedRisk == nil } }
}

/// A policy loaded and resolved, not yet checked.
public struct ResolvedPolicy: Sendable {
  /// The resolved policy.
  public var policy: Policy
  /// What loading and resolving found.
  public var diagnostics: DiagnosticEngine

  /// Whether loading or resolving found an error (the policy is then incomplete).
  public var hasErrors: Bool { diagnostics.diagnostics.contains { $0.severity == .error } }
}

/// Load, parse and resolve one policy file; its baseline is read and interpreted while the policy is parsed.
public func resolvePolicy(at path: String, resolveOptions: ResolveOptions = ResolveOptions()) throws(InputFileError)
  -> ResolvedPolicy
{
  let (loaded, prefetched) = inParallel(
    { () -> Result<([PolicyFile], DiagnosticEngine), InputFileError> in
      var diagnostics = DiagnosticEngine()
      do throws(InputFileError) {
        return .success((try PolicyLoader().load(path, diagnostics: &diagnostics), diagnostics))
      } catch {
        return .failure(error)
      }
    },
    { PrefetchedBaseline.path(forPolicyAt: path, options: resolveOptions).map(PrefetchedBaseline.init(path:)) })
  var (files, diagnostics) = try loaded.get()
  var options = resolveOptions
  options.prefetchedBaseline = prefetched
  let policy = try Resolver.resolve(files, options: options, diagnostics: &diagnostics)
  return ResolvedPolicy(policy: policy, diagnostics: diagnostics)
}

/// Check a resolved policy; the findings of every stage sorted by place.
public func checkPolicy(_ resolved: ResolvedPolicy, checkOptions: CheckOptions) -> CheckedPolicy {
  let policy = resolved.policy
  var diagnostics = resolved.diagnostics
  Checker.check(policy, options: checkOptions, diagnostics: &diagnostics)
  let order = Dictionary(
    (policy.files.map(\.file.path) + [policy.baselineFile?.path].compactMap { $0 }).enumerated().map { ($1, $0) },
    uniquingKeysWith: { first, _ in first })
  let sorted = diagnostics.diagnostics.enumerated().sorted { lhs, rhs in
    let left = lhs.element.range.map { (order[$0.file.path] ?? Int.max, $0.start) } ?? (Int.max, Int.max)
    let right = rhs.element.range.map { (order[$0.file.path] ?? Int.max, $0.start) } ?? (Int.max, Int.max)
    return left != right ? left < right : lhs.offset < rhs.offset
  }.map(\.element)
  return CheckedPolicy(policy: policy, diagnostics: sorted)
}

/// Load, parse, resolve and check one policy file.
public func checkPolicy(
  at path: String, resolveOptions: ResolveOptions = ResolveOptions(), checkOptions: CheckOptions
) throws(InputFileError) -> CheckedPolicy {
  checkPolicy(try resolvePolicy(at: path, resolveOptions: resolveOptions), checkOptions: checkOptions)
}
