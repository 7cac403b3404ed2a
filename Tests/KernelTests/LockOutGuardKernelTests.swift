import FlowSpace
import Foundation
import Testing

/// The lock-out guard: `apply` refuses a ruleset that would not admit an open management session to the gateway as
/// a new connection (by management line or by anti-spoofing), names the client and today's line, guards the ports
/// asked for, reports sessions from isolated addresses instead of guarding them, and gives way to `--no-guard`.
@Suite(.serialized) struct LockOutGuardKernelTests {
  /// The policy of ConntrackTests' lab with the management line and interface lines given.
  static func policy(management: String, eth1: String = "ops", eth2: String = "ctl") -> String {
    """
    site guard
    zone ops {
      level 3; security-level 2
      network 10.30.0.0/24, fd00:30::/64
    }
    zone ctl {
      level 2; security-level 2
      network 10.40.0.0/24, fd00:40::/64
    }
    asset hmi { address 10.30.0.31, fd00:30::31 }
    asset plc { address 10.40.0.10, fd00:40::10 }
    gateway gw {
      interface eth1 \(eth1)
      interface eth2 \(eth2)
      \(management)
    }
    conduit ops-ctl {
      between ops and ctl
      owner "ot"; justification "test"
      allow hmi -> plc service tcp/502
    }
    mitigation cut-hmi {
      reason "hmi compromised"
      isolate hmi
    }

    """
  }

  /// Writes `text` as `name` in the lab's directory and returns its path.
  static func write(_ text: String, named name: String, in lab: NetworkLab) throws -> String {
    let url = lab.workDirectory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  static func apply(_ policy: String, in lab: NetworkLab, _ extra: [String] = []) throws -> CommandOutput {
    try ConduitExecutable.run(["apply", policy, "--netns", lab.gatewayNamespace, "--today", "2026-11-28"] + extra)
  }

  /// Starts an echo server on ports 22 and 2222 of the gateway itself, in both families.
  static func startGatewayEchoServer(in lab: NetworkLab) throws -> BackgroundProcess {
    try ConntrackTests.startEchoServer(
      in: lab, namespace: lab.gatewayNamespace, addresses: ["0.0.0.0", "::"], ports: [22, 2222])
  }

  static func conduitTablePresent(in lab: NetworkLab) throws -> Bool {
    try lab.nftListRuleset().contains("table inet conduit_guard")
  }

  @Test(.kernelTests) func openManagementSessionsDecideWhatMayBeApplied() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let server = try Self.startGatewayEchoServer(in: lab)
    defer { server.kill() }
    let gateway4 = try lab.gatewayAddress(on: "eth1", family: .ipv4)
    let gateway6 = try #require(IPAddress(try lab.gatewayAddress(on: "eth1", family: .ipv6))).description
    let held = [
      try HeldConnection(lab: lab, from: "10.30.0.31", to: gateway4, port: 22),
      try HeldConnection(lab: lab, from: "fd00:30::31", to: gateway6, port: 22),
      try HeldConnection(lab: lab, from: "10.30.0.31", to: gateway4, port: 2222),
    ]
    defer { for connection in held { connection.process.kill() } }

    let admitting = try Self.write(
      Self.policy(management: "management service ssh from hmi"), named: "admitting.conduit", in: lab)
    let other = try Self.write(
      Self.policy(management: "management service ssh from plc"), named: "other.conduit", in: lab)
    let swapped = try Self.write(
      Self.policy(management: "management service ssh from hmi", eth1: "ctl", eth2: "ops"), named: "swapped.conduit",
      in: lab)

    let first = try Self.apply(other, in: lab)
    #expect(first.status == 1, "\(first.standardError)")
    #expect(first.standardError.contains("would lock out 2 open management sessions"), "\(first.standardError)")
    #expect(
      first.standardError.contains("10.30.0.31 port \(held[0].localPort) to \(gateway4) port 22 (arriving on eth1)"))
    #expect(first.standardError.contains("fd00:30::31 port \(held[1].localPort) to \(gateway6) port 22"))
    #expect(first.standardError.contains("no management line admits tcp/22 from 10.30.0.31"))
    #expect(first.standardError.contains("admitted today by: none (no conduit table is live)"))
    #expect(try !Self.conduitTablePresent(in: lab), "a refused apply sends nothing")

    let admitted = try Self.apply(admitting, in: lab)
    #expect(admitted.status == 0, "\(admitted.standardError)")

    let guardedPort = try Self.apply(admitting, in: lab, ["--guard-port", "2222"])
    #expect(guardedPort.status == 1)
    #expect(guardedPort.standardError.contains("would lock out 1 open management session;"))
    #expect(guardedPort.standardError.contains("to \(gateway4) port 2222"))

    let locking = try Self.apply(other, in: lab)
    #expect(locking.status == 1)
    let managementLine = try #require(
      Self.policy(management: "management service ssh from hmi").split(
        separator: "\n", omittingEmptySubsequences: false
      )
      .firstIndex { $0.contains("management service") })
    #expect(
      locking.standardError.contains("admitted today by: admitting.conduit:\(managementLine + 1):"),
      "\(locking.standardError)")

    let spoofed = try Self.apply(swapped, in: lab)
    #expect(spoofed.status == 1)
    #expect(spoofed.standardError.contains("anti-spoofing drops it: no zone behind eth1 holds 10.30.0.31"))

    let isolating = try Self.apply(admitting, in: lab, ["--mitigation", "cut-hmi"])
    #expect(isolating.status == 0, "\(isolating.standardError)")
    #expect(isolating.standardOutput.contains("new ruleset isolates: not guarded"), "\(isolating.standardOutput)")

    let forced = try Self.apply(other, in: lab, ["--no-guard"])
    #expect(forced.status == 0, "\(forced.standardError)")
    #expect(
      try lab.nftListRuleset().contains("10.40.0.10 . tcp . 22"), "the unguarded apply loaded the other policy")
  }
}
