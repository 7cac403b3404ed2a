import ArgumentParser
import ConduitKit
import Foundation
import PolicyLanguage

/// Where the pending apply is: the namespace and the state directory's root.
struct PendingApplyOptions: ParsableArguments {
  @Option(help: "The network namespace of the pending apply (/run/netns/NAME).")
  var netns: String?

  @Option(help: "The state directory's root (default $CONDUIT_STATE_DIR or /var/lib/conduit).")
  var stateDir: String?
}

/// `conduit confirm`: keep the last `apply --confirm`.
struct ConfirmCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "confirm",
    abstract: "Keep the ruleset of the pending `apply --confirm`.",
    discussion: """
      The pending artifact becomes the confirmed one, the watchdog is disarmed, and the tracked connections the new \
      ruleset no longer allows are cut now. Exit status: 0 confirmed, 1 nothing is pending, 2 the state or the \
      kernel failed.
      """)

  @OptionGroup var location: PendingApplyOptions

  func run() throws {
    let report = try stage { () throws(PipelineStop) in
      try SafeApply.confirm(
        networkNamespace: location.netns, stateRoot: location.stateDir, waiting: { reportWaiting($0) })
    }
    var lines = ["confirmed \(tableDescription(report.pending))"]
    switch report.cutConnections {
    case .success(let cut):
      lines.append("cut \(cut) tracked connection\(cut == 1 ? "" : "s") the new ruleset no longer allows")
    case .failure(let error):
      reportWarning("the ruleset is confirmed, but connection tracking could not be cleaned: \(error)")
    }
    do { try StandardStreams.write([Array(lines.map { $0 + "\n" }.joined().utf8)]) } catch {
      reportError("\(error) (the ruleset is confirmed)")
      throw ExitCode(2)
    }
  }
}

/// `conduit rollback`: undo the last `apply --confirm` now.
struct RollbackCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rollback",
    abstract: "Undo the pending `apply --confirm` now.",
    discussion: """
      conduit's table is restored as it was before the apply (deleted when there was none), in one transaction; \
      on an iptables gateway, the filter tables of both families as iptables-save gave them. \
      Exit status: 0 rolled back, 1 nothing is pending, 2 the state or the kernel failed.
      """)

  @OptionGroup var location: PendingApplyOptions

  func run() throws {
    let pending = try stage { () throws(PipelineStop) in
      try SafeApply.rollback(
        networkNamespace: location.netns, stateRoot: location.stateDir, waiting: { reportWaiting($0) })
    }
    do {
      try StandardStreams.write([
        Array(
          "rolled back \(tableDescription(pending)): restored \(TerminalText.escaped(pending.restoreSummary))\n".utf8)
      ])
    } catch {
      reportError("\(error) (the rollback is done)")
      throw ExitCode(2)
    }
  }
}

/// What a pending apply changed, in words: `table inet NAME` or the iptables filter tables.
func tableDescription(_ pending: PendingApply) -> String {
  if pending.action == SafeRemove.action { return "the removal of table inet \(pending.table)" }
  return pending.target == IptablesGatewayApply.target
    ? "the iptables and ip6tables filter tables" : "table inet \(pending.table)"
}

/// `conduit watchdog`: the rollback armed by `apply --confirm`, run detached or by a systemd timer.
struct WatchdogCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "watchdog", abstract: "Roll back a pending apply at its deadline (armed by `apply --confirm`).",
    shouldDisplay: false)

  @Option(help: "The state directory of the pending apply.")
  var stateDir: String

  @Option(help: "The token of the pending apply to roll back.")
  var token: String

  @Option(help: "The network namespace of the pending apply.")
  var netns: String?

  func run() throws {
    SafeApply.closeInheritedDescriptors()
    let status = SafeApply.watch(statePath: stateDir, token: token, networkNamespace: netns)
    if status != 0 { throw ExitCode(status) }
  }
}
