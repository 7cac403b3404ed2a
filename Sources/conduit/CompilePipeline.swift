import ArgumentParser
import FirewallIR
import Foundation
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// check → lower, shared by `compile` and `apply`: prints findings to standard error and stops with the exit
/// status of CLI.md (1 refused, 2 unreadable input, 64 usage).
struct CompilePipeline {
  var policyPath: String
  var resolveOptions: ResolveOptions
  var today: CalendarDay
  var gateway: String?
  var mitigations: [String]
  var strict: Bool

  /// The lowered ruleset with the checked policy, or an exit.
  func lower() throws -> (ruleset: Ruleset, policy: Policy, diagnostics: DiagnosticEngine) {
    let checked: CheckedPolicy
    do {
      checked = try checkPolicy(
        at: policyPath, resolveOptions: resolveOptions,
        checkOptions: CheckOptions(today: today, mitigationsActive: !mitigations.isEmpty))
    } catch {
      printError("conduit: error: \(error)\n")
      throw ExitCode(2)
    }
    var diagnostics = DiagnosticEngine()
    diagnostics.replaceAll(with: checked.diagnostics)
    try refuseOnErrors(diagnostics)
    do {
      let ruleset = try Lowering.lower(
        checked.policy, options: LoweringOptions(gateway: gateway, mitigations: mitigations),
        diagnostics: &diagnostics)
      try refuseOnErrors(diagnostics)
      return (ruleset, checked.policy, diagnostics)
    } catch let error as LoweringError {
      printError("conduit: error: \(error)\n")
      throw ExitCode(64)
    }
  }

  /// The nft artifact of a lowered ruleset.
  func artifact(_ ruleset: Ruleset, _ policy: Policy, diagnostics: inout DiagnosticEngine) throws -> NftablesArtifact {
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    try refuseOnErrors(diagnostics)
    let batch = NetlinkLinearizer().batch(ruleset, names: names)
    let sources =
      policy.files.map { ($0.file.path, $0.file.bytes) } + (policy.baselineFile.map { [($0.path, $0.bytes)] } ?? [])
    return NftablesArtifact(
      batch: batch, flowTable: FlowTable(ruleset), table: names.table, interfaces: ruleset.interfaces,
      policySHA256: NftablesArtifact.sha256(of: sources), site: ruleset.site, gateway: ruleset.gateway,
      mitigations: ruleset.mitigations, compiler: "conduit \(Conduit.version)")
  }

  /// Prints the findings and exits with 1 when they stop the compile.
  func refuseOnErrors(_ diagnostics: DiagnosticEngine) throws {
    let findings = diagnostics.diagnostics
    let errors = findings.contains { $0.severity == .error && $0.acceptedRisk == nil }
    let warnings = findings.contains { $0.severity == .warning && $0.acceptedRisk == nil }
    guard errors || (strict && warnings) else { return }
    printError(TextDiagnosticRenderer().render(findings) + "conduit: compile refused; nothing was written\n")
    throw ExitCode(1)
  }
}
