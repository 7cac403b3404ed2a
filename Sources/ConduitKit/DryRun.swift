import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyAnalysis
import PolicyLanguage
import PolicyModel

/// What `apply --dry-run` found: what applying the artifact would change in the live table, and what `apply` would
/// refuse. Nothing is sent, no lock is taken and nothing is written (not even the state directory).
public struct DryRunReport: Sendable {
  /// How the change is shown.
  public enum View: Sendable {
    /// No table of the artifact's name is live: `apply` creates this one.
    case creation(ComparableTable)
    /// The live table is the confirmed artifact's, without drift: the flows the new artifact adds and removes
    /// (`FlowTableDifference`, chains named by `oldConduits` and `newConduits`, a flow table's chain index to the
    /// conduit's name), and the differences of the table's objects beside them (the flow maps' elements and the
    /// identity aside); `flowMapElementChanges` counts the flow maps' elements added and removed.
    case flows(
      FlowTableDifference, oldConduits: [String], newConduits: [String], otherDifferences: [TableDifference],
      flowMapElementChanges: Int)
    /// Otherwise: the differences of the table's objects from the live table to the artifact's, and why the flow
    /// view is not possible.
    case objects(reason: String, differences: [TableDifference])
  }

  /// The artifact's table (`inet NAME`).
  public var table: String
  public var networkNamespace: String?
  /// The state directory consulted (it may not exist).
  public var stateDirectory: String
  /// The live table's identity, if it has one.
  public var liveIdentity: NftablesIdentity?
  /// The identity the artifact gives the table.
  public var newIdentity: NftablesIdentity?
  public var view: View
  /// What `apply` with the same options would refuse, each a sentence.
  public var refusals: [String] = []
  /// What `apply` would do beside changing the table (other tables deleted, a pending apply dropped, a table without
  /// identity replaced).
  public var notes: [String] = []
  /// What the operator should know that changes nothing (open sessions the lock-out guard does not guard).
  public var remarks: [String] = []
  /// Whether applying would change the kernel's ruleset (or the state directory's pending apply).
  public var wouldChange: Bool
  /// Names flows by the assets of the policy compiled, when the input was one.
  var flowNames = FlowDescription([])

  /// Whether `apply` would go through and change nothing: exit 0; otherwise 1.
  public var isNothingToDo: Bool { !wouldChange && refusals.isEmpty }

  /// The report as lines for the terminal; kernel and input text escaped.
  public var lines: [String] {
    var out: [String] = []
    let place = networkNamespace.map { " in network namespace \(TerminalText.escaped($0))" } ?? ""
    let subject = "table inet \(TerminalText.escaped(table))\(place)"
    switch view {
    case .creation(let new):
      let chains = new.chains.map { TerminalText.escaped($0.name) }.joined(separator: ", ")
      let sets = new.sets.map { TerminalText.escaped($0.name) }.joined(separator: ", ")
      out.append("\(subject) does not exist; apply would create it:")
      out.append("  \(new.chains.count) chains (\(chains))")
      out.append("  \(new.sets.count) sets (\(sets)) holding \(new.elementCount) elements")
      out.append("  \(new.ruleCount) rules")
      if let newIdentity { out.append("  identity \(TerminalText.escaped(newIdentity.comment))") }
    case .flows(let difference, let oldConduits, let newConduits, let others, let flowMapElements):
      let identity = liveIdentity.map { " (\(TerminalText.escaped($0.comment)))" } ?? ""
      out.append("\(subject) runs the confirmed artifact\(identity), without drift")
      if liveIdentity != newIdentity, let newIdentity {
        out.append(
          "identity: \(TerminalText.escaped(newIdentity.comment)) replaces \(TerminalText.escaped(liveIdentity?.comment ?? "none"))"
        )
      }
      if difference.isEmpty {
        out.append("no flow is added or removed")
        if flowMapElements > 0 {
          out.append(
            "\(flowMapElements) element\(flowMapElements == 1 ? "" : "s") of the flow maps change without changing a flow "
              + "(their layout, or the policy lines they count for)")
        }
      } else {
        out += Self.flowLines(difference, oldConduits: oldConduits, newConduits: newConduits, names: flowNames)
      }
      if !others.isEmpty {
        out.append("other table objects apply would change:")
        out += others.map { "  \($0)" }
      }
    case .objects(let reason, let differences):
      out.append("no flow view: \(reason)")
      if differences.isEmpty {
        out.append("\(subject): its objects equal the artifact's")
      } else {
        out.append("\(subject): table objects apply would change (from the live table to the artifact's):")
        out += differences.map { "  \($0)" }
      }
    }
    out += notes.map { "note: apply would \($0)" }
    out += remarks.map { "note: \($0)" }
    out += refusals.map { "apply would refuse: \($0)" }
    if !refusals.isEmpty {
      out.append("dry run: apply would not go through; nothing was changed")
    } else if wouldChange {
      out.append("dry run: apply would change \(subject); nothing was changed")
    } else {
      out.append("dry run: nothing would change")
    }
    return out
  }

  /// The flows in `conduit diff`'s text form: per conduit, `+` added and `-` removed, then a count line.
  static func flowLines(
    _ difference: FlowTableDifference, oldConduits: [String], newConduits: [String], names: FlowDescription
  ) -> [String] {
    func conduit(_ index: Int, _ conduits: [String]) -> String {
      index < conduits.count ? conduits[index] : "chain \(index)"
    }
    let parts =
      difference.added.map { ("+", conduit($0.chain, newConduits), $0) }
      + difference.removed.map { ("-", conduit($0.chain, oldConduits), $0) }
    var out: [String] = []
    var byConduit: [String: [String]] = [:]
    for (sign, name, change) in parts {
      byConduit[name, default: []].append(
        "  \(sign) \(names.flow(change.sources, change.destinations, change.kind, change.selectors))")
    }
    for name in byConduit.keys.sorted() {
      out.append("conduit '\(TerminalText.escaped(name))':")
      out += byConduit[name]!
    }
    out.append("\(difference.added.count) added, \(difference.removed.count) removed")
    return out
  }
}

/// `apply --dry-run`: compares the artifact with the live table of the target namespace (OPERATIONS.md). The flow
/// view needs the live table to be the state directory's confirmed artifact (its identity) without drift
/// (`ComparableTable`); otherwise the table's objects are compared.
public enum DryRun {
  /// What applying `artifact` with `options` would do; the assets of `policy` (the one `artifact` was compiled
  /// from, if any) name the flows.
  public static func report(_ artifact: NftablesArtifact, options: SafeApplyOptions, policy: Policy? = nil)
    throws(PipelineStop) -> DryRunReport
  {
    if let name = options.networkNamespace {
      do throws(KernelSessionError) {
        let path = try KernelSession.networkNamespacePath(name)
        guard access(path, F_OK) == 0 else { throw .system("no network namespace '\(name)' (\(path))", errno: errno) }
      } catch {
        throw PipelineStop(.failed, error.description)
      }
    }
    let table = artifact.header.table
    let interfaces = artifact.interfaces
    let live = try SafeApply.inNamespace(options.networkNamespace) { () throws(PipelineStop) -> LiveState in
      try liveState(table: table, interfaces: interfaces)
    }
    let state = try StateDirectory.resolve(
      root: options.stateRoot, networkNamespace: options.networkNamespace, creating: false)
    let new: ComparableTable
    do { new = try ComparableTable(batch: artifact.batch.bytes) } catch {
      throw PipelineStop(.unusableInput, "the artifact's batch cannot be compared: \(error)")
    }
    var report = DryRunReport(
      table: table, networkNamespace: options.networkNamespace, stateDirectory: state.path,
      liveIdentity: live.table?.identity, newIdentity: artifact.identity, view: .creation(new), wouldChange: true,
      flowNames: FlowDescription(policy.map { [$0] } ?? []))
    try addRefusals(to: &report, artifact, live, state, options)
    if !options.noGuard { try addLockOutGuard(to: &report, artifact, live, state, options) }
    if let unlistable = live.unlistable {
      if options.confirmSeconds != nil { report.refusals.append("--confirm is refused: \(unlistable)") }
      report.view = .objects(reason: "the live table cannot be compared: \(unlistable)", differences: [])
      return report
    }
    guard let current = live.table else { return report }
    let differences = current.differences(to: new)
    report.wouldChange = !differences.isEmpty || !report.notes.isEmpty
    switch confirmedWithoutDrift(current, state) {
    case .success(let confirmed):
      let flows = FlowTableDifference(from: confirmed.flowTable, to: artifact.flowTable)
      let flowMapElements = differences.filter { $0.elementSet.map(ComparableTable.flowMapNames.contains) ?? false }
      let others = differences.filter { difference in
        if difference.elementSet.map(ComparableTable.flowMapNames.contains) ?? false { return false }
        if case .chain(NftablesIdentity.chainName) = difference.object, case .commentDiffers = difference.change {
          return false
        }
        return true
      }
      let oldTable = (try? ComparableTable(batch: confirmed.batch.bytes)) ?? current
      report.view = .flows(
        flows, oldConduits: oldTable.conduitChains.map(\.conduit), newConduits: new.conduitChains.map(\.conduit),
        otherDifferences: others, flowMapElementChanges: flowMapElements.count)
    case .failure(let reason):
      report.view = .objects(reason: reason.description, differences: differences)
    }
    return report
  }

  /// What the target namespace holds, read there.
  struct LiveState: Sendable {
    var conduitTables: [String]
    var table: ComparableTable?
    var unlistable: String?
    var missingInterfaces: [String]
  }

  private static func liveState(table: String, interfaces: [String]) throws(PipelineStop) -> LiveState {
    let missing = interfaces.filter { if_nametoindex($0) == 0 }
    do throws(KernelSessionError) {
      let session = try KernelSession()
      let names = try session.conduitTableNames()
      guard names.contains(table) else {
        return LiveState(conduitTables: names, table: nil, unlistable: nil, missingInterfaces: missing)
      }
      do throws(KernelSessionError) {
        guard let dumped = try session.liveTable(named: table) else {
          return LiveState(conduitTables: names, table: nil, unlistable: nil, missingInterfaces: missing)
        }
        do {
          return LiveState(
            conduitTables: names, table: try ComparableTable(live: dumped), unlistable: nil,
            missingInterfaces: missing)
        } catch {
          return LiveState(conduitTables: names, table: nil, unlistable: error.description, missingInterfaces: missing)
        }
      } catch {
        guard case .unsaveable(let problem) = error else { throw error }
        return LiveState(conduitTables: names, table: nil, unlistable: problem, missingInterfaces: missing)
      }
    } catch {
      if error.isPermissionDenied {
        throw PipelineStop(
          .failed,
          "permission denied: a dry run lists the live ruleset, which needs CAP_NET_ADMIN (run as root); nothing "
            + "was changed")
      }
      throw PipelineStop(.failed, "\(error); nothing was changed")
    }
  }

  /// Why the flow view is not possible, as the operator reads it.
  struct NoFlowView: Error, CustomStringConvertible {
    var description: String
  }

  /// The confirmed artifact, when the live table is it (identity) without drift.
  private static func confirmedWithoutDrift(_ live: ComparableTable, _ state: StateDirectory)
    -> Result<NftablesArtifact, NoFlowView>
  {
    let path = TerminalText.escaped(state.path)
    let bytes: [UInt8]?
    do { bytes = try state.read(StateDirectory.File.confirmedArtifact) } catch {
      return .failure(NoFlowView(description: "the confirmed artifact cannot be read: \(error)"))
    }
    guard let bytes else { return .failure(NoFlowView(description: "no confirmed artifact in '\(path)'")) }
    let confirmed: NftablesArtifact
    do { confirmed = try NftablesArtifact(decoding: bytes) } catch {
      return .failure(NoFlowView(description: "the confirmed artifact in '\(path)' is refused: \(error)"))
    }
    guard confirmed.header.table == live.name else {
      return .failure(
        NoFlowView(description: "the confirmed artifact in '\(path)' is of table \(confirmed.header.table)"))
    }
    guard let identity = live.identity else {
      return .failure(NoFlowView(description: "the live table has no identity, so no conduit apply is known to run it"))
    }
    guard identity == confirmed.identity else {
      return .failure(
        NoFlowView(
          description: "the live table's identity (\(TerminalText.escaped(identity.comment))) is not the confirmed "
            + "artifact's (\(TerminalText.escaped(confirmed.identity?.comment ?? "none"))); its drift is unknown"))
    }
    let expected: ComparableTable
    do { expected = try ComparableTable(batch: confirmed.batch.bytes) } catch {
      return .failure(NoFlowView(description: "the confirmed artifact cannot be compared: \(error)"))
    }
    let drift = expected.differences(to: live)
    guard drift.isEmpty else {
      let shown = drift.prefix(3).map(\.description).joined(separator: "; ")
      let more = drift.count > 3 ? " and \(drift.count - 3) more" : ""
      return .failure(
        NoFlowView(description: "the live table has drifted from the confirmed artifact: \(shown)\(more)"))
    }
    return .success(confirmed)
  }

  /// What the lock-out guard of `apply` would refuse (open management sessions the new ruleset would not admit
  /// again, with the confirmed artifact's line that admits them today when it is what runs), and the sessions it
  /// would not guard.
  private static func addLockOutGuard(
    to report: inout DryRunReport, _ artifact: NftablesArtifact, _ live: LiveState, _ state: StateDirectory,
    _ options: SafeApplyOptions
  ) throws(PipelineStop) {
    let confirmed = SafeApply.confirmedArtifact(state)
    let running = live.table != nil && confirmed?.identity == report.liveIdentity ? confirmed : nil
    let present = live.conduitTables.contains(artifact.header.table)
    let verdict = try SafeApply.inNamespace(options.networkNamespace) {
      () throws(PipelineStop) -> Result<[String], PipelineStop> in
      do throws(PipelineStop) {
        return .success(try SafeApply.guarded(artifact, options, live: running, liveTablePresent: present))
      } catch {
        return .failure(error)
      }
    }
    switch verdict {
    case .success(let notes): report.remarks += notes
    case .failure(let stop):
      report.refusals.append(stop.description.replacingOccurrences(of: "; nothing was applied", with: ""))
    }
  }

  /// What `apply` with the same options would refuse (OPERATIONS.md), and what it would do beside the table.
  private static func addRefusals(
    to report: inout DryRunReport, _ artifact: NftablesArtifact, _ live: LiveState, _ state: StateDirectory,
    _ options: SafeApplyOptions
  ) throws(PipelineStop) {
    if let pending = try SafeApply.readPending(state) {
      let what =
        "an apply of table \(TerminalText.escaped(pending.table)) is pending (rolled back at \(pending.deadlineText) unless confirmed)"
      if options.boot {
        report.notes.append("drop the pending apply: \(what)")
      } else {
        report.refusals.append(
          "\(what); run `conduit confirm\(SafeApply.namespaceOption(pending.networkNamespace))` or "
            + "`conduit rollback\(SafeApply.namespaceOption(pending.networkNamespace))` first")
      }
    }
    if !live.missingInterfaces.isEmpty, !options.force, !options.boot {
      let names = live.missingInterfaces.map(TerminalText.escaped).joined(separator: ", ")
      report.refusals.append(
        "interface\(live.missingInterfaces.count == 1 ? "" : "s") \(names) of gateway "
          + "'\(artifact.header.gateway ?? "-")' do not exist here (--force applies anyway)")
    }
    if live.conduitTables.contains(artifact.header.table), live.unlistable == nil {
      if let identity = report.liveIdentity {
        let expected = artifact.identity
        if identity.gateway != expected?.gateway || identity.site != expected?.site, !options.replace {
          report.refusals.append(
            "table \(artifact.header.table) here belongs to gateway '\(TerminalText.escaped(identity.gateway ?? "-"))' "
              + "of site '\(TerminalText.escaped(identity.site ?? "-"))', not to gateway "
              + "'\(artifact.header.gateway ?? "-")' (--replace replaces it)")
        }
      } else {
        report.notes.append("replace table \(artifact.header.table), which has no identity (an older conduit's)")
      }
    }
    let others = live.conduitTables.filter { $0 != artifact.header.table }
    if !others.isEmpty {
      let names = others.map(TerminalText.escaped).joined(separator: ", ")
      if options.replace {
        report.notes.append("delete the other conduit tables \(names) in the same transaction")
      } else {
        report.refusals.append(
          "other conduit tables are present (\(names)): both would drop (--replace deletes them in the same "
            + "transaction)")
      }
    }
  }
}
