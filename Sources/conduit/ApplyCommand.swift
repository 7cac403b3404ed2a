import ArgumentParser
import ConduitKit
import Foundation
import PolicyLanguage

/// `conduit apply FILE|POLICY`: load an nft artifact (or compile a policy) into the kernel as one transaction that
/// replaces conduit's own table and nothing else.
struct ApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Apply an nft artifact (or a policy) to the kernel atomically.",
    discussion: """
      The artifact is verified (magic, version, SHA-256) before anything is sent; its interfaces must exist in the \
      target namespace unless --force. Before anything is sent, every established TCP session to the gateway's \
      port 22 and each --guard-port must still be admitted by the new ruleset as a new connection (on the \
      interface the route toward the client gives); otherwise apply refuses unless --no-guard. Exit status: 0 \
      applied, 1 refused (a lock-out, a pending apply, another gateway's table) or the kernel rejected the batch \
      (nothing changed), 2 unreadable or damaged input, no permission or no such namespace, 64 usage.

      --dry-run sends nothing, takes no lock and writes nothing: it lists the live table (root or CAP_NET_ADMIN) \
      and prints what applying would change. When the live table is the state directory's confirmed artifact \
      without drift, it shows the flows added (+) and removed (-) per conduit, as `conduit diff` does; otherwise \
      the table objects (chains, rules, sets, elements) that would change, and why there is no flow view. It also \
      says what apply would refuse (a pending apply, another gateway's table without --replace, other conduit \
      tables, missing interfaces, open management sessions the lock-out guard protects). With --target iptables \
      it shows the lines of each family's filter table that would be added and removed. Exit status: 0 nothing would change, 1 something would or apply would refuse, 2 unreadable input, \
      no permission or no such namespace.
      """)

  @Argument(help: "An artifact from `conduit compile --target nft`, or a policy file (.conduit).")
  var input: String

  @Option(help: "The gateway to compile for, when INPUT is a policy with several gateways.")
  var gateway: String?

  @Option(
    help: ArgumentHelp(
      "The gateway's firewall: nft (conduit's own table), or iptables (the filter tables of both families, from a "
        + "policy).", valueName: "nft|iptables"))
  var target = "nft"

  @Option(help: "Apply inside this network namespace (/run/netns/NAME).")
  var netns: String?

  @Flag(help: "Apply even when an interface the ruleset names does not exist.")
  var force = false

  @Option(name: .customLong("mitigation"), help: "When INPUT is a policy: compile this mitigation in (repeatable).")
  var mitigations: [String] = []

  @Option(help: "When INPUT is a policy: the asset baseline, overriding the policy's.")
  var baseline: String?

  @OptionGroup var date: DayOption

  @Option(
    help: ArgumentHelp(
      "Keep the new ruleset only if `conduit confirm` follows within SECONDS; otherwise it is rolled back.",
      valueName: "seconds"))
  var confirm: Int?

  @Flag(help: "Show what applying would change in the live table, touching nothing (exit 0 nothing, 1 something).")
  var dryRun = false

  @Option(help: "The state directory's root (default $CONDUIT_STATE_DIR or /var/lib/conduit).")
  var stateDir: String?

  @Flag(help: "Replace a table of another gateway, and delete other conduit tables in the same transaction.")
  var replace = false

  @Flag(help: "Applied by the boot unit: missing interfaces are fine, a pending apply is dropped.")
  var boot = false

  @Option(
    name: .customLong("guard-port"),
    help: ArgumentHelp(
      "A management port whose open sessions the new ruleset must still admit, beside 22 (repeatable).",
      valueName: "port"))
  var guardPorts: [UInt16] = []

  @Flag(help: "Apply even when the new ruleset would not admit an open management session again.")
  var noGuard = false

  func validate() throws {
    guard target == "nft" || target == "iptables" else {
      throw ValidationError("'--target' of apply is nft or iptables, not '\(target)'")
    }
    if target == "iptables", boot {
      throw ValidationError("'--boot' applies the confirmed nftables artifact; iptables gateways have no boot unit")
    }
    if guardPorts.contains(0) { throw ValidationError("'--guard-port' takes a port from 1 to 65535") }
    if let confirm, confirm < 1 || confirm > 86_400 {
      throw ValidationError("'--confirm' takes 1 to 86400 seconds")
    }
    if boot, confirm != nil { throw ValidationError("'--boot' applies a confirmed artifact; it takes no '--confirm'") }
  }

  func run() throws {
    let request = CompileRequest(
      policy: PolicyRequest(policyPath: input, baselinePath: baseline, today: date.day), gateway: gateway,
      mitigations: mitigations)
    var options = SafeApplyOptions(networkNamespace: netns, stateRoot: stateDir)
    options.confirmSeconds = confirm
    options.force = force
    options.replace = replace
    options.boot = boot
    options.guardPorts = Set(guardPorts)
    options.noGuard = noGuard
    let report: SafeApplyReport
    let applied: String
    if target == "iptables" {
      guard input.hasSuffix(".conduit") else {
        reportError("'--target iptables' applies a policy (.conduit); there is no iptables artifact")
        throw ExitCode(2)
      }
      let rules = try stage { () throws(PipelineStop) in try Pipeline.iptablesGateway(request) }
      if dryRun {
        let dryRun = try stage { () throws(PipelineStop) in
          try IptablesGatewayApply.dryRun(rules, options: options)
        }
        try printOutput(dryRun.lines.joined(separator: "\n") + "\n")
        if !dryRun.isNothingToDo { throw ExitCode(1) }
        return
      }
      report = try stage { () throws(PipelineStop) in
        try IptablesGatewayApply.apply(rules, options: options, waiting: { reportWaiting($0) })
      }
      applied = "applied the iptables and ip6tables filter tables"
    } else {
      if dryRun {
        let (artifact, policy) = try stage { () throws(PipelineStop) in
          try GatewayApply.artifactAndPolicy(at: input, compiling: request)
        }
        let dryRun = try stage { () throws(PipelineStop) in
          try DryRun.report(artifact, options: options, policy: policy)
        }
        try printOutput(dryRun.lines.joined(separator: "\n") + "\n")
        if !dryRun.isNothingToDo { throw ExitCode(1) }
        return
      }
      report = try stage { () throws(PipelineStop) in
        try GatewayApply.apply(at: input, compiling: request, options: options, waiting: { reportWaiting($0) })
      }
      applied = "applied table inet \(report.table)"
    }
    var unreported: StandardOutputError?
    func writeLine(_ line: String) {
      guard unreported == nil else { return }
      do { try StandardStreams.write([Array((line + "\n").utf8)]) } catch { unreported = error }
    }
    for note in report.notes { writeLine("note: \(TerminalText.escaped(note))") }
    if let method = report.method { writeLine(TerminalText.escaped(method.description)) }
    let place = report.networkNamespace.map { " in network namespace \(TerminalText.escaped($0))" } ?? ""
    if let pending = report.pending {
      let option = report.networkNamespace.map { " --netns \(TerminalText.escaped($0))" } ?? ""
      writeLine("\(applied)\(place), pending confirmation")
      writeLine(
        "run `conduit confirm\(option)` before \(StateDirectory.timestamp(Date(timeIntervalSince1970: pending.deadline))) "
          + "or it is rolled back to \(TerminalText.escaped(pending.restoreSummary)); `conduit rollback\(option)` undoes it now"
      )
    } else {
      writeLine("\(applied)\(place)")
    }
    switch report.cutConnections {
    case .success(let cut):
      writeLine("cut \(cut) tracked connection\(cut == 1 ? "" : "s") the new ruleset no longer allows")
    case .failure(let error):
      reportWarning("the ruleset is applied, but connection tracking could not be cleaned: \(error)")
    case nil: break
    }
    if let unreported {
      reportError("\(unreported) (the ruleset is applied)")
      throw ExitCode(2)
    }
  }
}

/// Says on standard error what a command waits for when another holds the state directory's lock.
func reportWaiting(_ holder: String) {
  printError(
    "conduit: waiting for the state directory's lock, held by \(TerminalText.escaped(holder.isEmpty ? "another conduit command" : holder))\n"
  )
}
