import ArgumentParser
import ConduitKit
import PolicyLanguage

/// `conduit apply FILE|POLICY`: load an nft artifact (or compile a policy) into the kernel as one transaction that
/// replaces conduit's own table and nothing else.
struct ApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Apply an nft artifact (or a policy) to the kernel atomically.",
    discussion: """
      The artifact is verified (magic, version, SHA-256) before anything is sent; its interfaces must exist in the \
      target namespace unless --force. Exit status: 0 applied, 1 the kernel rejected the batch (nothing changed), \
      2 unreadable or damaged input, no permission or no such namespace, 64 usage.
      """)

  @Argument(help: "An artifact from `conduit compile --target nft`, or a policy file (.conduit).")
  var input: String

  @Option(help: "The gateway to compile for, when INPUT is a policy with several gateways.")
  var gateway: String?

  @Option(help: "Apply inside this network namespace (/run/netns/NAME).")
  var netns: String?

  @Flag(help: "Apply even when an interface the ruleset names does not exist.")
  var force = false

  @Option(name: .customLong("mitigation"), help: "When INPUT is a policy: compile this mitigation in (repeatable).")
  var mitigations: [String] = []

  @Option(help: "When INPUT is a policy: the asset baseline, overriding the policy's.")
  var baseline: String?

  @OptionGroup var date: DayOption

  @Option(help: "Keep the new ruleset only if `conduit confirm` follows within SECONDS (not available yet).")
  var confirm: Int?

  @Flag(help: "Show what would change without applying (not available yet).")
  var dryRun = false

  func validate() throws {
    if confirm != nil {
      throw ValidationError("'--confirm' arrives with the safe-apply work; it is not available yet")
    }
    if dryRun {
      throw ValidationError("'--dry-run' arrives with the safe-apply work; it is not available yet")
    }
  }

  func run() throws {
    let request = CompileRequest(
      policy: PolicyRequest(policyPath: input, baselinePath: baseline, today: date.day), gateway: gateway,
      mitigations: mitigations)
    let artifact = try stage { () throws(PipelineStop) in try GatewayApply.artifact(at: input, compiling: request) }
    let report = try stage { () throws(PipelineStop) in
      try GatewayApply.apply(artifact, networkNamespace: netns, force: force)
    }
    var unreported: StandardOutputError?
    func writeLine(_ line: String) {
      guard unreported == nil else { return }
      do { try StandardStreams.write([Array((line + "\n").utf8)]) } catch { unreported = error }
    }
    writeLine(
      "applied table inet \(report.table)"
        + (report.networkNamespace.map { " in network namespace \(TerminalText.escaped($0))" } ?? ""))
    switch report.cutConnections {
    case .success(let cut):
      writeLine("cut \(cut) tracked connection\(cut == 1 ? "" : "s") the new ruleset no longer allows")
    case .failure(let error):
      reportWarning("the ruleset is applied, but connection tracking could not be cleaned: \(error)")
    }
    if let unreported {
      reportError("\(unreported) (the ruleset is applied)")
      throw ExitCode(2)
    }
  }
}
