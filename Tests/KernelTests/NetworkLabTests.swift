import Foundation
import Testing

/// The lab proved with packets: open without rules, closed exactly as a small ruleset says, in nft and iptables.
struct NetworkLabTests {
  /// A control network behind `eth1`: one host, both families.
  static let eth1 = LabInterface(
    "eth1", hosts: ["10.30.0.31", "fd00:30::31"], prefixes: ["10.30.0.0/24", "fd00:30::/64"])
  /// A field network behind `eth2`: two IPv4 hosts and one IPv6 host.
  static let eth2 = LabInterface(
    "eth2", hosts: ["10.40.0.10", "10.40.0.11", "fd00:40::10"], prefixes: ["10.40.0.0/24", "fd00:40::/64"])

  /// What the hand-written rulesets allow: Modbus/TCP to one PLC in each family, and IPv4 echo.
  static let allowedFlows: [Probe] = [
    .tcp(from: "10.30.0.31", to: "10.40.0.10", port: 502),
    .tcp(from: "fd00:30::31", to: "fd00:40::10", port: 502),
    .ping(from: "10.30.0.31", to: "10.40.0.10"),
    .ping(from: "10.40.0.11", to: "10.30.0.31"),
  ]

  /// Flows one detail away from an allowed one, each of which must be blocked.
  static let nearMisses: [Probe] = [
    .tcp(from: "10.30.0.31", to: "10.40.0.10", port: 503),
    .tcp(from: "fd00:30::31", to: "fd00:40::10", port: 503),
    .tcp(from: "10.40.0.10", to: "10.30.0.31", port: 502),
    .tcp(from: "fd00:40::10", to: "fd00:30::31", port: 502),
    .tcp(from: "10.30.0.31", to: "10.40.0.11", port: 502),
    .udp(from: "10.30.0.31", to: "10.40.0.10", port: 502),
    .udp(from: "fd00:30::31", to: "fd00:40::10", port: 502),
    .ping(from: "fd00:30::31", to: "fd00:40::10"),
    .proto(from: "10.30.0.31", to: "10.40.0.10", protocolNumber: 47),
    .proto(from: "fd00:30::31", to: "fd00:40::10", protocolNumber: 47),
    .spoofedUDP(fromInterfaceSide: "eth1", forgedSource: "10.40.0.99", to: "10.40.0.10", port: 502),
  ]

  /// The small ruleset in nft, with a counter on its anti-spoofing rule.
  static let nftRuleset = """
    table inet labtest {
      chain forward {
        type filter hook forward priority filter; policy drop;
        iifname "eth1" ip saddr != 10.30.0.0/24 counter drop
        ct state established,related accept
        ip saddr 10.30.0.31 ip daddr 10.40.0.10 tcp dport 502 accept
        ip6 saddr fd00:30::31 ip6 daddr fd00:40::10 tcp dport 502 accept
        icmp type echo-request accept
      }
    }
    """

  /// The same ruleset for IPv4 as `iptables-restore` input.
  static let iptablesRuleset = """
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD DROP [0:0]
    :OUTPUT ACCEPT [0:0]
    -A FORWARD -i eth1 ! -s 10.30.0.0/24 -j DROP
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A FORWARD -s 10.30.0.31/32 -d 10.40.0.10/32 -p tcp -m tcp --dport 502 -j ACCEPT
    -A FORWARD -p icmp -m icmp --icmp-type echo-request -j ACCEPT
    COMMIT

    """

  /// The same ruleset for IPv6 as `ip6tables-restore` input.
  static let ip6tablesRuleset = """
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD DROP [0:0]
    :OUTPUT ACCEPT [0:0]
    -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
    -A FORWARD -s fd00:30::31/128 -d fd00:40::10/128 -p tcp -m tcp --dport 502 -j ACCEPT
    COMMIT

    """

  /// Without rules every probe arrives (so each near miss can arrive); under either ruleset only allowed flows do.
  @Test(.kernelTests)
  func rulesetsAllowExactlyTheirFlows() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }

    try lab.expectReachability(reachable: Self.allowedFlows + Self.nearMisses, blocked: [])

    try lab.loadNftables(script: Self.nftRuleset)
    #expect(try lab.nftListRuleset().contains("table inet labtest"))
    try lab.expectReachability(reachable: Self.allowedFlows, blocked: Self.nearMisses)
    let antiSpoofing = try lab.nftRuleCounters(table: "labtest", chain: "forward").first
    #expect(antiSpoofing?.rule == #"iifname "eth1" ip saddr != 10.30.0.0/24 counter drop"#)
    #expect(antiSpoofing?.packets == 1, "the spoofed datagram is dropped by the anti-spoofing rule")

    try lab.flushRuleset()
    try lab.loadIptables(ipv4: Self.iptablesRuleset, ipv6: Self.ip6tablesRuleset)
    #expect(try !lab.nftListRuleset().contains("labtest"))
    try lab.expectReachability(reachable: Self.allowedFlows, blocked: Self.nearMisses)
    let iptablesAntiSpoofing = try lab.iptablesRuleCounters(chain: "FORWARD").first { $0.rule.contains("-i eth1") }
    #expect(iptablesAntiSpoofing?.packets == 1, "the spoofed datagram is dropped by the anti-spoofing rule")
  }

  /// Names with a dot or a dash work as gateway interfaces and in `iifname`/`oifname`; the one-probe helpers work.
  @Test(.kernelTests)
  func vlanAndBridgeInterfaceNamesWorkInRules() throws {
    let lab = try NetworkLab(interfaces: [
      LabInterface("ens2f0.40", hosts: ["10.50.0.10", "fd00:50::10"], prefixes: ["10.50.0.0/24", "fd00:50::/64"]),
      LabInterface("br-ctl", hosts: ["10.60.0.20", "fd00:60::20"], prefixes: ["0.0.0.0/0"]),
    ])
    defer { lab.close() }
    try lab.loadNftables(
      script: """
        table inet names {
          chain forward {
            type filter hook forward priority filter; policy drop;
            ct state established,related accept
            iifname "ens2f0.40" oifname "br-ctl" accept
          }
        }
        """)
    #expect(try lab.tcpConnects(from: "10.50.0.10", to: "10.60.0.20", port: 8080))
    #expect(try lab.tcpConnects(from: "fd00:50::10", to: "fd00:60::20", port: 8080))
    #expect(try lab.udpReaches(from: "10.50.0.10", to: "10.60.0.20", port: 514))
    #expect(try lab.pingReaches(from: "fd00:50::10", to: "fd00:60::20"))
    #expect(try lab.protoReaches(from: "10.50.0.10", to: "10.60.0.20", protocolNumber: 47))
    #expect(
      try lab.spoofedUDPArrives(fromInterfaceSide: "ens2f0.40", forgedSource: "10.50.0.99", to: "10.60.0.20", port: 514)
    )
    #expect(
      try lab.spoofedUDPArrives(
        fromInterfaceSide: "ens2f0.40", forgedSource: "fd00:50::99", to: "fd00:60::20", port: 514))
    #expect(try !lab.tcpConnects(from: "10.60.0.20", to: "10.50.0.10", port: 8080))
  }

  /// A listener in the gateway answers only whom its input chain lets in; IPv6 forwarding survives the chain.
  @Test(.kernelTests)
  func gatewayListenersAnswerThroughTheInputChain() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }
    let management: [Probe] = [
      .tcpToGateway(from: "10.30.0.31", port: 22), .tcpToGateway(from: "fd00:30::31", port: 22),
    ]
    let others: [Probe] = [.tcpToGateway(from: "10.40.0.10", port: 22), .tcpToGateway(from: "fd00:40::10", port: 22)]
    try lab.expectReachability(reachable: management + others, blocked: [])
    try lab.loadNftables(
      script: """
        table inet management {
          chain input {
            type filter hook input priority filter; policy drop;
            iif lo accept
            ct state established,related accept
            icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept
            ip saddr 10.30.0.31 tcp dport 22 accept
            ip6 saddr fd00:30::31 tcp dport 22 accept
          }
        }
        """)
    let forwarded: [Probe] = [.tcp(from: "fd00:30::31", to: "fd00:40::10", port: 502)]
    try lab.expectReachability(
      reachable: management + forwarded,
      blocked: others + [.tcpToGateway(from: "10.30.0.31", port: 23)])
  }

  /// A probe that cannot cross the gateway is a mistake in the test, not a blocked flow; a rejected ruleset says why.
  @Test(.kernelTests)
  func mistakesThrowWithTheirReason() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }
    #expect {
      try lab.loadNftables(script: "table inet broken {\n  chain forward {\n    bogus\n  }\n}\n")
    } throws: { error in
      (error as? CommandFailure)?.standardError.contains("bogus") == true
    }
    #expect(throws: CommandFailure.self) {
      try lab.loadIptables(ipv4: "*filter\n-A NOWHERE -j ACCEPT\nCOMMIT\n", ipv6: nil)
    }
    #expect(throws: NetworkLabError.self) { try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.99", port: 502) }
    #expect(throws: NetworkLabError.self) { try lab.tcpConnects(from: "10.40.0.10", to: "10.40.0.11", port: 502) }
    #expect(throws: NetworkLabError.self) { try lab.pingReaches(from: "10.30.0.31", to: "fd00:40::10") }
    #expect(throws: NetworkLabError.self) {
      try lab.spoofedUDPArrives(fromInterfaceSide: "eth9", forgedSource: "10.40.0.99", to: "10.40.0.10", port: 1)
    }
  }

  /// Names the kernel or the rulesets could not use are rejected before anything is created.
  @Test(arguments: ["", "abcdefghijklmnop", "eth 1", "eth/1", "eth1:0", "lo"])
  func badInterfaceNamesAreRejected(name: String) throws {
    #expect(throws: NetworkLabError.self) { try NetworkLab(interfaces: [LabInterface(name, hosts: ["10.1.0.1"])]) }
  }

  /// `close()` deletes every namespace and the lab's files.
  @Test(.kernelTests)
  func closingALabDeletesItsNamespaces() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    let names = Set(lab.namespaces)
    #expect(names.count == 3)
    #expect(try NetworkLab.existingNamespaces().isSuperset(of: names))
    lab.close()
    #expect(try NetworkLab.existingNamespaces().isDisjoint(with: names))
    #expect(!FileManager.default.fileExists(atPath: lab.workDirectory.path))
  }

  /// A lab nobody closes is cleaned up when it is released.
  @Test(.kernelTests)
  func aLabLeftToDeinitDeletesItsNamespaces() throws {
    var names: Set<String> = []
    do {
      let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
      names = Set(lab.namespaces)
    }
    #expect(names.count == 3)
    #expect(try NetworkLab.existingNamespaces().isDisjoint(with: names))
  }

  /// Links, addresses, routes, ruleset and forwarding sysctls of the host's namespace are the same afterwards.
  @Test(.kernelTests)
  func aLabLeavesTheHostNamespaceAlone() throws {
    let before = try hostNetworkState()
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    try lab.loadNftables(script: Self.nftRuleset)
    try lab.loadIptables(ipv4: Self.iptablesRuleset, ipv6: nil)
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 502))
    lab.close()
    #expect(try hostNetworkState() == before)
  }

  /// With `CONDUIT_REQUIRE_KERNEL_TESTS=1` (CI), a machine that cannot run kernel tests fails instead of skipping.
  @Test
  func kernelTestsAreAvailableWhenRequired() {
    guard KernelTestGate.isRequired else { return }
    #expect(
      KernelTestGate.missingCapability == nil,
      "\(KernelTestGate.requiredVariable)=1, but \(KernelTestGate.missingCapability ?? "")")
  }

  private func hostNetworkState() throws -> [String] {
    let tools = try KernelTestGate.requireCapability()
    let commands = [
      [tools.ip, "-o", "link", "show"], [tools.ip, "-o", "address", "show"], [tools.ip, "route", "show"],
      [tools.ip, "-6", "route", "show"], [tools.nft, "-s", "list", "ruleset"],
    ]
    let sysctls = [
      "ipv4/ip_forward", "ipv6/conf/all/forwarding", "ipv4/conf/all/rp_filter", "ipv6/conf/all/accept_dad",
    ]
    return try commands.map {
      try Command.run($0[0], Array($0.dropFirst())).check($0.joined(separator: " ")).standardOutput
    }
      + sysctls.map { (try? String(contentsOfFile: "/proc/sys/net/\($0)", encoding: .utf8)) ?? "?" }
  }
}
