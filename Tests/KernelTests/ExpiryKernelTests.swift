import Foundation
import PolicyModel
import Testing

/// Expiry in the kernel: once a conduit's `expires` day has ended, its chain drops new connections (and counts
/// them) without a recompile, while a conduit that has not expired keeps passing; for nft and iptables.
@Suite(.serialized) struct ExpiryKernelTests {
  /// Days from now (UTC) as a calendar day.
  static func day(_ offset: Int) -> CalendarDay {
    CalendarDay.today(secondsSinceEpoch: Date().timeIntervalSince1970 + Double(offset) * 86_400)
  }

  /// ops-ctl expired ten days ago; ops-dmz expires in a year. Compiled as of fifteen days ago, both were live then.
  static var policy: String {
    """
    site expiry
    zone ops {
      level 3; security-level 2
      network 10.30.0.0/24, fd00:30::/64
    }
    zone ctl {
      level 2; security-level 2
      network 10.40.0.0/24, fd00:40::/64
    }
    zone dmz {
      level 3; security-level 2
      network 10.50.0.0/24
    }
    asset hmi { address 10.30.0.31, fd00:30::31 }
    asset plc { address 10.40.0.10, fd00:40::10 }
    asset mirror { address 10.50.0.5 }
    gateway gw {
      interface eth1 ops
      interface eth2 ctl
      interface eth3 dmz
    }
    conduit ops-ctl {
      between ops and ctl
      owner "ot"; justification "test"
      expires \(day(-10))
      allow hmi -> plc service tcp/502
    }
    conduit ops-dmz {
      between ops and dmz
      owner "ot"; justification "test"
      expires \(day(365))
      allow hmi -> mirror service tcp/443
    }

    """
  }

  static func lab() throws -> NetworkLab {
    try NetworkLab(interfaces: [
      ConntrackTests.eth1, ConntrackTests.eth2,
      LabInterface("eth3", hosts: ["10.50.0.5"], prefixes: ["10.50.0.0/24"]),
    ])
  }

  @Test(.kernelTests, arguments: ["nft", "iptables"])
  func anExpiredConduitIsDroppedByTheKernelWhileALiveOnePasses(_ target: String) throws {
    let lab = try Self.lab()
    defer { lab.close() }
    let policy = try LockOutGuardKernelTests.write(Self.policy, named: "expiry.conduit", in: lab)
    let apply = try ConduitExecutable.run([
      "apply", policy, "--netns", lab.gatewayNamespace, "--today", "\(Self.day(-15))", "--target", target,
    ])
    #expect(apply.status == 0, "\(apply.standardError)")
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.50.0.5", port: 443), "the live conduit passes")
    #expect(try !lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 502), "the expired conduit is dropped")
    #expect(try !lab.tcpConnects(from: "fd00:30::31", to: "fd00:40::10", port: 502))
    if target == "nft" {
      let dropped = try lab.nftRuleCounters(table: "conduit_expiry", chain: "c_ops_ctl")
        .filter { $0.rule.hasPrefix("meta time >=") && $0.rule.hasSuffix("drop") }
      #expect(dropped.count == 1 && dropped[0].packets >= 2, "\(dropped)")
      let live = try lab.nftRuleCounters(table: "conduit_expiry", chain: "c_ops_dmz")
        .filter { $0.rule.hasSuffix("drop") }
      #expect(live.count == 1 && live[0].packets == 0, "\(live)")
    } else {
      let dropped = try lab.iptablesRuleCounters(chain: "c-ops-ctl").filter { $0.rule.hasSuffix("-j DROP") }
      #expect(dropped.count == 1 && dropped[0].packets >= 1, "\(dropped)")
      let dropped6 = try lab.iptablesRuleCounters(ipv6: true, chain: "c-ops-ctl").filter {
        $0.rule.hasSuffix("-j DROP")
      }
      #expect(dropped6.count == 1 && dropped6[0].packets >= 1, "\(dropped6)")
    }
  }
}
