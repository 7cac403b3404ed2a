import Conntrack
import Crypto
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyLanguage

/// How `apply` is to treat a live gateway (OPERATIONS.md).
public struct SafeApplyOptions: Sendable {
  /// `--netns NAME`, or nil for the caller's namespace.
  public var networkNamespace: String?
  /// `--state-dir`, or nil for `$CONDUIT_STATE_DIR` or `/var/lib/conduit`.
  public var stateRoot: String?
  /// `--confirm SECONDS`: keep the change only if `confirm` follows in time.
  public var confirmSeconds: Int?
  /// `--force`: apply even when an interface the ruleset names is missing.
  public var force = false
  /// `--replace`: replace a table that names another gateway, and delete other conduit tables.
  public var replace = false
  /// `--boot`: the boot unit's apply (missing interfaces are fine; a pending apply is dropped).
  public var boot = false
  /// `--guard-port`: management ports the lock-out guard protects beside 22.
  public var guardPorts: Set<UInt16> = []
  /// `--no-guard`: apply even when the ruleset would not admit an open management session again.
  public var noGuard = false

  /// The ports the lock-out guard protects.
  public var guardedPorts: Set<UInt16> { guardPorts.union([LockOutGuard.defaultPort]) }

  /// Options with the defaults of a plain `apply`.
  public init(networkNamespace: String? = nil, stateRoot: String? = nil) {
    self.networkNamespace = networkNamespace
    self.stateRoot = stateRoot
  }
}

/// What a pending `apply --confirm` left in the state directory (`pending.json`).
public struct PendingApply: Codable, Sendable, Equatable {
  /// Names this apply; the watchdog acts only for the apply whose token it was given.
  public var token: String
  public var table: String
  public var site: String?
  public var gateway: String?
  public var compileDigest: String
  /// SHA-256 of `pending.nftb`.
  public var artifactSHA256: String
  /// SHA-256 of `restore.bin`.
  public var restoreSHA256: String
  /// What a rollback restores, in words.
  public var restoreSummary: String
  /// When the apply was made and when the watchdog rolls it back (seconds since 1970, UTC).
  public var appliedAt: Double
  public var deadline: Double
  public var networkNamespace: String?
  /// The watchdog armed for it, once armed.
  public var watchdog: Watchdog?
  /// `iptables` for an apply of the iptables filter tables; nil for conduit's nftables table.
  public var target: String? = nil
  /// The ruleset's generation id right after the apply's transaction (nil when another commit may have followed).
  public var generation: UInt32? = nil
  /// `remove` for a pending removal of conduit's tables (`SafeRemove`); nil for an apply.
  public var action: String? = nil

  /// The rollback that fires unless `confirm` comes first.
  public struct Watchdog: Codable, Sendable, Equatable {
    /// `process` (a detached process) or `systemd` (a transient timer unit).
    public var kind: String
    public var pid: Int32?
    public var unit: String?
  }

  var deadlineText: String { StateDirectory.timestamp(Date(timeIntervalSince1970: deadline)) }
}

/// The record of the confirmed artifact (`confirmed.json`).
public struct ConfirmedApply: Codable, Sendable, Equatable {
  public var table: String
  public var site: String?
  public var gateway: String?
  public var compiler: String
  public var compileDigest: String
  public var policyDigest: String
  public var artifactSHA256: String
  public var mitigations: [String]
  public var effectiveDate: String
  public var sources: [String]
  public var appliedAt: Double
  public var confirmedAt: Double
  /// `iptables` for the iptables filter tables; nil for conduit's nftables table.
  public var target: String? = nil
  /// The ruleset's generation id right after conduit's own transaction: while the kernel still reports it, nothing
  /// has changed the ruleset since (nil when unknown).
  public var generation: UInt32? = nil
}

/// What `apply` did on a live gateway.
public struct SafeApplyReport: Sendable {
  public var table: String
  public var networkNamespace: String?
  /// Set when the apply waits for `confirm`.
  public var pending: PendingApply?
  /// Connections cut (a confirmed apply only).
  public var cutConnections: Result<Int, ConntrackError>?
  /// Things the operator should know (a table without identity replaced, other tables deleted).
  public var notes: [String] = []
  public var stateDirectory: String
  /// How the table was changed: only the difference, or replaced whole (and why).
  public var method: ApplyMethod? = nil
}

/// `apply` with the protections of OPERATIONS.md: the lock, one pending apply at a time, the table's identity,
/// other conduit tables, and with `--confirm` the saved state and the watchdog armed before anything is sent.
public enum SafeApply {
  /// The environment variable that makes `apply` stop dead after one of its steps (`saved`, `armed`, `sent`), so
  /// tests can show that every intermediate state is one a rollback restores from.
  public static let crashVariable = "CONDUIT_TEST_CRASH_AFTER"

  /// Applies `artifact`; `waiting` is told when another command holds the state directory's lock. The state
  /// directory records the artifact's file as `encodedFile` gives it: for an artifact read from a file, the bytes
  /// read. `readAhead` is the confirmed artifact as `readAhead(_:)` read it before the lock: it is used when the
  /// record read under the lock gives the SHA-256 of the file it was read from.
  public static func apply(
    _ artifact: NftablesArtifact, options: SafeApplyOptions, readAhead: NftablesArtifact? = nil,
    waiting: (String) -> Void
  ) throws(PipelineStop) -> SafeApplyReport {
    let state = try stateDirectory(options)
    let lock = try state.lock(for: "apply of table \(artifact.header.table)", waiting: waiting)
    defer { withExtendedLifetime(lock) {} }
    var notes: [String] = []
    if let pending = try readPending(state) {
      if options.boot {
        try dropPending(state)
        state.log("boot: dropped the pending apply \(pending.token) of table \(pending.table); a reboot never confirms")
        notes.append("the pending apply of table \(pending.table) was dropped: a reboot never confirms it")
      } else {
        throw pendingRefusal(pending)
      }
    }
    let table = artifact.header.table
    let confirmed = confirmedArtifact(state, readAhead: readAhead)
    let plan = try inNamespace(options.networkNamespace) { () throws(PipelineStop) -> ApplyPlan in
      try planned(artifact, options, confirmed: confirmed)
    }
    notes += plan.notes
    guard let seconds = options.confirmSeconds else {
      // The artifact's file is written and synced beside the confirmed one while the kernel takes the transaction;
      // it takes the confirmed one's name only once the transaction is made.
      let file = artifact.encodedFile()
      let (sent, written) = inParallel(
        {
          Result { () throws(PipelineStop) in
            let sent = try send(artifact, deleting: plan.othersToDelete, confirmed, state, options)
            let cut = try inNamespace(options.networkNamespace) { () throws(PipelineStop) in
              Result { () throws(ConntrackError) in try ConnectionCut.cut(noLongerAllowedBy: artifact.flowTable) }
            }
            return (sent, cut)
          }
        },
        {
          Result { () throws(PipelineStop) in
            try state.prepare(StateDirectory.File.confirmedArtifact, parts: file.parts)
          }
        })
      let ((method, generation), cut): ((ApplyMethod, UInt32?), Result<Int, ConntrackError>)
      do { ((method, generation), cut) = try sent.get() } catch {
        if case .success(let prepared) = written { state.discard(prepared) }
        throw error
      }
      try recordConfirmed(
        artifact, file: file, state: state, appliedAt: Date(), generation: generation, written: try written.get())
      return SafeApplyReport(
        table: table, networkNamespace: options.networkNamespace, pending: nil, cutConnections: cut, notes: notes,
        stateDirectory: state.path, method: method)
    }
    let restore = plan.saved.encoded()
    try state.write(StateDirectory.File.restore, restore)
    let file = artifact.encodedFile()
    try state.write(StateDirectory.File.pendingArtifact, parts: file.parts)
    let now = Date()
    var pending = PendingApply(
      token: randomToken(), table: table, site: artifact.header.site, gateway: artifact.header.gateway,
      compileDigest: artifact.header.compileDigest, artifactSHA256: file.sha256,
      restoreSHA256: NftablesArtifact.sha256(restore), restoreSummary: plan.restoreSummary,
      appliedAt: now.timeIntervalSince1970, deadline: now.timeIntervalSince1970 + Double(seconds),
      networkNamespace: options.networkNamespace, watchdog: nil)
    var method: ApplyMethod?
    try armAndSend(&pending, state, seconds: seconds, what: "the apply \(pending.token) of table \(table)") {
      (pending) throws(PipelineStop) in
      let sent = try send(artifact, deleting: plan.othersToDelete, confirmed, state, options)
      method = sent.0
      pending.generation = sent.1
    }
    return SafeApplyReport(
      table: table, networkNamespace: options.networkNamespace, pending: pending, cutConnections: nil, notes: notes,
      stateDirectory: state.path, method: method)
  }

  /// The steps of every `--confirm` change once its saved state is written (`pending` describing it, not yet armed):
  /// the pending record, the watchdog armed and recorded, then `send`; when `send` fails, the watchdog is disarmed
  /// and nothing is pending. `what` names the change in the log. Each step ends at a crash point for the tests.
  static func armAndSend(
    _ pending: inout PendingApply, _ state: StateDirectory, seconds: Int, what: String,
    send: (inout PendingApply) throws(PipelineStop) -> Void
  ) throws(PipelineStop) {
    try writePending(pending, state)
    crashPoint("saved")
    pending.watchdog = try Watchdog.arm(state: state, pending: pending, seconds: seconds)
    try writePending(pending, state)
    state.log("armed the watchdog for \(what): rollback at \(pending.deadlineText)")
    crashPoint("armed")
    do throws(PipelineStop) {
      try send(&pending)
      try writePending(pending, state)
    } catch {
      Watchdog.disarm(pending.watchdog)
      try dropPending(state)
      state.log("\(what) was not made (\(error)); nothing is pending")
      throw error
    }
    crashPoint("sent")
  }

  /// The refusal of an apply while `pending` waits for its confirmation.
  static func pendingRefusal(_ pending: PendingApply) -> PipelineStop {
    PipelineStop(
      .refused,
      "an apply of table \(pending.table) is pending (rolled back at \(pending.deadlineText) unless confirmed); "
        + "run `conduit confirm\(namespaceOption(pending.networkNamespace))` or "
        + "`conduit rollback\(namespaceOption(pending.networkNamespace))` first")
  }

  /// What `confirm` did.
  public struct ConfirmReport: Sendable {
    public var pending: PendingApply
    public var cutConnections: Result<Int, ConntrackError>
  }

  /// `confirm`: the pending apply becomes the confirmed one, its watchdog is disarmed, and the connections its
  /// ruleset no longer allows are cut now. Refused (exit 1) when nothing is pending.
  public static func confirm(networkNamespace: String?, stateRoot: String?, waiting: (String) -> Void)
    throws(PipelineStop) -> ConfirmReport
  {
    let state = try stateDirectory(SafeApplyOptions(networkNamespace: networkNamespace, stateRoot: stateRoot))
    let lock = try state.lock(for: "confirm", waiting: waiting)
    defer { withExtendedLifetime(lock) {} }
    guard let pending = try readPending(state) else { throw nothingPending(state) }
    Watchdog.disarm(pending.watchdog)
    if pending.target == IptablesGatewayApply.target {
      return try IptablesGatewayApply.confirm(pending, state: state, networkNamespace: networkNamespace)
    }
    if pending.action == SafeRemove.action { return try SafeRemove.confirm(pending, state: state) }
    guard let bytes = try state.read(StateDirectory.File.pendingArtifact),
      NftablesArtifact.sha256(bytes) == pending.artifactSHA256
    else {
      throw PipelineStop(
        .failed, "the pending artifact in '\(state.path)' is missing or damaged; run `conduit rollback`")
    }
    let artifact: NftablesArtifact
    do { artifact = try NftablesArtifact(decoding: bytes) } catch {
      throw PipelineStop(.failed, "the pending artifact in '\(state.path)' is refused: \(error)")
    }
    try recordConfirmed(
      artifact, file: artifact.encodedFile(), state: state, appliedAt: Date(timeIntervalSince1970: pending.appliedAt),
      generation: pending.generation)
    try dropPending(state)
    state.log("confirmed the apply \(pending.token) of table \(pending.table)")
    let cut = try inNamespace(networkNamespace) { () throws(PipelineStop) in
      Result { () throws(ConntrackError) in try ConnectionCut.cut(noLongerAllowedBy: artifact.flowTable) }
    }
    return ConfirmReport(pending: pending, cutConnections: cut)
  }

  /// `rollback` (and the watchdog, with the token it was armed for): the saved state is restored in one
  /// transaction and the pending apply forgotten. Refused (exit 1) when nothing is pending, or when the pending apply
  /// is not the one `expectedToken` names.
  public static func rollback(
    networkNamespace: String?, stateRoot: String?, statePath: String? = nil, expectedToken: String? = nil,
    waiting: (String) -> Void
  ) throws(PipelineStop) -> PendingApply {
    let state: StateDirectory
    if let statePath {
      state = StateDirectory(path: statePath)
    } else {
      state = try stateDirectory(SafeApplyOptions(networkNamespace: networkNamespace, stateRoot: stateRoot))
    }
    let lock = try state.lock(for: expectedToken == nil ? "rollback" : "watchdog rollback", waiting: waiting)
    defer { withExtendedLifetime(lock) {} }
    guard let pending = try readPending(state), expectedToken == nil || pending.token == expectedToken else {
      throw nothingPending(state)
    }
    guard let bytes = try state.read(StateDirectory.File.restore),
      NftablesArtifact.sha256(bytes) == pending.restoreSHA256
    else {
      throw PipelineStop(.failed, "the saved state in '\(state.path)' is missing or damaged; nothing was changed")
    }
    if pending.target == IptablesGatewayApply.target {
      try inNamespace(networkNamespace) { () throws(PipelineStop) in try IptablesGatewayApply.restore(bytes) }
    } else {
      let saved: SavedTables
      do { saved = try SavedTables(decoding: bytes) } catch {
        throw PipelineStop(.failed, "the saved state in '\(state.path)' is refused: \(error); nothing was changed")
      }
      try inNamespace(networkNamespace) { () throws(PipelineStop) in
        do throws(KernelSessionError) {
          try KernelSession().restore(saved)
        } catch {
          throw PipelineStop(.failed, "the rollback failed: \(error)")
        }
      }
    }
    if expectedToken == nil { Watchdog.disarm(pending.watchdog) }
    try dropPending(state)
    state.log(
      "\(expectedToken == nil ? "rolled back" : "the watchdog rolled back") the apply \(pending.token) of table "
        + "\(pending.table): restored \(pending.restoreSummary)")
    return pending
  }

  /// The watchdog's body: waits until the deadline of the pending apply `token` names (ending early when that apply
  /// is confirmed or rolled back meanwhile), then rolls it back.
  public static func watch(statePath: String, token: String, networkNamespace: String?) -> Int32 {
    let state = StateDirectory(path: statePath)
    while true {
      guard let pending = try? readPending(state), pending.token == token else { return 0 }
      let left = pending.deadline - Date().timeIntervalSince1970
      if left <= 0 { break }
      usleep(UInt32(min(left, 0.5) * 1_000_000))
    }
    do {
      _ = try rollback(
        networkNamespace: networkNamespace, stateRoot: nil, statePath: statePath, expectedToken: token,
        waiting: { _ in })
      return 0
    } catch {
      if error.reason == .refused { return 0 }
      state.log("the watchdog could not roll back the apply \(token): \(error)")
      return 1
    }
  }

  /// Closes the descriptors the watchdog inherited beyond its standard streams.
  public static func closeInheritedDescriptors() { Watchdog.closeInheritedDescriptors() }

  // MARK: Steps

  struct ApplyPlan: Sendable {
    var saved: SavedTables
    var restoreSummary: String
    var othersToDelete: [String]
    var notes: [String]
  }

  private static func planned(
    _ artifact: NftablesArtifact, _ options: SafeApplyOptions, confirmed: NftablesArtifact?
  ) throws(PipelineStop) -> ApplyPlan {
    let missing = artifact.interfaces.filter { if_nametoindex($0) == 0 }
    if !missing.isEmpty, !options.force, !options.boot {
      throw PipelineStop(
        .failed,
        "interface\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) of gateway "
          + "'\(artifact.header.gateway ?? "-")' do not exist here; nothing was applied (use --force to apply anyway)")
    }
    let table = artifact.header.table
    var notes: [String] = []
    do {
      let session = try KernelSession()
      let present = try session.conduitTableNames()
      if present.contains(table) {
        if let identity = try session.identity(ofTable: table) {
          let header = artifact.header
          let expected = NftablesIdentity(
            compiler: header.compiler, site: header.site, gateway: header.gateway, compileDigest: header.compileDigest)
          if identity.gateway != expected.gateway || identity.site != expected.site, !options.replace {
            throw PipelineStop(
              .refused,
              "table \(table) here belongs to gateway '\(identity.gateway ?? "-")' of site '\(identity.site ?? "-")' "
                + "(\(identity.comment)), not to gateway '\(artifact.header.gateway ?? "-")'; nothing was applied "
                + "(--replace replaces it)")
          }
        } else {
          notes.append("table \(table) had no identity (an older conduit's); it is replaced")
        }
      }
      if !options.noGuard {
        let liveIdentity = present.contains(table) ? try session.identity(ofTable: table) : nil
        let live = present.contains(table) ? (confirmed?.identity == liveIdentity ? confirmed : nil) : nil
        notes += try guarded(artifact, options, live: live, liveTablePresent: present.contains(table))
      }
      let others = present.filter { $0 != table }
      if !others.isEmpty {
        guard options.replace else {
          throw PipelineStop(
            .refused,
            "other conduit tables are present (\(others.joined(separator: ", "))): both would drop, so the old one "
              + "keeps blocking new flows; nothing was applied (--replace deletes them in the same transaction)")
        }
        notes.append("deleted the other conduit tables \(others.joined(separator: ", "))")
      }
      var live: [LiveTable] = []
      if options.confirmSeconds != nil {
        for name in [table] + others {
          if let saved = try session.liveTable(named: name) { live.append(saved) }
        }
      }
      let summary =
        live.isEmpty
        ? "no conduit table (none was there before)"
        : live.map { "table \($0.name) (\($0.summary))" }.joined(separator: ", ")
      let saved: SavedTables
      do { saved = try SavedTables(removing: [table], tables: live) } catch {
        throw PipelineStop(.failed, error.description)
      }
      return ApplyPlan(saved: saved, restoreSummary: summary, othersToDelete: others, notes: notes)
    } catch let stop as PipelineStop {
      throw stop
    } catch let error as KernelSessionError {
      if case .unsaveable(let problem) = error {
        throw PipelineStop(.refused, "--confirm is refused: \(problem); nothing was applied")
      }
      throw kernelStop(error)
    } catch {
      throw PipelineStop(.failed, "\(error)")
    }
  }

  /// The lock-out guard on `artifact` in the calling thread's namespace: refuses when an open management session
  /// would not be admitted again, naming the line of `live` (the confirmed artifact, when it is what runs) that
  /// admits it today; returns notes on the isolated sessions it does not guard.
  static func guarded(
    _ artifact: NftablesArtifact, _ options: SafeApplyOptions, live: NftablesArtifact?, liveTablePresent: Bool
  ) throws(PipelineStop) -> [String] {
    let admission: GatewayAdmission
    do { admission = try GatewayAdmission(artifact) } catch {
      throw PipelineStop(.failed, "the lock-out guard cannot read the ruleset: \(error); nothing was applied")
    }
    let finding: LockOutGuard.Finding
    do { finding = try LockOutGuard.judge(admission, ports: options.guardedPorts) } catch {
      throw PipelineStop(
        .failed,
        "the lock-out guard cannot list the open management sessions: \(error); nothing was applied "
          + "(--no-guard applies without it)")
    }
    let notes = finding.isolated.map {
      "the session \(LockOutGuard.describe($0)) is from an address the new ruleset isolates: not guarded"
    }
    guard !finding.lockedOut.isEmpty else { return notes }
    let liveAdmission = live.flatMap { try? GatewayAdmission($0) }
    let lines = finding.lockedOut.map { session in
      var today = "none"
      if let live, let liveAdmission, let interface = session.interface {
        switch liveAdmission.verdict(
          client: session.connection.remote, interface: interface, port: session.connection.localPort)
        {
        case .admitted(let element?):
          today =
            element < live.batch.origins.elements.count
            ? live.batch.origins.place(live.batch.origins.elements[element]) ?? "none" : "none"
        case .inputNotFiltered: today = "none (the live table leaves the gateway's input alone)"
        default: break
        }
      } else if !liveTablePresent {
        today = "none (no conduit table is live)"
      }
      return "  \(LockOutGuard.describe(session)): \(LockOutGuard.reason(session)); admitted today by: \(today)"
    }
    throw LockOutGuard.refusal(count: finding.lockedOut.count, lines: lines)
  }

  /// The confirmed artifact of the state directory, when there is one and it reads. When the record beside it gives
  /// its SHA-256, it is `readAhead` if that was read from a file of that digest, else read as the file conduit wrote
  /// (`NftablesArtifact.readRecorded`): every byte checked against that digest, its batch not held to the attribute
  /// grammar a second time; otherwise it is validated in full.
  static func confirmedArtifact(_ state: StateDirectory, readAhead: NftablesArtifact? = nil) -> NftablesArtifact? {
    if let bytes = try? state.read(StateDirectory.File.confirmedRecord),
      let record = try? JSONDecoder().decode(ConfirmedApply.self, from: Data(bytes)), record.target == nil
    {
      if let readAhead, readAhead.readFileSHA256 == record.artifactSHA256 { return readAhead }
      if let artifact = try? NftablesArtifact.readRecorded(
        contentsOf: state.file(StateDirectory.File.confirmedArtifact), sha256: record.artifactSHA256)
      {
        return artifact
      }
    }
    guard let bytes = try? state.read(StateDirectory.File.confirmedArtifact) else { return nil }
    return try? NftablesArtifact(decoding: bytes)
  }

  /// Sends the artifact (deleting `others` in the same transaction): only the difference to the live table when it
  /// is `confirmed` without drift, else the whole table (`IncrementalApply`); returns how, and the ruleset's
  /// generation id after it when that transaction is provably the last one (the id one above the one before it).
  private static func send(
    _ artifact: NftablesArtifact, deleting others: [String], _ confirmed: NftablesArtifact?, _ state: StateDirectory,
    _ options: SafeApplyOptions
  ) throws(PipelineStop) -> (ApplyMethod, UInt32?) {
    try inNamespace(options.networkNamespace) { () throws(PipelineStop) -> (ApplyMethod, UInt32?) in
      do throws(KernelSessionError) {
        return try IncrementalApply.send(artifact, deleting: others, confirmed: confirmed, state: state)
      } catch {
        throw kernelStop(error)
      }
    }
  }

  static func kernelStop(_ error: KernelSessionError) -> PipelineStop {
    if error.isPermissionDenied {
      return PipelineStop(
        .failed, "permission denied: applying a ruleset needs CAP_NET_ADMIN (run as root); nothing was changed")
    }
    if case .rejected = error { return PipelineStop(.rejected, error.description) }
    return PipelineStop(.failed, error.description)
  }

  /// Records `artifact` (its file `file`, already `written` beside the confirmed one when given) as the confirmed
  /// artifact.
  private static func recordConfirmed(
    _ artifact: NftablesArtifact, file: EncodedArtifact, state: StateDirectory, appliedAt: Date, generation: UInt32?,
    written: StateDirectory.PreparedFile? = nil
  ) throws(PipelineStop) {
    let header = artifact.header
    let record = ConfirmedApply(
      table: header.table, site: header.site, gateway: header.gateway, compiler: header.compiler,
      compileDigest: header.compileDigest, policyDigest: header.policyDigest,
      artifactSHA256: file.sha256, mitigations: header.mitigations,
      effectiveDate: header.effectiveDate, sources: header.sources, appliedAt: appliedAt.timeIntervalSince1970,
      confirmedAt: Date().timeIntervalSince1970, generation: generation)
    if let written {
      try state.commit(written)
    } else {
      try state.write(StateDirectory.File.confirmedArtifact, parts: file.parts)
    }
    try state.write(StateDirectory.File.confirmedRecord, encodeJSON(record))
  }

  // MARK: State

  /// The confirmed artifact of the state directory `options` name, read without its lock (while another command
  /// may be changing it) and without creating anything: what `apply` reads ahead while it reads the new artifact.
  /// `apply` uses it only when the record it reads under the lock gives the SHA-256 of the file it was read from.
  public static func readAhead(_ options: SafeApplyOptions) -> NftablesArtifact? {
    guard
      let state = try? StateDirectory.resolve(
        root: options.stateRoot, networkNamespace: options.networkNamespace, creating: false)
    else { return nil }
    return confirmedArtifact(state)
  }

  /// The state directory of the target namespace, which must exist: a state directory is never made for a name
  /// that names no namespace.
  static func stateDirectory(_ options: SafeApplyOptions) throws(PipelineStop) -> StateDirectory {
    if let name = options.networkNamespace {
      do throws(KernelSessionError) {
        let path = try KernelSession.networkNamespacePath(name)
        guard access(path, F_OK) == 0 else { throw .system("no network namespace '\(name)' (\(path))", errno: errno) }
      } catch {
        throw PipelineStop(.failed, error.description)
      }
    }
    return try StateDirectory.resolve(root: options.stateRoot, networkNamespace: options.networkNamespace)
  }

  static func readPending(_ state: StateDirectory) throws(PipelineStop) -> PendingApply? {
    guard let bytes = try state.read(StateDirectory.File.pendingRecord) else { return nil }
    let record = state.file(StateDirectory.File.pendingRecord)
    let pending: PendingApply
    do { pending = try JSONDecoder().decode(PendingApply.self, from: Data(bytes)) } catch {
      throw PipelineStop(.failed, "the pending record '\(record)' is damaged: \(error)")
    }
    let hex = pending.token.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    let tableFits =
      pending.target == IptablesGatewayApply.target
      ? pending.table == IptablesGatewayApply.tableName
      : pending.target == nil && LiveTable.isConduitTableName(pending.table)
    guard pending.token.utf8.count == 16, hex, tableFits, pending.action == nil || pending.action == SafeRemove.action,
      pending.networkNamespace.map({ (try? KernelSession.networkNamespacePath($0)) != nil }) ?? true,
      pending.deadline.isFinite, pending.appliedAt.isFinite
    else { throw PipelineStop(.failed, "the pending record '\(record)' is damaged: it holds a malformed field") }
    return pending
  }

  static func writePending(_ pending: PendingApply, _ state: StateDirectory) throws(PipelineStop) {
    try state.write(StateDirectory.File.pendingRecord, encodeJSON(pending))
  }

  static func dropPending(_ state: StateDirectory) throws(PipelineStop) {
    try state.remove(StateDirectory.File.pendingRecord)
    try state.remove(StateDirectory.File.pendingArtifact)
    try state.remove(StateDirectory.File.pendingIptables)
    try state.remove(StateDirectory.File.restore)
  }

  private static func nothingPending(_ state: StateDirectory) -> PipelineStop {
    let last = state.lastLogLine().map { " (last: \($0))" } ?? ""
    return PipelineStop(.refused, "no apply is pending in '\(state.path)'\(last)")
  }

  static func encodeJSON<Value: Encodable>(_ value: Value) -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return Array((try? encoder.encode(value)) ?? Data()) + [0x0A]
  }

  static func namespaceOption(_ name: String?) -> String {
    name.map { " --netns \(TerminalText.escaped($0))" } ?? ""
  }

  static func randomToken() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
  }

  static func crashPoint(_ step: String) {
    if ProcessInfo.processInfo.environment[crashVariable] == step { kill(getpid(), SIGKILL) }
  }

  /// Runs `body` in the network namespace `name` on a thread of its own (so no thread of the caller changes
  /// namespace), or here when `name` is nil.
  static func inNamespace<Value: Sendable>(
    _ name: String?, _ body: @escaping @Sendable () throws(PipelineStop) -> Value
  )
    throws(PipelineStop) -> Value
  {
    guard let name else { return try body() }
    let result = onThreadOfItsOwn { () -> Result<Value, PipelineStop> in
      do throws(KernelSessionError) {
        try KernelSession.enterNetworkNamespace(name)
      } catch {
        return .failure(PipelineStop(.failed, error.description))
      }
      do throws(PipelineStop) { return .success(try body()) } catch { return .failure(error) }
    }
    return try result.get()
  }
}
