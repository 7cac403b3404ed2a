import Foundation
import NftablesBackend
import PolicyLanguage

/// What `conduit status` found in one network namespace (OPERATIONS.md): which artifact runs, its drift, a pending
/// apply, the conduits expired or expiring, the counters of the conduit chains, the drops, and other conduit tables.
/// Read only: no lock is taken and nothing is written (not even the state directory).
public struct StatusReport: Sendable, Encodable {
  /// The drift of the live table, as `status` shows it.
  public struct Drift: Sendable, Encodable, Equatable {
    /// `none`, `drifted`, `unknown` or `no-table`.
    public var state: String
    /// With `none`: whether the generation id proved it (no dump was needed).
    public var byGenerationID: Bool?
    /// With `drifted`: what differs, from the recorded artifact to the live table.
    public var differences: [String]
    /// With `unknown` or `no-table`: why.
    public var reason: String?

    public func encode(to encoder: any Encoder) throws {
      var keys = encoder.container(keyedBy: StatusKey.self)
      try keys.encode(state, forKey: "state")
      try keys.encode(byGenerationID, forKey: "byGenerationID")
      try keys.encode(differences, forKey: "differences")
      try keys.encode(reason, forKey: "reason")
    }
  }

  /// A conduit's chain and its counters.
  public struct Conduit: Sendable, Encodable, Equatable {
    public var name: String
    public var chain: String
    public var packets: UInt64
    public var bytes: UInt64
    /// When it stops admitting new connections (the end of its `expires` day, UTC), if it expires.
    public var expiresAt: String?
    /// `active`, `expiring` (within `expiringWindowDays`) or `expired`.
    public var state: String
    /// New connections dropped since it expired.
    public var expiredDropPackets: UInt64?

    public func encode(to encoder: any Encoder) throws {
      var keys = encoder.container(keyedBy: StatusKey.self)
      try keys.encode(name, forKey: "name")
      try keys.encode(chain, forKey: "chain")
      try keys.encode(packets, forKey: "packets")
      try keys.encode(bytes, forKey: "bytes")
      try keys.encode(expiresAt, forKey: "expiresAt")
      try keys.encode(state, forKey: "state")
      try keys.encode(expiredDropPackets, forKey: "expiredDropPackets")
    }
  }

  /// Drops per (input interface, output interface); the output is empty for packets to the gateway itself.
  public struct InterfaceDrops: Sendable, Encodable, Equatable {
    public var input: String
    public var output: String
    public var packets: UInt64?
    public var bytes: UInt64?

    public func encode(to encoder: any Encoder) throws {
      var keys = encoder.container(keyedBy: StatusKey.self)
      try keys.encode(input, forKey: "input")
      try keys.encode(output, forKey: "output")
      try keys.encode(packets, forKey: "packets")
      try keys.encode(bytes, forKey: "bytes")
    }
  }

  /// A base chain's drops that no rule admitted (its final counter).
  public struct ChainDrops: Sendable, Encodable, Equatable {
    public var chain: String
    public var packets: UInt64
    public var bytes: UInt64
  }

  /// One of the last dropped flows the kernel keeps.
  public struct DroppedFlow: Sendable, Encodable, Equatable {
    public var source: String
    public var destination: String
    /// `tcp`, `udp`, `icmp`, `icmpv6` or the protocol number.
    public var transportProtocol: String
    public var port: UInt16?
    public var packets: UInt64?
    /// Seconds since its last dropped packet.
    public var secondsAgo: UInt64?

    public func encode(to encoder: any Encoder) throws {
      var keys = encoder.container(keyedBy: StatusKey.self)
      try keys.encode(source, forKey: "source")
      try keys.encode(destination, forKey: "destination")
      try keys.encode(transportProtocol, forKey: "protocol")
      try keys.encode(port, forKey: "port")
      try keys.encode(packets, forKey: "packets")
      try keys.encode(secondsAgo, forKey: "secondsAgo")
    }
  }

  /// A pending apply.
  public struct Pending: Sendable, Encodable, Equatable {
    public var table: String
    public var appliedAt: String
    /// When the watchdog rolls it back unless confirmed.
    public var deadline: String
    /// Seconds left before the deadline (negative: the watchdog is late).
    public var secondsLeft: Int
    public var restores: String
  }

  init(networkNamespace: String?, stateDirectory: String, firewall: String) {
    self.networkNamespace = networkNamespace
    self.stateDirectory = stateDirectory
    self.firewall = firewall
  }

  /// A chain of an iptables gateway's filter tables: the packets its rules matched (for a built-in chain, those
  /// its policy decided too).
  public struct IptablesChain: Sendable, Encodable, Equatable {
    /// `ipv4` or `ipv6`.
    public var family: String
    public var chain: String
    public var packets: UInt64
    public var bytes: UInt64
    /// A built-in chain's policy (`DROP`, `ACCEPT`), nil for conduit's own chains.
    public var policy: String?
    public var policyPackets: UInt64?

    public func encode(to encoder: any Encoder) throws {
      var keys = encoder.container(keyedBy: StatusKey.self)
      try keys.encode(family, forKey: "family")
      try keys.encode(chain, forKey: "chain")
      try keys.encode(packets, forKey: "packets")
      try keys.encode(bytes, forKey: "bytes")
      try keys.encode(policy, forKey: "policy")
      try keys.encode(policyPackets, forKey: "policyPackets")
    }
  }

  /// The days ahead within which an expiring conduit is reported as `expiring` (CHECKS.md `expiring-conduit`).
  public static let expiringWindowDays = 30

  public var networkNamespace: String?
  public var stateDirectory: String
  /// `nftables`, or `iptables` when the state directory's records are of `apply --target iptables`.
  public var firewall: String
  /// conduit's table (`inet NAME`) the report is about, nil when none is recorded or live.
  public var table: String?
  /// The live table's identity (its comment), if it has one.
  public var identity: String?
  /// The state directory's record of what should run (the confirmed artifact).
  public var confirmed: ConfirmedApply?
  public var drift: Drift?
  public var pending: Pending?
  public var conduits: [Conduit] = []
  public var chainDrops: [ChainDrops] = []
  public var interfaceDrops: [InterfaceDrops] = []
  public var droppedFlows: [DroppedFlow] = []
  /// Whether the live table has drop tracking (a table of an older conduit has none).
  public var tracksDrops: Bool?
  /// conduit tables in the namespace beside `table` (an old site name's: both drop).
  public var otherTables: [String] = []
  /// The chains of an iptables gateway's filter tables.
  public var iptablesChains: [IptablesChain] = []
  /// What keeps the gateway from being healthy, each a sentence; empty: healthy.
  public var problems: [String] = []

  /// Exit 0: nothing to report; otherwise 1 (drift, drift unknown, no table, expired, pending, other tables).
  public var isHealthy: Bool { problems.isEmpty }

  /// Every key is written, with null where there is nothing, so the keys are the same from one gateway to the next.
  public func encode(to encoder: any Encoder) throws {
    var keys = encoder.container(keyedBy: StatusKey.self)
    try keys.encode(networkNamespace, forKey: "networkNamespace")
    try keys.encode(stateDirectory, forKey: "stateDirectory")
    try keys.encode(firewall, forKey: "firewall")
    try keys.encode(table, forKey: "table")
    try keys.encode(identity, forKey: "identity")
    var record = keys.nestedContainer(keyedBy: StatusKey.self, forKey: "confirmed")
    try record.encode(confirmed?.site, forKey: "site")
    try record.encode(confirmed?.gateway, forKey: "gateway")
    try record.encode(confirmed?.compileDigest, forKey: "compileDigest")
    try record.encode(confirmed?.policyDigest, forKey: "policyDigest")
    try record.encode(confirmed?.artifactSHA256, forKey: "artifactSHA256")
    try record.encode(confirmed?.mitigations, forKey: "mitigations")
    try record.encode(confirmed?.compiler, forKey: "compiler")
    try record.encode(confirmed?.effectiveDate, forKey: "effectiveDate")
    try record.encode(confirmed?.sources, forKey: "sources")
    try record.encode(confirmed.map { Self.time($0.appliedAt) }, forKey: "appliedAt")
    try record.encode(confirmed.map { Self.time($0.confirmedAt) }, forKey: "confirmedAt")
    try keys.encode(drift, forKey: "drift")
    try keys.encode(pending, forKey: "pending")
    try keys.encode(conduits, forKey: "conduits")
    try keys.encode(chainDrops, forKey: "chainDrops")
    try keys.encode(interfaceDrops, forKey: "interfaceDrops")
    try keys.encode(droppedFlows, forKey: "droppedFlows")
    try keys.encode(tracksDrops, forKey: "tracksDrops")
    try keys.encode(otherTables, forKey: "otherTables")
    try keys.encode(iptablesChains, forKey: "iptablesChains")
    try keys.encode(problems, forKey: "problems")
    try keys.encode(isHealthy, forKey: "healthy")
  }

  /// An instant as the state directory's log writes it (UTC).
  static func time(_ seconds: Double) -> String { StateDirectory.timestamp(Date(timeIntervalSince1970: seconds)) }

  /// The report as JSON (sorted keys, one object).
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
  }

  /// The report as lines for a terminal; every kernel and state string escaped.
  public var lines: [String] {
    func e(_ text: String) -> String { TerminalText.escaped(text) }
    func count(_ packets: UInt64?, _ bytes: UInt64?) -> String {
      guard let packets else { return "-" }
      return "\(packets) packet\(packets == 1 ? "" : "s")" + (bytes.map { ", \($0) bytes" } ?? "")
    }
    var out: [String] = []
    let place = networkNamespace.map { "network namespace \(e($0))" } ?? "this network namespace"
    if firewall == "iptables" {
      out.append("iptables gateway (\(place)): the iptables and ip6tables filter tables")
    } else if let table {
      out.append("table inet \(e(table)) (\(place))")
    } else {
      out.append("no conduit table (\(place))")
    }
    if let identity { out.append("  identity: \(e(identity))") }
    out.append("  state directory: \(e(stateDirectory))")
    if let confirmed {
      out.append(
        "  confirmed: site \(e(confirmed.site ?? "-")), gateway \(e(confirmed.gateway ?? "-")), compile digest "
          + "\(e(confirmed.compileDigest.prefix(16).description)), mitigations "
          + (confirmed.mitigations.isEmpty ? "none" : confirmed.mitigations.map(e).joined(separator: ", ")))
      out.append(
        "    compiled by \(e(confirmed.compiler)) for \(e(confirmed.effectiveDate)); applied "
          + "\(StateDirectory.timestamp(Date(timeIntervalSince1970: confirmed.appliedAt))), confirmed "
          + "\(StateDirectory.timestamp(Date(timeIntervalSince1970: confirmed.confirmedAt)))")
    } else {
      out.append("  confirmed: none recorded")
    }
    if let drift {
      switch drift.state {
      case "none":
        out.append(
          "drift: none"
            + (drift.byGenerationID == true
              ? " (the ruleset's generation id is the one after conduit's own commit)"
              : " (the live table equals the recorded artifact, object by object)"))
      case "drifted":
        out.append("drift: the live table differs from the recorded artifact:")
        out += drift.differences.map { "  \($0)" }
      default:
        out.append("drift: \(drift.state == "unknown" ? "unknown" : "no table"): \(e(drift.reason ?? ""))")
      }
    }
    if let pending {
      out.append(
        "pending: an apply of table \(e(pending.table)) made \(pending.appliedAt) waits for `conduit confirm`; "
          + "rolled back at \(pending.deadline) "
          + (pending.secondsLeft >= 0
            ? "(in \(pending.secondsLeft) s)" : "(\(-pending.secondsLeft) s ago: the watchdog is late)")
          + " to \(e(pending.restores))")
    } else {
      out.append("pending: none")
    }
    if !conduits.isEmpty {
      out.append("conduits (new connections admitted):")
      for conduit in conduits {
        var line = "  \(e(conduit.name)): \(count(conduit.packets, conduit.bytes))"
        if let expiresAt = conduit.expiresAt {
          switch conduit.state {
          case "expired":
            line += "; expired at \(expiresAt)"
            if let dropped = conduit.expiredDropPackets {
              line += ", \(dropped) new connection\(dropped == 1 ? "" : "s") dropped since"
            }
          case "expiring": line += "; expires at \(expiresAt), within \(Self.expiringWindowDays) days"
          default: line += "; expires at \(expiresAt)"
          }
        }
        out.append(line)
      }
    }
    if !iptablesChains.isEmpty {
      out.append("chains (packets their rules matched):")
      for chain in iptablesChains {
        var line = "  \(chain.family) \(e(chain.chain)): \(count(chain.packets, chain.bytes))"
        if let policy = chain.policy {
          line += "; policy \(e(policy)): \(chain.policyPackets ?? 0) packet\(chain.policyPackets == 1 ? "" : "s")"
        }
        out.append(line)
      }
    }
    if tracksDrops == false { out.append("drops: the live table does not track them (an older conduit's table)") }
    for chain in chainDrops {
      out.append("drops in \(e(chain.chain)) (no rule admitted them): \(count(chain.packets, chain.bytes))")
    }
    if !interfaceDrops.isEmpty {
      out.append("drops per interface (input -> output):")
      for drop in interfaceDrops {
        out.append(
          "  \(e(drop.input)) -> \(drop.output.isEmpty ? "(the gateway)" : e(drop.output)): \(count(drop.packets, drop.bytes))"
        )
      }
    }
    if !droppedFlows.isEmpty {
      out.append("last dropped flows (most recent first):")
      for flow in droppedFlows {
        let port = flow.port.map { " port \($0)" } ?? ""
        let ago = flow.secondsAgo.map { ", last \($0) s ago" } ?? ""
        out.append(
          "  \(e(flow.source)) -> \(e(flow.destination)) \(e(flow.transportProtocol))\(port): "
            + "\(count(flow.packets, nil))\(ago)")
      }
    }
    if !otherTables.isEmpty {
      out.append("other conduit tables: \(otherTables.map { "inet \(e($0))" }.joined(separator: ", ")) (both drop)")
    }
    if problems.isEmpty {
      out.append("status: healthy")
    } else {
      out += problems.map { "status: \(e($0))" }
    }
    return out
  }
}

/// A JSON key of the status report.
struct StatusKey: CodingKey, ExpressibleByStringLiteral {
  var stringValue: String
  var intValue: Int? { nil }
  init(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
  init(stringLiteral value: String) { stringValue = value }
}

/// `conduit status`: reads the target namespace's ruleset and state directory, touching nothing (OPERATIONS.md).
public enum GatewayStatus {
  /// The status of the namespace `networkNamespace` (nil: this one) with the state directory under `stateRoot`;
  /// `now` decides what has expired and what is due.
  public static func report(networkNamespace: String?, stateRoot: String?, now: Date = Date()) throws(PipelineStop)
    -> StatusReport
  {
    if let name = networkNamespace {
      do throws(KernelSessionError) {
        let path = try KernelSession.networkNamespacePath(name)
        guard access(path, F_OK) == 0 else { throw .system("no network namespace '\(name)' (\(path))", errno: errno) }
      } catch {
        throw PipelineStop(.failed, error.description)
      }
    }
    let state = try SafeApply.inNamespace(networkNamespace) { () throws(PipelineStop) in
      try StateDirectory.resolve(root: stateRoot, networkNamespace: networkNamespace, creating: false)
    }
    let pending = try SafeApply.readPending(state)
    let confirmedRecord = try readConfirmed(state)
    var report = StatusReport(networkNamespace: networkNamespace, stateDirectory: state.path, firewall: "nftables")
    report.confirmed = confirmedRecord
    if let pending {
      let left = Int((pending.deadline - now.timeIntervalSince1970).rounded(.down))
      report.pending = StatusReport.Pending(
        table: pending.table, appliedAt: StateDirectory.timestamp(Date(timeIntervalSince1970: pending.appliedAt)),
        deadline: pending.deadlineText, secondsLeft: left, restores: pending.restoreSummary)
      report.problems.append(
        "an apply is pending: `conduit confirm\(SafeApply.namespaceOption(networkNamespace))` keeps it, else it is "
          + "rolled back at \(pending.deadlineText)")
    }
    let iptables =
      pending.map { $0.target == IptablesGatewayApply.target }
      ?? (confirmedRecord?.target == IptablesGatewayApply.target)
    if iptables {
      report.firewall = "iptables"
      report.iptablesChains = try SafeApply.inNamespace(networkNamespace) { () throws(PipelineStop) in
        try iptablesChains()
      }
      return report
    }
    // What should run: the pending artifact while an apply waits for its confirmation, else the confirmed one. The
    // artifact (15 MB at 100,000 elements) is read only when the generation id does not prove the table unchanged.
    var expected: ConfirmedApply?
    let loadArtifact: @Sendable () -> NftablesArtifact?
    if let pending {
      expected = ConfirmedApply(
        table: pending.table, site: pending.site, gateway: pending.gateway, compiler: "",
        compileDigest: pending.compileDigest, policyDigest: "", artifactSHA256: pending.artifactSHA256,
        mitigations: [], effectiveDate: "", sources: [], appliedAt: pending.appliedAt, confirmedAt: pending.appliedAt,
        generation: pending.generation)
      loadArtifact = {
        guard let bytes = try? state.read(StateDirectory.File.pendingArtifact),
          NftablesArtifact.sha256(bytes) == pending.artifactSHA256
        else { return nil }
        return try? NftablesArtifact(decoding: bytes)
      }
    } else {
      expected = confirmedRecord
      loadArtifact = { SafeApply.confirmedArtifact(state) }
    }
    let recordedTable = pending?.table ?? confirmedRecord?.table
    let expectedForKernel = expected
    let live = try SafeApply.inNamespace(networkNamespace) { () throws(PipelineStop) -> LiveStatus in
      do throws(KernelSessionError) {
        return try liveStatus(recordedTable: recordedTable, expected: expectedForKernel, artifact: loadArtifact)
      } catch {
        if error.isPermissionDenied {
          throw PipelineStop(.failed, "permission denied: reading the ruleset needs CAP_NET_ADMIN (run as root)")
        }
        throw PipelineStop(.failed, error.description)
      }
    }
    report.table = live.table
    report.identity = live.identity?.comment
    report.otherTables = live.others
    if !live.others.isEmpty {
      report.problems.append(
        "other conduit tables are present (\(live.others.joined(separator: ", "))): both drop, so the old one keeps "
          + "blocking new flows (`conduit apply --replace` deletes them)")
    }
    if let drift = live.drift { record(drift, pending: pending != nil, recordedTable: recordedTable, into: &report) }
    if let counters = live.counters {
      report.tracksDrops = counters.tracksDrops
      let window = now.timeIntervalSince1970 + Double(StatusReport.expiringWindowDays * 86_400)
      for conduit in counters.conduits {
        var state = "active"
        if let expiresAt = conduit.expiresAt {
          if Double(expiresAt) <= now.timeIntervalSince1970 {
            state = "expired"
            report.problems.append("conduit '\(conduit.conduit)' has expired: its chain drops new connections")
          } else if Double(expiresAt) <= window {
            state = "expiring"
          }
        }
        report.conduits.append(
          StatusReport.Conduit(
            name: conduit.conduit, chain: conduit.chain, packets: conduit.accepted.packets,
            bytes: conduit.accepted.bytes,
            expiresAt: conduit.expiresAt.map { StateDirectory.timestamp(Date(timeIntervalSince1970: Double($0))) },
            state: state, expiredDropPackets: conduit.expiredDrops?.packets))
      }
      report.chainDrops = counters.chainDrops.map {
        StatusReport.ChainDrops(chain: $0.chain, packets: $0.count.packets, bytes: $0.count.bytes)
      }
      report.interfaceDrops = counters.interfaceDrops.map {
        StatusReport.InterfaceDrops(
          input: $0.input, output: $0.output, packets: $0.count?.packets, bytes: $0.count?.bytes)
      }
      report.droppedFlows = counters.droppedFlows.map { flow in
        StatusReport.DroppedFlow(
          source: flow.source.description, destination: flow.destination.description,
          transportProtocol: protocolNames[flow.transportProtocol] ?? "\(flow.transportProtocol)", port: flow.port,
          packets: flow.count?.packets, secondsAgo: flow.millisecondsSinceLastDrop.map { $0 / 1000 })
      }
    }
    return report
  }

  private static func record(_ drift: LiveDrift, pending: Bool, recordedTable: String?, into report: inout StatusReport)
  {
    switch drift {
    case .none(let byGeneration):
      report.drift = .init(state: "none", byGenerationID: byGeneration, differences: [], reason: nil)
    case .drifted(let differences):
      report.drift = .init(
        state: "drifted", byGenerationID: nil, differences: differences.map(\.description), reason: nil)
      report.problems.append(
        "the live table has drifted from the \(pending ? "pending" : "confirmed") artifact "
          + "(\(differences.count) difference\(differences.count == 1 ? "" : "s"))")
    case .unknown(let reason):
      report.drift = .init(state: "unknown", byGenerationID: nil, differences: [], reason: reason)
      report.problems.append("drift unknown: \(reason)")
    case .noTable:
      let reason =
        recordedTable.map { "table inet \($0), which the state directory records, is not live" }
        ?? "no conduit table is live"
      report.drift = .init(state: "no-table", byGenerationID: nil, differences: [], reason: reason)
      report.problems.append(reason)
    }
  }

  static let protocolNames: [UInt8: String] = [1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"]

  /// What the kernel shows of conduit's tables.
  struct LiveStatus: Sendable {
    var table: String?
    var identity: NftablesIdentity?
    var others: [String]
    var drift: LiveDrift?
    var counters: LiveCounters?
  }

  /// Reads, in the calling thread's namespace: conduit's tables, the drift of the recorded one (or of the only one,
  /// when nothing is recorded) and its counters. The generation id spares the dump of the table when it proves no
  /// drift; the counters read only the rules and the drop-tracking sets.
  static func liveStatus(
    recordedTable: String?, expected: ConfirmedApply?, artifact: () -> NftablesArtifact?
  ) throws(KernelSessionError) -> LiveStatus {
    let session = try KernelSession()
    let present = try session.conduitTableNames()
    let table = recordedTable ?? (present.count == 1 ? present.first : nil)
    let others = present.filter { $0 != table }
    guard let table else { return LiveStatus(table: nil, identity: nil, others: others, drift: .noTable) }
    let drift: LiveDrift
    if let expected, expected.target == nil, expected.table == table, present.contains(table),
      let generation = expected.generation, try session.generationID() == generation
    {
      drift = .none(byGeneration: true)
    } else {
      drift = try LiveDrift.of(table: table, confirmed: artifact(), record: expected, session: session)
    }
    guard present.contains(table) else {
      return LiveStatus(table: table, identity: nil, others: others, drift: drift, counters: nil)
    }
    return LiveStatus(
      table: table, identity: try session.identity(ofTable: table), others: others, drift: drift,
      counters: try session.counters(ofTable: table))
  }

  /// The confirmed record, when there is one; a damaged one stops the command.
  static func readConfirmed(_ state: StateDirectory) throws(PipelineStop) -> ConfirmedApply? {
    guard let bytes = try state.read(StateDirectory.File.confirmedRecord) else { return nil }
    do { return try JSONDecoder().decode(ConfirmedApply.self, from: Data(bytes)) } catch {
      throw PipelineStop(
        .failed, "the confirmed record '\(state.file(StateDirectory.File.confirmedRecord))' is damaged: \(error)")
    }
  }

  /// The chains of both families' filter tables with their counters (`iptables-save -c`): per chain, the packets
  /// and bytes its rules matched, and for a built-in chain its policy and what the policy decided.
  static func iptablesChains() throws(PipelineStop) -> [StatusReport.IptablesChain] {
    var chains: [StatusReport.IptablesChain] = []
    for (tool, family) in [("iptables-save", "ipv4"), ("ip6tables-save", "ipv6")] {
      guard let path = ToolProcess.find(tool) else { throw PipelineStop(.failed, "\(tool) is not installed") }
      let outcome = try ToolProcess.run(path, [tool, "-c", "-t", "filter"])
      guard outcome.status == 0 else {
        throw PipelineStop(.failed, "\(tool) failed (exit \(outcome.status)): \(outcome.error)")
      }
      chains += iptablesChains(String(decoding: outcome.output, as: UTF8.self), family: family)
    }
    return chains
  }

  /// The chains of one `iptables-save -c` text.
  static func iptablesChains(_ text: String, family: String) -> [StatusReport.IptablesChain] {
    var chains: [StatusReport.IptablesChain] = []
    var index: [String: Int] = [:]
    func counters(_ field: Substring) -> (UInt64, UInt64)? {
      guard field.hasPrefix("["), field.hasSuffix("]") else { return nil }
      let parts = field.dropFirst().dropLast().split(separator: ":")
      guard parts.count == 2, let packets = UInt64(parts[0]), let bytes = UInt64(parts[1]) else { return nil }
      return (packets, bytes)
    }
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if line.hasPrefix(":"), fields.count >= 2 {
        let name = String(fields[0].dropFirst())
        let policy = fields[1] == "-" ? nil : String(fields[1])
        index[name] = chains.count
        chains.append(
          StatusReport.IptablesChain(
            family: family, chain: name, packets: 0, bytes: 0, policy: policy,
            policyPackets: policy == nil ? nil : fields.count >= 3 ? counters(fields[2])?.0 : nil))
      } else if line.hasPrefix("["), fields.count >= 3, fields[1] == "-A", let (packets, bytes) = counters(fields[0]),
        let chain = index[String(fields[2])]
      {
        chains[chain].packets += packets
        chains[chain].bytes += bytes
      }
    }
    return chains
  }
}
