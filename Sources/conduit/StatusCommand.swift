import ArgumentParser
import ConduitKit
import Foundation

/// `conduit status`: what the kernel runs in a namespace, read only (OPERATIONS.md).
struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show which artifact runs, its drift, a pending apply, counters and drops.",
    discussion: """
      Reads the target namespace's ruleset and state directory and changes nothing (no lock, no file written, the \
      state directory is not created): conduit's table and its identity, the confirmed record, drift from the \
      recorded artifact (the ruleset's generation id proves no drift without a dump), a pending apply and its \
      deadline, per-conduit counters of new connections, conduits expired or expiring within 30 days, drops per \
      (input, output) interface and the last dropped flows the kernel keeps, and other conduit tables. On an \
      iptables gateway: the chains' counters and the pending state. Needs root (CAP_NET_ADMIN). Exit status: 0 \
      healthy, 1 drift (or drift unknown, no table), an expired conduit, a pending apply or other conduit tables, \
      2 the state or the kernel could not be read, no permission or no such namespace.
      """)

  @OptionGroup var location: PendingApplyOptions

  @Option(help: ArgumentHelp("Output format.", valueName: "text|json"))
  var format = "text"

  func validate() throws {
    guard format == "text" || format == "json" else {
      throw ValidationError("'--format' of status is text or json, not '\(format)'")
    }
  }

  func run() throws {
    let report = try stage { () throws(PipelineStop) in
      try GatewayStatus.report(networkNamespace: location.netns, stateRoot: location.stateDir)
    }
    try printOutput(format == "json" ? report.json + "\n" : report.lines.joined(separator: "\n") + "\n")
    if !report.isHealthy { throw ExitCode(1) }
  }
}
