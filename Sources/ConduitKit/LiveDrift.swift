import Foundation
import NftablesBackend

/// Whether conduit's live table is still the confirmed artifact (OPERATIONS.md, Drift): the live table, dumped over
/// netlink, compared with the confirmed artifact's batch, ignoring handles, counters, element order and dynamic
/// sets; the ruleset's generation id, unchanged since conduit's own commit, proves no drift without a dump.
public enum LiveDrift: Sendable, Equatable {
  /// The live table is the confirmed artifact's; `byGeneration` when the generation id proved it.
  case none(byGeneration: Bool)
  /// The live table differs from the confirmed artifact's, object by object.
  case drifted([TableDifference])
  /// Nothing to compare with: no conduit apply installed this table (no confirmed artifact, or one of another
  /// table or identity); the reason says which.
  case unknown(String)
  /// No table of that name is live.
  case noTable

  /// The drift of table `inet table` in the calling thread's namespace against the state directory's confirmed
  /// artifact (`confirmed`, with its `record`).
  public static func of(
    table: String, confirmed: NftablesArtifact?, record: ConfirmedApply?, session: KernelSession
  ) throws(KernelSessionError) -> LiveDrift {
    guard try session.conduitTableNames().contains(table) else { return .noTable }
    guard let confirmed, let record, record.target == nil, record.table == table, confirmed.header.table == table
    else { return .unknown("no conduit apply recorded table \(table) in the state directory") }
    if let generation = record.generation, try session.generationID() == generation { return .none(byGeneration: true) }
    let identity = try session.identity(ofTable: table)
    guard identity == confirmed.identity else {
      return .unknown(
        "the live table's identity (\(identity?.comment ?? "none")) is not the confirmed artifact's "
          + "(\(confirmed.identity?.comment ?? "none"))")
    }
    guard let live = try session.liveTable(named: table) else { return .noTable }
    do {
      let differences = try ComparableTable(batch: confirmed.batch.bytes).differences(to: ComparableTable(live: live))
      return differences.isEmpty ? .none(byGeneration: false) : .drifted(differences)
    } catch {
      throw .malformed("the live table cannot be compared: \(error)")
    }
  }
}
