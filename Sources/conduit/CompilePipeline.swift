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
      reportError("\(error)")
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
      reportError("\(error)")
      throw ExitCode(64)
    }
  }

  /// The nft artifact of a lowered ruleset for the effective day `today`; name collisions are reported to
  /// `diagnostics`. Paths in the policy digest, the sources and the origins are relative to the main policy.
  static func artifact(_ ruleset: Ruleset, _ policy: Policy, today: CalendarDay, diagnostics: inout DiagnosticEngine)
    -> Result<NftablesArtifact, NftablesArtifact.ReadError>
  {
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let main = policy.files.first?.file.path ?? ""
    let sources =
      (policy.files.map { ($0.file.path, $0.file.bytes) } + (policy.baselineFile.map { [($0.path, $0.bytes)] } ?? []))
      .map { (path: SourcePath.relative($0.0, toDirectoryOf: main), bytes: $0.1) }
    let (batch, (flowTable, policyDigest)) = inParallel(
      { NetlinkLinearizer().batch(ruleset, names: names) },
      { (FlowTable(ruleset), NftablesArtifact.sha256(of: sources)) })
    return Result { () throws(NftablesArtifact.ReadError) in
      try NftablesArtifact(
        batch: batch, flowTable: flowTable, compiler: "conduit \(Conduit.version)", site: ruleset.site,
        gateway: ruleset.gateway, mitigations: ruleset.mitigations, effectiveDate: today.description,
        policyDigest: policyDigest, sources: sources.map(\.path))
    }
  }

  /// The artifact, or exit 2 naming why the batch built is not one `apply` would send (never expected: every name
  /// the batch holds was validated when the policy was checked).
  static func unwrap<Value>(_ built: Result<Value, NftablesArtifact.ReadError>) throws -> Value {
    switch built {
    case .success(let value): return value
    case .failure(let error):
      reportError("internal error: the batch built is not one conduit would apply: \(error)")
      throw ExitCode(2)
    }
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
