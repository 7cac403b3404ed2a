import ArgumentParser
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// resolve → check ∥ (lower → render), shared by `compile` and `apply`: prints findings to standard error and
/// stops with the exit status of CLI.md (1 refused, 2 unreadable input, 64 usage).
///
/// The conduits' regions are computed once for the redundancy check and the lowering. While the checks run, the
/// resolved policy is already lowered and rendered on the other core; the output is used only when neither the
/// check nor the lowering and rendering find a reason to refuse. A policy whose loading or resolving failed is
/// never lowered.
struct CompilePipeline {
  var policyPath: String
  var resolveOptions: ResolveOptions
  var today: CalendarDay
  var gateway: String?
  var mitigations: [String]
  var strict: Bool

  /// What `render` makes of the lowered ruleset, with every finding, or an exit.
  func compile<Output: Sendable>(
    _ render: @escaping @Sendable (Ruleset, Policy, inout DiagnosticEngine) -> Output
  ) throws -> (output: Output, diagnostics: DiagnosticEngine) {
    let resolved: ResolvedPolicy
    do {
      resolved = try resolvePolicy(at: policyPath, resolveOptions: resolveOptions)
    } catch {
      printError("conduit: error: \(error)\n")
      throw ExitCode(2)
    }
    let regions = resolved.hasErrors ? nil : ConduitRegions(resolved.policy)
    let checkOptions = CheckOptions(today: today, mitigationsActive: !mitigations.isEmpty, regions: regions)
    let loweringOptions = LoweringOptions(gateway: gateway, mitigations: mitigations, regions: regions)
    let build = { @Sendable () -> Result<(Output, DiagnosticEngine), LoweringError> in
      var found = DiagnosticEngine()
      do throws(LoweringError) {
        let ruleset = try Lowering.lower(resolved.policy, options: loweringOptions, diagnostics: &found)
        return .success((render(ruleset, resolved.policy, &found), found))
      } catch {
        return .failure(error)
      }
    }
    let (checked, built) = inParallel(
      { checkPolicy(resolved, checkOptions: checkOptions) }, { resolved.hasErrors ? nil : build() })
    HeldUntilExit.hold(resolved)
    HeldUntilExit.hold(checked)
    HeldUntilExit.hold(regions)
    var diagnostics = DiagnosticEngine()
    diagnostics.replaceAll(with: checked.diagnostics)
    try refuseOnErrors(diagnostics)
    switch built ?? build() {
    case .success(let (output, found)):
      diagnostics.append(contentsOf: found)
      try refuseOnErrors(diagnostics)
      return (output, diagnostics)
    case .failure(let error):
      printError("conduit: error: \(error)\n")
      throw ExitCode(64)
    }
  }

  /// The nft artifact of a lowered ruleset; name collisions are reported to `diagnostics`.
  static func artifact(_ ruleset: Ruleset, _ policy: Policy, diagnostics: inout DiagnosticEngine)
    -> NftablesArtifact
  {
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let sources =
      policy.files.map { ($0.file.path, $0.file.bytes) } + (policy.baselineFile.map { [($0.path, $0.bytes)] } ?? [])
    let (batch, (flowTable, policySHA256)) = inParallel(
      { NetlinkLinearizer().batch(ruleset, names: names) },
      { (FlowTable(ruleset), NftablesArtifact.sha256(of: sources)) })
    return NftablesArtifact(
      batch: batch, flowTable: flowTable, table: names.table, interfaces: ruleset.interfaces,
      policySHA256: policySHA256, site: ruleset.site, gateway: ruleset.gateway, mitigations: ruleset.mitigations,
      compiler: "conduit \(Conduit.version)")
  }

  /// Prints the findings and exits when they stop the compile: 2 when a file the policy names could not be read,
  /// 1 for any other error (or warning, with `--strict`).
  func refuseOnErrors(_ diagnostics: DiagnosticEngine) throws {
    let findings = diagnostics.diagnostics
    if findings.hasUnreadableFile {
      printError(TextDiagnosticRenderer().render(findings) + "conduit: a file could not be read; nothing was written\n")
      throw ExitCode(2)
    }
    let errors = findings.contains { $0.severity == .error && $0.acceptedRisk == nil }
    let warnings = findings.contains { $0.severity == .warning && $0.acceptedRisk == nil }
    guard errors || (strict && warnings) else { return }
    printError(TextDiagnosticRenderer().render(findings) + "conduit: compile refused; nothing was written\n")
    throw ExitCode(1)
  }
}
