import Foundation
import NftablesBackend

/// How `apply` changed conduit's live table (OPERATIONS.md, Incremental apply).
public enum ApplyMethod: Sendable, Equatable, CustomStringConvertible {
  /// Only the difference was sent: elements deleted and added, chains replaced, the identity re-added.
  case incremental(elementsRemoved: Int, elementsAdded: Int, chainsReplaced: Int)
  /// The table was replaced whole; the reason says why no difference was sent.
  case fullReplace(reason: String)

  public var description: String {
    switch self {
    case .incremental(let removed, let added, let chains):
      "incremental apply: \(removed) element\(removed == 1 ? "" : "s") removed, \(added) added, "
        + "\(chains) chain\(chains == 1 ? "" : "s") replaced"
    case .fullReplace(let reason): "full replace (\(reason))"
    }
  }
}

/// The send step of `apply`: the difference to the live table when it is the confirmed artifact without drift,
/// else (or when the kernel refuses the difference, which then changed nothing) the whole table.
enum IncrementalApply {
  /// The environment variable that makes `apply` say on standard error how long the kernel took to answer its
  /// transaction (`scripts/benchmark-incremental`).
  static let timingVariable = "CONDUIT_REPORT_TRANSACTION_TIME"

  /// Runs `send` and, when `timingVariable` is set, reports how long it took.
  static func timed(_ what: String, _ send: () throws(KernelSessionError) -> Void) throws(KernelSessionError) {
    guard ProcessInfo.processInfo.environment[timingVariable] != nil else { return try send() }
    let start = DispatchTime.now().uptimeNanoseconds
    try send()
    let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
    FileHandle.standardError.write(
      Data("conduit: \(what) transaction: \(String(format: "%.1f", milliseconds)) ms\n".utf8))
  }

  /// Sends `artifact` in the calling thread's namespace, deleting the conduit tables `others` in the same
  /// transaction (always a full replace); returns how, and the ruleset's generation id after it when that
  /// transaction is provably the last one (the id one above the one before it).
  static func send(
    _ artifact: NftablesArtifact, deleting others: [String], confirmed: NftablesArtifact?, state: StateDirectory
  ) throws(KernelSessionError) -> (ApplyMethod, UInt32?) {
    let session = try KernelSession()
    let before = try? session.generationID()
    func generation() -> UInt32? {
      guard let before, let after = try? session.generationID(), after == before &+ 1 else { return nil }
      return after
    }
    var reason = "other conduit tables are deleted in the same transaction"
    if others.isEmpty {
      switch try difference(artifact, confirmed: confirmed, state: state, session: session, generation: before) {
      case .difference(let batch):
        do throws(KernelSessionError) {
          try timed("incremental") { () throws(KernelSessionError) in try session.send(batch) }
          return (
            .incremental(
              elementsRemoved: batch.elementsRemoved, elementsAdded: batch.elementsAdded,
              chainsReplaced: batch.chainsReplaced), generation()
          )
        } catch {
          guard case .rejected(let rejection) = error else { throw error }
          reason =
            rejection.errno == ERESTART
            ? "the ruleset changed while the difference was prepared"
            : "the kernel refused the difference: \(String(cString: strerror(rejection.errno)))"
              + (rejection.kernelMessage.map { ": \($0)" } ?? "")
        }
      case .inexpressible(let why):
        reason = why
      }
    }
    try timed("full") { () throws(KernelSessionError) in try session.send(artifact.batch, deletingFirst: others) }
    return (.fullReplace(reason: reason), generation())
  }

  /// The difference from the live table to `artifact`, or why there is none to send.
  static func difference(
    _ artifact: NftablesArtifact, confirmed: NftablesArtifact?, state: StateDirectory, session: KernelSession,
    generation: UInt32?
  ) throws(KernelSessionError) -> IncrementalBatch.Outcome {
    let table = artifact.header.table
    guard let confirmed else { return .inexpressible("no confirmed artifact in the state directory") }
    guard let bytes = try? state.read(StateDirectory.File.confirmedRecord),
      let record = try? JSONDecoder().decode(ConfirmedApply.self, from: Data(bytes)),
      record.compileDigest == confirmed.header.compileDigest
    else { return .inexpressible("the confirmed record does not describe the confirmed artifact") }
    switch try LiveDrift.of(table: table, confirmed: confirmed, record: record, session: session) {
    case .none: break
    case .noTable: return .inexpressible("no table \(table) is live")
    case .unknown(let why): return .inexpressible(why)
    case .drifted(let differences):
      return .inexpressible(
        "the live table has drifted from the confirmed artifact: "
          + differences.prefix(3).map(\.description).joined(separator: "; ")
          + (differences.count > 3 ? "; and \(differences.count - 3) more" : ""))
    }
    return IncrementalBatch.between(confirmed.batch, artifact.batch, generation: generation)
  }
}
