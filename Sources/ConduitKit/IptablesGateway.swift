import Conntrack
import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyLanguage

/// What `apply --target iptables POLICY` loads: the filter table of each family, compiled from one policy, with the
/// record `confirm` keeps of it.
public struct IptablesGatewayRules: Sendable {
  /// The rules of both families and the flow table.
  public var file: IptablesRulesFile
  /// The ruleset they render (the lock-out guard judges by its input chain).
  public var ruleset: Ruleset
  /// What `confirmed.json` will say of them (times left at zero).
  public var record: ConfirmedApply
}

extension Pipeline {
  /// `compile` with both iptables backends, as `apply --target iptables` of a policy runs it.
  public static func iptablesGateway(_ request: CompileRequest) throws(PipelineStop) -> IptablesGatewayRules {
    var request = request
    request.strict = false
    let compiled = try build(request) {
      ruleset, context, diagnostics throws(BackendFailure) -> ([UInt8], [UInt8], RenderContext)? in
      guard let ipv4 = try IptablesBackend(family: .ipv4).compile(ruleset, context: context, diagnostics: &diagnostics),
        let ipv6 = try IptablesBackend(family: .ipv6).compile(ruleset, context: context, diagnostics: &diagnostics)
      else { return nil }
      return (Array(ipv4.joined()), Array(ipv6.joined()), context)
    }
    let (ipv4, ipv6, context) = compiled.output
    let ruleset = compiled.ruleset
    let file: IptablesRulesFile
    do {
      file = try IptablesRulesFile(
        ipv4: String(decoding: ipv4, as: UTF8.self), ipv6: String(decoding: ipv6, as: UTF8.self),
        flowTable: FlowTable(ruleset))
    } catch {
      throw PipelineStop(.failed, "internal error: the iptables output is not one filter table: \(error)")
    }
    let policyDigest = NftablesArtifact.sha256(of: context.sources.map { ($0.path, $0.bytes) })
    let gateway = ruleset.gateway.map(TerminalText.escaped)
    let mitigations = ruleset.mitigations.map(TerminalText.escaped)
    let record = ConfirmedApply(
      table: IptablesGatewayApply.tableName, site: ruleset.site.map(TerminalText.escaped), gateway: gateway,
      compiler: context.compiler,
      compileDigest: NftablesArtifact.compileDigest(
        policyDigest: policyDigest, gateway: gateway, mitigations: mitigations, effectiveDate: context.effectiveDate),
      policyDigest: policyDigest, artifactSHA256: NftablesArtifact.sha256(file.encoded()), mitigations: mitigations,
      effectiveDate: context.effectiveDate, sources: context.sources.map { TerminalText.escaped($0.path) },
      appliedAt: 0, confirmedAt: 0, target: IptablesGatewayApply.target)
    return IptablesGatewayRules(file: file, ruleset: ruleset, record: record)
  }
}

/// `apply --target iptables` on a gateway whose firewall is iptables (OPERATIONS.md): the same lock, pending rule,
/// lock-out guard, confirm and rollback as the nftables path. What is saved and restored is the whole filter table
/// of both families (`iptables-save` / `ip6tables-save`). Each family's table is replaced in one transaction of its
/// own; when the second fails, the first is restored, so an apply changes both or neither.
public enum IptablesGatewayApply {
  /// The `target` of pending and confirmed records of this path.
  public static let target = "iptables"
  /// The table the records name.
  public static let tableName = "filter"

  /// Loads `rules` with the protections of `options`.
  public static func apply(_ rules: IptablesGatewayRules, options: SafeApplyOptions, waiting: (String) -> Void)
    throws(PipelineStop) -> SafeApplyReport
  {
    let state = try SafeApply.stateDirectory(options)
    let lock = try state.lock(for: "apply of the iptables filter tables", waiting: waiting)
    defer { withExtendedLifetime(lock) {} }
    var notes: [String] = []
    if let pending = try SafeApply.readPending(state) {
      guard options.boot else { throw SafeApply.pendingRefusal(pending) }
      try SafeApply.dropPending(state)
      notes.append("the pending apply of table \(pending.table) was dropped: a reboot never confirms it")
    }
    let (saved, nftablesTables) = try SafeApply.inNamespace(options.networkNamespace) {
      () throws(PipelineStop) -> (IptablesRulesFile, [String]) in
      let missing = rules.ruleset.interfaces.filter { if_nametoindex($0) == 0 }
      if !missing.isEmpty, !options.force, !options.boot {
        throw PipelineStop(
          .failed,
          "interface\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) of gateway "
            + "'\(rules.record.gateway ?? "-")' do not exist here; nothing was applied (use --force to apply anyway)")
      }
      let live = try savedFilterTables()
      if !options.noGuard { try guarded(rules, options, live: live) }
      return (live, (try? KernelSession().conduitTableNames()) ?? [])
    }
    notes += nftablesTables.map {
      "conduit's nftables table inet \($0) is loaded here too, and filters as well: "
        + "delete it (`nft delete table inet \($0)`) once the iptables rules are confirmed"
    }
    let pendingBytes = rules.file.encoded()
    guard let seconds = options.confirmSeconds else {
      try SafeApply.inNamespace(options.networkNamespace) { () throws(PipelineStop) in try load(rules.file, saved) }
      let cut = try cutConnections(rules.file.flowTable, options.networkNamespace)
      try recordConfirmed(rules.record, bytes: pendingBytes, state: state, appliedAt: Date())
      return SafeApplyReport(
        table: tableName, networkNamespace: options.networkNamespace, pending: nil, cutConnections: cut, notes: notes,
        stateDirectory: state.path)
    }
    let restore = saved.encoded()
    try state.write(StateDirectory.File.restore, restore)
    try state.write(StateDirectory.File.pendingIptables, pendingBytes)
    let now = Date()
    var pending = PendingApply(
      token: SafeApply.randomToken(), table: tableName, site: rules.record.site, gateway: rules.record.gateway,
      compileDigest: rules.record.compileDigest, artifactSHA256: NftablesArtifact.sha256(pendingBytes),
      restoreSHA256: NftablesArtifact.sha256(restore), restoreSummary: summary(saved),
      appliedAt: now.timeIntervalSince1970, deadline: now.timeIntervalSince1970 + Double(seconds),
      networkNamespace: options.networkNamespace, watchdog: nil, target: target)
    try SafeApply.armAndSend(
      &pending, state, seconds: seconds, what: "the apply \(pending.token) of the iptables filter tables"
    ) { (_) throws(PipelineStop) in
      try SafeApply.inNamespace(options.networkNamespace) { () throws(PipelineStop) in try load(rules.file, saved) }
    }
    return SafeApplyReport(
      table: tableName, networkNamespace: options.networkNamespace, pending: pending, cutConnections: nil,
      notes: notes, stateDirectory: state.path)
  }

  /// `confirm` of a pending iptables apply (the lock held, the watchdog disarmed).
  static func confirm(_ pending: PendingApply, state: StateDirectory, networkNamespace: String?) throws(PipelineStop)
    -> SafeApply.ConfirmReport
  {
    guard let bytes = try state.read(StateDirectory.File.pendingIptables),
      NftablesArtifact.sha256(bytes) == pending.artifactSHA256
    else {
      throw PipelineStop(.failed, "the pending rules in '\(state.path)' are missing or damaged; run `conduit rollback`")
    }
    let file: IptablesRulesFile
    do { file = try IptablesRulesFile(decoding: bytes) } catch {
      throw PipelineStop(.failed, "the pending rules in '\(state.path)' are refused: \(error)")
    }
    let record = ConfirmedApply(
      table: tableName, site: pending.site, gateway: pending.gateway, compiler: ConduitVersion.compiler,
      compileDigest: pending.compileDigest, policyDigest: "", artifactSHA256: pending.artifactSHA256, mitigations: [],
      effectiveDate: "", sources: [], appliedAt: pending.appliedAt, confirmedAt: 0, target: target)
    try recordConfirmed(record, bytes: bytes, state: state, appliedAt: Date(timeIntervalSince1970: pending.appliedAt))
    try SafeApply.dropPending(state)
    state.log("confirmed the apply \(pending.token) of the iptables filter tables")
    return SafeApply.ConfirmReport(
      pending: pending, cutConnections: try cutConnections(file.flowTable, networkNamespace))
  }

  /// Restores the filter tables of `saved` bytes in the calling thread's namespace.
  static func restore(_ bytes: [UInt8]) throws(PipelineStop) {
    let saved: IptablesRulesFile
    do { saved = try IptablesRulesFile(decoding: bytes) } catch {
      throw PipelineStop(.failed, "the saved filter tables are refused: \(error); nothing was changed")
    }
    let current = try savedFilterTables()
    try load(saved, current)
  }

  // MARK: Steps

  /// The IPv4 and IPv6 filter tables as the kernel has them (`iptables-save -t filter`, without counters).
  static func savedFilterTables() throws(PipelineStop) -> IptablesRulesFile {
    var texts: [String] = []
    for tool in ["iptables-save", "ip6tables-save"] {
      let outcome = try ToolProcess.run(try executable(tool), [tool, "-t", "filter"])
      guard outcome.status == 0 else {
        throw PipelineStop(.failed, "\(tool) failed (exit \(outcome.status)): \(outcome.error); nothing was applied")
      }
      texts.append(String(decoding: outcome.output, as: UTF8.self))
    }
    do { return try IptablesRulesFile(ipv4: texts[0], ipv6: texts[1], flowTable: emptyFlowTable) } catch {
      throw PipelineStop(.failed, "the live filter tables cannot be saved: \(error); nothing was applied")
    }
  }

  /// Loads both families of `file`; when the second family fails, the first is put back as `previous` has it.
  static func load(_ file: IptablesRulesFile, _ previous: IptablesRulesFile) throws(PipelineStop) {
    try restoreFamily("iptables-restore", file.ipv4)
    do throws(PipelineStop) {
      try restoreFamily("ip6tables-restore", file.ipv6)
    } catch let failure {
      do throws(PipelineStop) { try restoreFamily("iptables-restore", previous.ipv4) } catch {
        throw PipelineStop(
          .failed, "\(failure); and the IPv4 filter table could not be put back (\(error)): only IPv4 changed")
      }
      throw PipelineStop(failure.reason, "\(failure) (the IPv4 filter table was put back: nothing changed)")
    }
  }

  /// An empty filter table for a family that had none (the kernel then filters nothing, as before).
  static let emptyFilterTable = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"

  private static func restoreFamily(_ tool: String, _ text: String) throws(PipelineStop) {
    let outcome = try ToolProcess.run(
      try executable(tool), [tool, "-w", "5"], input: Array((text.isEmpty ? emptyFilterTable : text).utf8))
    guard outcome.status == 0 else {
      throw PipelineStop(
        .rejected, "\(tool) refused the filter table (exit \(outcome.status)): \(TerminalText.escaped(outcome.error))")
    }
  }

  private static func executable(_ tool: String) throws(PipelineStop) -> String {
    guard let path = ToolProcess.find(tool) else {
      throw PipelineStop(.failed, "\(tool) is not installed; nothing was applied")
    }
    return path
  }

  private static let emptyFlowTable = (try? FlowTable.validating([]).get())!

  private static func summary(_ saved: IptablesRulesFile) -> String {
    func count(_ text: String) -> Int { text.split(separator: "\n").filter { $0.hasPrefix("-A ") }.count }
    return "the filter tables as they were (IPv4 \(saved.ipv4.isEmpty ? "none" : "\(count(saved.ipv4)) rules"), "
      + "IPv6 \(saved.ipv6.isEmpty ? "none" : "\(count(saved.ipv6)) rules"))"
  }

  private static func cutConnections(_ table: FlowTable, _ networkNamespace: String?) throws(PipelineStop)
    -> Result<Int, ConntrackError>
  {
    try SafeApply.inNamespace(networkNamespace) { () throws(PipelineStop) in
      Result { () throws(ConntrackError) in try ConnectionCut.cut(noLongerAllowedBy: table) }
    }
  }

  private static func recordConfirmed(
    _ record: ConfirmedApply, bytes: [UInt8], state: StateDirectory, appliedAt: Date
  ) throws(PipelineStop) {
    var record = record
    record.appliedAt = appliedAt.timeIntervalSince1970
    record.confirmedAt = Date().timeIntervalSince1970
    try state.write(StateDirectory.File.confirmedIptables, bytes)
    try state.write(StateDirectory.File.confirmedRecord, SafeApply.encodeJSON(record))
  }

  /// The lock-out guard on the ruleset's input chain, naming the live INPUT rule that admits each client today.
  private static func guarded(_ rules: IptablesGatewayRules, _ options: SafeApplyOptions, live: IptablesRulesFile)
    throws(PipelineStop)
  {
    let finding: LockOutGuard.Finding
    do { finding = try LockOutGuard.judge(GatewayAdmission(rules.ruleset), ports: options.guardedPorts) } catch {
      throw PipelineStop(
        .failed,
        "the lock-out guard cannot list the open management sessions: \(error); nothing was applied "
          + "(--no-guard applies without it)")
    }
    guard !finding.lockedOut.isEmpty else { return }
    let lines = finding.lockedOut.map { session in
      let text = session.connection.remote.family == .ipv4 ? live.ipv4 : live.ipv6
      let today = admittingRule(in: text, client: session.connection.remote, port: session.connection.localPort)
      return "  \(LockOutGuard.describe(session)): \(LockOutGuard.reason(session)); admitted today by: "
        + (today.map { TerminalText.escaped($0) } ?? "none")
    }
    throw LockOutGuard.refusal(count: finding.lockedOut.count, lines: lines)
  }

  /// The first live `-A INPUT` rule accepting TCP to `port` from a source range holding `client`, by its comment
  /// (conduit's management rules name their policy line there) or as the rule itself.
  static func admittingRule(in saved: String, client: IPAddress, port: UInt16) -> String? {
    for line in saved.split(separator: "\n") where line.hasPrefix("-A INPUT ") && line.hasSuffix("-j ACCEPT") {
      let words = line.split(separator: " ")
      func value(after option: String) -> Substring? {
        words.firstIndex(of: Substring(option)).flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil }
      }
      guard value(after: "-p") == "tcp", !words.contains("-i") else { continue }
      if let source = value(after: "-s") {
        guard
          let prefix = IPPrefix(
            source.contains("/") ? String(source) : "\(source)/\(client.family == .ipv4 ? 32 : 128)"),
          AddressSet(prefix).contains(client)
        else { continue }
      } else if let range = value(after: "--src-range") {
        let bounds = range.split(separator: "-").compactMap { IPAddress(String($0)) }
        guard bounds.count == 2, bounds[0] <= client, client <= bounds[1] else { continue }
      }
      guard let ports = value(after: "--dport") else { continue }
      let bounds = ports.split(separator: ":").compactMap { UInt16($0) }
      guard let first = bounds.first, first <= port, port <= (bounds.last ?? first) else { continue }
      if let start = line.range(of: "--comment \""), let end = line[start.upperBound...].firstIndex(of: "\"") {
        return String(line[start.upperBound..<end])
      }
      return String(line)
    }
    return nil
  }
}

/// What `apply --target iptables --dry-run` found: the rules each family's filter table would gain and lose, and
/// what `apply` would refuse. Nothing is loaded, locked or written.
public struct IptablesDryRunReport: Sendable {
  /// The rules and chain declarations of one family's filter table that applying would add and remove, as
  /// `iptables-save` prints them.
  public struct FamilyChange: Sendable, Equatable {
    public var family: String
    public var added: [String]
    public var removed: [String]
  }

  public var networkNamespace: String?
  public var changes: [FamilyChange]
  /// What `apply` with the same options would refuse, each a sentence.
  public var refusals: [String]

  /// Whether applying would change nothing and go through: exit 0; otherwise 1.
  public var isNothingToDo: Bool { refusals.isEmpty && changes.allSatisfy { $0.added.isEmpty && $0.removed.isEmpty } }

  /// The report as lines for the terminal.
  public var lines: [String] {
    var out: [String] = []
    let place = networkNamespace.map { " in network namespace \(TerminalText.escaped($0))" } ?? ""
    for change in changes {
      if change.added.isEmpty && change.removed.isEmpty {
        out.append("the \(change.family) filter table\(place) would not change")
        continue
      }
      out.append(
        "the \(change.family) filter table\(place): \(change.added.count) line\(change.added.count == 1 ? "" : "s") "
          + "added, \(change.removed.count) removed")
      out += change.removed.map { "  - \(TerminalText.escaped($0))" }
      out += change.added.map { "  + \(TerminalText.escaped($0))" }
    }
    out += refusals.map { "apply would refuse: \(TerminalText.escaped($0))" }
    if !refusals.isEmpty {
      out.append("dry run: apply would not go through; nothing was changed")
    } else {
      out.append(
        isNothingToDo
          ? "dry run: nothing would change" : "dry run: apply would change the filter tables; nothing was changed")
    }
    return out
  }
}

extension IptablesGatewayApply {
  /// `apply --target iptables --dry-run`: the live filter tables (iptables-save in the target namespace) beside the
  /// new ones as iptables itself writes them, loaded for that into a scratch network namespace of this thread's
  /// own, so both sides are compared in one spelling; and what apply would refuse (a pending apply, missing
  /// interfaces, the lock-out guard). Takes no lock and writes nothing.
  public static func dryRun(_ rules: IptablesGatewayRules, options: SafeApplyOptions) throws(PipelineStop)
    -> IptablesDryRunReport
  {
    let state = try StateDirectory.resolve(
      root: options.stateRoot, networkNamespace: options.networkNamespace, creating: false)
    var refusals: [String] = []
    if let pending = try? SafeApply.readPending(state) {
      refusals.append(SafeApply.pendingRefusal(pending).description)
    }
    let live = try SafeApply.inNamespace(options.networkNamespace) {
      () throws(PipelineStop) -> (IptablesRulesFile, [String]) in
      var found: [String] = []
      let missing = rules.ruleset.interfaces.filter { if_nametoindex($0) == 0 }
      if !missing.isEmpty, !options.force {
        found.append("interfaces \(missing.joined(separator: ", ")) do not exist here (--force applies anyway)")
      }
      let tables = try savedFilterTables()
      if !options.noGuard {
        do throws(PipelineStop) { try guarded(rules, options, live: tables) } catch { found.append(error.description) }
      }
      return (tables, found)
    }
    refusals += live.1
    let normalised = onThreadOfItsOwn { () -> Result<IptablesRulesFile, PipelineStop> in
      do throws(KernelSessionError) { try KernelSession.enterNewNetworkNamespace() } catch {
        return .failure(PipelineStop(.failed, "the dry run cannot make a scratch namespace: \(error)"))
      }
      do throws(PipelineStop) {
        try load(rules.file, try savedFilterTables())
        return .success(try savedFilterTables())
      } catch {
        return .failure(error)
      }
    }
    let new = try normalised.get()
    let changes = [("IPv4", live.0.ipv4, new.ipv4), ("IPv6", live.0.ipv6, new.ipv6)].map { family, old, new in
      difference(family, old, new)
    }
    return IptablesDryRunReport(networkNamespace: options.networkNamespace, changes: changes, refusals: refusals)
  }

  /// The lines of `new` that `old` lacks and those of `old` that `new` lacks, counted as multisets; comments left
  /// out and chain counters set aside.
  static func difference(_ family: String, _ old: String, _ new: String) -> IptablesDryRunReport.FamilyChange {
    func lines(_ text: String) -> [String] {
      text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
        guard line.hasPrefix(":"), let counters = line.lastIndex(of: "[") else { return String(line) }
        return String(line[..<counters]).trimmingCharacters(in: .whitespaces)
      }
    }
    let before = lines(old.isEmpty ? emptyFilterTable : old)
    let after = lines(new.isEmpty ? emptyFilterTable : new)
    var counts: [String: Int] = [:]
    for line in before { counts[line, default: 0] += 1 }
    var added: [String] = []
    for line in after {
      if let count = counts[line], count > 0 { counts[line] = count - 1 } else { added.append(line) }
    }
    var remaining = counts
    var removed: [String] = []
    for line in before where (remaining[line] ?? 0) > 0 {
      removed.append(line)
      remaining[line]! -= 1
    }
    return IptablesDryRunReport.FamilyChange(family: family, added: added, removed: removed)
  }
}
