import FlowSpace
import Foundation
import Testing

/// `apply --target iptables`: the policy's filter tables in both families, proven by packets; a rollback restores
/// the filter tables exactly as iptables-save gave them, leaving held connections alone; `confirm` cuts the
/// connections the new rules no longer allow; the lock-out guard judges the iptables input chain.
@Suite(.serialized) struct IptablesGatewayKernelTests {
  /// A filter table an operator wrote by hand, in both families.
  static let handWritten4 = """
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    :hand - [0:0]
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A FORWARD -s 192.0.2.7/32 -j hand
    -A hand -p udp -m udp --dport 9 -m comment --comment "hand edit" -j DROP
    COMMIT

    """
  static let handWritten6 = """
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A FORWARD -s 2001:db8::7/128 -j DROP
    COMMIT

    """

  /// The filter tables of both families as iptables-save prints them, without its time-stamped comments and the
  /// chains' packet counters (a restore starts them again).
  static func filterTables(in lab: NetworkLab) throws -> String {
    try [lab.tools.iptablesSave, lab.tools.ip6tablesSave].map { tool in
      try lab.runInGateway(tool, ["-t", "filter"]).check("\(tool)").standardOutput.split(separator: "\n")
        .filter { !$0.hasPrefix("#") }
        .map { line in
          guard line.hasPrefix(":"), let counters = line.lastIndex(of: "[") else { return String(line) }
          return line[..<counters] + "[counters]"
        }.joined(separator: "\n")
    }.joined(separator: "\n--\n")
  }

  static func apply(_ policy: String, in lab: NetworkLab, _ extra: [String] = []) throws -> CommandOutput {
    try LockOutGuardKernelTests.apply(policy, in: lab, ["--target", "iptables"] + extra)
  }

  @Test(.kernelTests) func aRollbackRestoresTheFilterTablesAndConfirmCutsWhatTheRulesNoLongerAllow() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    try lab.loadIptables(ipv4: Self.handWritten4, ipv6: Self.handWritten6)
    let before = try Self.filterTables(in: lab)
    #expect(before.contains("hand edit"))
    let policy = try LockOutGuardKernelTests.write(
      LockOutGuardKernelTests.policy(management: "management service ssh from hmi"), named: "ipt.conduit", in: lab)
    let pending = try Self.apply(policy, in: lab, ["--confirm", "30"])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(pending.standardOutput.contains("applied the iptables and ip6tables filter tables"))
    #expect(try Self.filterTables(in: lab).contains("conduit"))
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 502))
    #expect(try lab.tcpConnects(from: "fd00:30::31", to: "fd00:40::10", port: 502))
    #expect(try !lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 503))
    #expect(try !lab.tcpConnects(from: "fd00:30::31", to: "fd00:40::10", port: 503))
    let second = try Self.apply(policy, in: lab, ["--confirm", "30"])
    #expect(second.status == 1)
    #expect(second.standardError.contains("is pending"))

    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(rollback.standardOutput.contains("rolled back the iptables and ip6tables filter tables"))
    #expect(try Self.filterTables(in: lab) == before)

    let server = try ConntrackTests().startEchoServer(in: lab)
    defer { server.kill() }
    let held = [
      try HeldConnection(lab: lab, from: "10.30.0.31", to: "10.40.0.10", port: 503),
      try HeldConnection(lab: lab, from: "fd00:30::31", to: "fd00:40::10", port: 503),
    ]
    defer { for connection in held { connection.process.kill() } }

    let whileHeld = try Self.apply(policy, in: lab, ["--confirm", "30"])
    #expect(whileHeld.status == 0, "\(whileHeld.standardError)")
    try ConntrackTests().expectReports(held, "echo", within: 0.8, "while the apply is pending")
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
    try ConntrackTests().expectReports(held, "echo", within: 0.8, "after the rollback")
    let afterSecondRollback = try Self.filterTables(in: lab)
    #expect(afterSecondRollback == before, "\(afterSecondRollback)\n--- before ---\n\(before)")

    let again = try Self.apply(policy, in: lab, ["--confirm", "30"])
    #expect(again.status == 0, "\(again.standardError)")
    try ConntrackTests().expectReports(held, "echo", within: 0.8, "while the apply is pending")
    let confirm = try ConduitExecutable.run(["confirm", "--netns", lab.gatewayNamespace])
    #expect(confirm.status == 0, "\(confirm.standardError)")
    #expect(confirm.standardOutput.contains("confirmed the iptables and ip6tables filter tables"))
    #expect(confirm.standardOutput.contains("cut 2 tracked connections"), "\(confirm.standardOutput)")
    ConntrackTests().expectCut(held, kept: [], "after the confirm")
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 1)
  }

  @Test(.kernelTests) func anUnconfirmedApplyIsRolledBackByTheWatchdog() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    try lab.loadIptables(ipv4: Self.handWritten4, ipv6: Self.handWritten6)
    let before = try Self.filterTables(in: lab)
    let policy = try LockOutGuardKernelTests.write(
      LockOutGuardKernelTests.policy(management: "management service ssh from hmi"), named: "ipt.conduit", in: lab)
    let started = Date()
    let pending = try Self.apply(policy, in: lab, ["--confirm", "2"])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(Date().timeIntervalSince(started) < 2, "apply --confirm returns at once")
    #expect(try Self.filterTables(in: lab) != before)
    #expect(try SafeApplyKernelTests.waitUntil(seconds: 8) { try Self.filterTables(in: lab) == before })
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 1)
    #expect(rollback.standardError.contains("the watchdog rolled back"), "\(rollback.standardError)")
  }

  @Test(.kernelTests) func theLockOutGuardJudgesTheIptablesInputChain() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let server = try LockOutGuardKernelTests.startGatewayEchoServer(in: lab)
    defer { server.kill() }
    let gateway4 = try lab.gatewayAddress(on: "eth1", family: .ipv4)
    let session = try HeldConnection(lab: lab, from: "10.30.0.31", to: gateway4, port: 22)
    defer { session.process.kill() }
    let admitting = try LockOutGuardKernelTests.write(
      LockOutGuardKernelTests.policy(management: "management service ssh from hmi"), named: "admitting.conduit",
      in: lab)
    let other = try LockOutGuardKernelTests.write(
      LockOutGuardKernelTests.policy(management: "management service ssh from plc"), named: "other.conduit", in: lab)

    let refused = try Self.apply(other, in: lab)
    #expect(refused.status == 1)
    #expect(refused.standardError.contains("would lock out 1 open management session;"), "\(refused.standardError)")
    #expect(refused.standardError.contains("admitted today by: none"))
    #expect(try !Self.filterTables(in: lab).contains("conduit"), "a refused apply loads nothing")

    #expect(try Self.apply(admitting, in: lab).status == 0)
    let locking = try Self.apply(other, in: lab)
    #expect(locking.status == 1)
    #expect(locking.standardError.contains("admitted today by: management: "), "\(locking.standardError)")
    #expect(locking.standardError.contains("admitting.conduit:"))
    let forced = try Self.apply(other, in: lab, ["--no-guard"])
    #expect(forced.status == 0, "\(forced.standardError)")
  }

  @Test(.kernelTests) func aDryRunComparesTheFilterTablesAsIptablesWritesThemAndTouchesNothing() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    try lab.loadIptables(ipv4: Self.handWritten4, ipv6: Self.handWritten6)
    let text = LockOutGuardKernelTests.policy(management: "management service ssh from hmi")
    for version in ["old", "new"] {
      try FileManager.default.createDirectory(
        at: lab.workDirectory.appendingPathComponent(version), withIntermediateDirectories: true)
    }
    let old = try LockOutGuardKernelTests.write(text, named: "old/site.conduit", in: lab)
    let new = try LockOutGuardKernelTests.write(
      text.replacingOccurrences(of: "tcp/502", with: "tcp/503"), named: "new/site.conduit", in: lab)
    let before = try Self.filterTables(in: lab)
    let creation = try Self.apply(old, in: lab, ["--dry-run"])
    #expect(creation.status == 1, "\(creation.standardError)")
    #expect(
      creation.standardOutput.contains("  - -A hand -p udp -m udp --dport 9 -m comment --comment \"hand edit\" -j DROP")
    )
    #expect(creation.standardOutput.contains("  + :INPUT DROP"), "\(creation.standardOutput)")
    #expect(try Self.filterTables(in: lab) == before, "a dry run changed the filter tables")

    #expect(try Self.apply(old, in: lab).status == 0)
    let applied = try Self.filterTables(in: lab)
    let same = try Self.apply(old, in: lab, ["--dry-run"])
    #expect(same.status == 0, "\(same.standardOutput)\(same.standardError)")
    #expect(same.standardOutput.hasSuffix("dry run: nothing would change\n"))
    let changed = try Self.apply(new, in: lab, ["--dry-run"])
    #expect(changed.status == 1)
    #expect(
      changed.standardOutput.contains(
        "the IPv4 filter table in network namespace \(lab.gatewayNamespace): 2 lines added, 2 removed"),
      "\(changed.standardOutput)")
    #expect(changed.standardOutput.contains("--dport 503"))
    // The other changed line is the management rule, whose comment names the policy file by the path given.
    #expect(changed.standardOutput.contains("new/site.conduit:"))
    #expect(try Self.filterTables(in: lab) == applied, "a dry run changed the filter tables")
  }
}
