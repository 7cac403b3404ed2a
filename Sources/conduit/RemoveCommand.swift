import ArgumentParser
import ConduitKit
import Foundation
import PolicyLanguage

/// `conduit remove`: delete conduit's table, confirmed at once or, with `--confirm`, only if `confirm` follows.
struct RemoveCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "remove",
    abstract: "Delete conduit's table from the kernel (with --confirm, undone unless `conduit confirm` follows).",
    discussion: """
      Every conduit table of the namespace is deleted in one transaction; nothing else is touched. With --confirm \
      the tables are saved first and the watchdog armed, as for apply. A removal that stands forgets the confirmed \
      artifact, so the boot unit applies nothing. Exit status: 0 removed, 1 no conduit table or an apply pending, \
      2 the state or the kernel failed, no permission or no such namespace, 64 usage.
      """)

  @OptionGroup var location: PendingApplyOptions

  @Option(
    help: ArgumentHelp(
      "Keep the removal only if `conduit confirm` follows within SECONDS; otherwise the tables are put back.",
      valueName: "seconds"))
  var confirm: Int?

  func validate() throws {
    if let confirm, confirm < 1 || confirm > 86_400 {
      throw ValidationError("'--confirm' takes 1 to 86400 seconds")
    }
  }

  func run() throws {
    var options = SafeApplyOptions(networkNamespace: location.netns, stateRoot: location.stateDir)
    options.confirmSeconds = confirm
    let report = try stage { () throws(PipelineStop) in
      try SafeRemove.remove(options: options, waiting: { reportWaiting($0) })
    }
    let place = report.networkNamespace.map { " in network namespace \(TerminalText.escaped($0))" } ?? ""
    let tables = report.tables.map { "table inet \(TerminalText.escaped($0))" }.joined(separator: ", ")
    var lines = ["removed \(tables)\(place)" + (report.pending == nil ? "" : ", pending confirmation")]
    if let pending = report.pending {
      let option = report.networkNamespace.map { " --netns \(TerminalText.escaped($0))" } ?? ""
      lines.append(
        "run `conduit confirm\(option)` before \(StateDirectory.timestamp(Date(timeIntervalSince1970: pending.deadline))) "
          + "or it is put back; `conduit rollback\(option)` puts it back now")
    }
    do { try StandardStreams.write([Array(lines.map { $0 + "\n" }.joined().utf8)]) } catch {
      reportError("\(error) (the removal is done)")
      throw ExitCode(2)
    }
  }
}
