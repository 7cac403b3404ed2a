import Foundation
import NftablesBackend
import PolicyLanguage

/// What `remove` did.
public struct RemoveReport: Sendable {
  /// The conduit tables deleted.
  public var tables: [String]
  public var networkNamespace: String?
  /// Set when the removal waits for `confirm`.
  public var pending: PendingApply?
  public var stateDirectory: String
}

/// `conduit remove` (OPERATIONS.md): conduit's tables are deleted in one transaction, under the same lock and
/// one-pending rule as `apply`; with `--confirm` they are saved first and the watchdog armed, so that a removal
/// nobody confirms puts them back. A confirmed removal forgets the confirmed artifact, so the boot unit applies
/// nothing.
public enum SafeRemove {
  /// The `action` of a pending removal's record.
  public static let action = "remove"

  /// Deletes every conduit table of the target namespace (`options.confirmSeconds` as for apply).
  public static func remove(options: SafeApplyOptions, waiting: (String) -> Void) throws(PipelineStop) -> RemoveReport {
    let state = try SafeApply.stateDirectory(options)
    let lock = try state.lock(for: "removal of conduit's tables", waiting: waiting)
    defer { withExtendedLifetime(lock) {} }
    if let pending = try SafeApply.readPending(state) { throw SafeApply.pendingRefusal(pending) }
    let saved = try SafeApply.inNamespace(options.networkNamespace) { () throws(PipelineStop) -> SavedTables in
      do throws(KernelSessionError) {
        let session = try KernelSession()
        let present = try session.conduitTableNames()
        guard !present.isEmpty else {
          throw KernelSessionError.malformed("no conduit table is loaded here; nothing was removed")
        }
        var live: [LiveTable] = []
        if options.confirmSeconds != nil {
          for name in present {
            if let table = try session.liveTable(named: name) { live.append(table) }
          }
        }
        do { return try SavedTables(removing: present, tables: live) } catch {
          throw KernelSessionError.malformed("\(error)")
        }
      } catch {
        if case .unsaveable(let problem) = error {
          throw PipelineStop(.refused, "--confirm is refused: \(problem); nothing was removed")
        }
        if case .malformed(let text) = error, text.hasPrefix("no conduit table") { throw PipelineStop(.refused, text) }
        throw SafeApply.kernelStop(error)
      }
    }
    let deletion: SavedTables
    do { deletion = try SavedTables(removing: saved.removing, tables: []) } catch {
      throw PipelineStop(.failed, "\(error)")
    }
    guard let seconds = options.confirmSeconds else {
      try delete(deletion, options)
      try forgetConfirmed(state)
      state.log("removed \(saved.removing.joined(separator: ", ")); nothing is confirmed any more")
      return RemoveReport(
        tables: saved.removing, networkNamespace: options.networkNamespace, pending: nil, stateDirectory: state.path)
    }
    let restore = saved.encoded()
    try state.write(StateDirectory.File.restore, restore)
    let now = Date()
    var pending = PendingApply(
      token: SafeApply.randomToken(), table: saved.removing[0], site: nil, gateway: nil, compileDigest: "",
      artifactSHA256: "", restoreSHA256: NftablesArtifact.sha256(restore),
      restoreSummary: saved.tables.map { "table \($0.name) (\($0.summary))" }.joined(separator: ", "),
      appliedAt: now.timeIntervalSince1970, deadline: now.timeIntervalSince1970 + Double(seconds),
      networkNamespace: options.networkNamespace, watchdog: nil)
    pending.action = action
    try SafeApply.armAndSend(&pending, state, seconds: seconds, what: "the removal \(pending.token)") {
      (_) throws(PipelineStop) in try delete(deletion, options)
    }
    return RemoveReport(
      tables: saved.removing, networkNamespace: options.networkNamespace, pending: pending, stateDirectory: state.path)
  }

  /// `confirm` of a pending removal (the lock held, the watchdog disarmed): nothing is confirmed any more.
  static func confirm(_ pending: PendingApply, state: StateDirectory) throws(PipelineStop) -> SafeApply.ConfirmReport {
    try forgetConfirmed(state)
    try SafeApply.dropPending(state)
    state.log("confirmed the removal \(pending.token) of table \(pending.table)")
    return SafeApply.ConfirmReport(pending: pending, cutConnections: .success(0))
  }

  private static func delete(_ deletion: SavedTables, _ options: SafeApplyOptions) throws(PipelineStop) {
    try SafeApply.inNamespace(options.networkNamespace) { () throws(PipelineStop) in
      do throws(KernelSessionError) { try KernelSession().restore(deletion) } catch {
        throw SafeApply.kernelStop(error)
      }
    }
  }

  private static func forgetConfirmed(_ state: StateDirectory) throws(PipelineStop) {
    try state.remove(StateDirectory.File.confirmedArtifact)
    try state.remove(StateDirectory.File.confirmedRecord)
  }
}
