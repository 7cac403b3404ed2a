import Foundation
import Testing

/// `conduit status`: which artifact runs, drift, a pending apply, counters and drops, read from the kernel of a lab
/// gateway without changing it.
@Suite(.serialized) struct StatusKernelTests {
  /// Runs `status` and checks that it changed the ruleset in nothing but the time left to the drop sets' elements.
  static func status(_ lab: NetworkLab, json: Bool = false) throws -> CommandOutput {
    func listing() throws -> String { try lab.nftListRuleset().replacing(#/ expires [0-9hms]+/#, with: "") }
    let ruleset = try listing()
    let result = try ConduitExecutable.run(
      ["status", "--netns", lab.gatewayNamespace] + (json ? ["--format", "json"] : []))
    #expect(try listing() == ruleset, "status changed the ruleset")
    return result
  }

  static func jsonObject(_ output: CommandOutput) throws -> [String: Any] {
    try #require(JSONSerialization.jsonObject(with: Data(output.standardOutput.utf8)) as? [String: Any])
  }

  @Test(.kernelTests) func statusNamesTheArtifactItsDriftCountersAndDrops() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let policy = try LockOutGuardKernelTests.write(ConntrackTests.applyPolicy, named: "cut.conduit", in: lab)

    let before = try Self.status(lab)
    #expect(before.status == 1, "\(before.standardError)")
    #expect(before.standardOutput.hasPrefix("no conduit table (network namespace \(lab.gatewayNamespace))\n"))
    #expect(before.standardOutput.contains("\nstatus: no conduit table is live\n"), "\(before.standardOutput)")
    #expect(DryRunKernelTests.stateFiles(lab) == nil, "status created the state directory")

    let applied = try LockOutGuardKernelTests.apply(policy, in: lab)
    #expect(applied.status == 0, "\(applied.standardError)")
    let healthy = try Self.status(lab)
    #expect(healthy.status == 0, "\(healthy.standardOutput)\(healthy.standardError)")
    #expect(healthy.standardOutput.hasPrefix("table inet conduit_cut (network namespace \(lab.gatewayNamespace))\n"))
    #expect(healthy.standardOutput.contains("  identity: conduit "))
    #expect(healthy.standardOutput.contains("  confirmed: site cut, gateway gw, compile digest "))
    #expect(healthy.standardOutput.contains("drift: none (the ruleset's generation id"), "\(healthy.standardOutput)")
    #expect(healthy.standardOutput.contains("\n  ops-ctl: 0 packets, 0 bytes\n"), "\(healthy.standardOutput)")
    #expect(healthy.standardOutput.hasSuffix("status: healthy\n"))

    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 502))
    #expect(try !lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 22))
    #expect(try !lab.tcpConnects(from: "fd00:30::31", to: "fd00:40::10", port: 8080))
    let counted = try Self.status(lab, json: true)
    #expect(counted.status == 0, "\(counted.standardOutput)\(counted.standardError)")
    let object = try Self.jsonObject(counted)
    #expect(
      Set(object.keys) == [
        "networkNamespace", "stateDirectory", "firewall", "table", "identity", "confirmed", "drift", "pending",
        "conduits", "chainDrops", "interfaceDrops", "droppedFlows", "tracksDrops", "otherTables", "iptablesChains",
        "problems", "healthy",
      ])
    let conduits = try #require(object["conduits"] as? [[String: Any]])
    #expect(conduits.count == 1 && conduits[0]["name"] as? String == "ops-ctl")
    #expect((conduits[0]["packets"] as? Int ?? 0) >= 1, "\(conduits)")
    let flows = try #require(object["droppedFlows"] as? [[String: Any]])
    let described = flows.map {
      "\($0["source"] ?? "") \($0["destination"] ?? "") \($0["protocol"] ?? "") \($0["port"] ?? "")"
    }
    #expect(described.contains("10.30.0.31 10.40.0.10 tcp 22"), "\(described)")
    #expect(described.contains("fd00:30::31 fd00:40::10 tcp 8080"), "\(described)")
    let interfaces = try #require(object["interfaceDrops"] as? [[String: Any]])
    let eth1ToEth2 = interfaces.first { $0["input"] as? String == "eth1" && $0["output"] as? String == "eth2" }
    #expect((eth1ToEth2?["packets"] as? Int ?? 0) >= 2, "\(interfaces)")
    let text = try Self.status(lab)
    #expect(text.standardOutput.contains("\n  eth1 -> eth2: "), "\(text.standardOutput)")
    #expect(text.standardOutput.contains("\n  10.30.0.31 -> 10.40.0.10 tcp port 22: "), "\(text.standardOutput)")

    let edit = try lab.runInGateway(
      lab.tools.nft, ["add", "element", "inet", "conduit_cut", "zones_v4", "{ \"eth1\" . 10.99.0.0/24 }"])
    #expect(edit.status == 0, "\(edit.standardError)")
    let drifted = try Self.status(lab)
    #expect(drifted.status == 1, "\(drifted.standardError)")
    #expect(
      drifted.standardOutput.contains(
        "drift: the live table differs from the recorded artifact:\n  set zones_v4: element \"eth1\" . 10.99.0.0/24 "
          + "added\n"), "\(drifted.standardOutput)")
    #expect(drifted.standardOutput.contains("status: the live table has drifted from the confirmed artifact"))

    // Saved with the drops in its dynamic sets, the table is restored with its rules and the sets empty.
    let pending = try LockOutGuardKernelTests.apply(policy, in: lab, ["--confirm", "60"])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
    let restored = try Self.status(lab, json: true)
    let after = try Self.jsonObject(restored)
    #expect((after["droppedFlows"] as? [Any])?.isEmpty == true, "\(restored.standardOutput)")
    let drift = try #require(after["drift"] as? [String: Any])
    #expect(
      drift["differences"] as? [String] == ["set zones_v4: element \"eth1\" . 10.99.0.0/24 added"],
      "\(restored.standardOutput)")
  }

  @Test(.kernelTests) func aPendingApplyAnOldSitesTableAndExpiryAreReported() throws {
    let lab = try ExpiryKernelTests.lab()
    defer { lab.close() }
    let policy = try LockOutGuardKernelTests.write(
      ExpiryKernelTests.policy.replacingOccurrences(
        of: "expires \(ExpiryKernelTests.day(365))", with: "expires \(ExpiryKernelTests.day(10))"),
      named: "expiry.conduit", in: lab)
    let pending = try ConduitExecutable.run([
      "apply", policy, "--netns", lab.gatewayNamespace, "--today", "\(ExpiryKernelTests.day(-15))", "--confirm", "60",
    ])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(try lab.runInGateway(lab.tools.nft, ["add", "table", "inet", "conduit_oldsite"]).status == 0)

    let report = try Self.status(lab)
    #expect(report.status == 1, "\(report.standardError)")
    let out = report.standardOutput
    #expect(out.contains("pending: an apply of table conduit_expiry made "), "\(out)")
    #expect(out.contains("waits for `conduit confirm`; rolled back at "), "\(out)")
    #expect(out.contains("drift: none"), "the live table is the pending artifact: \(out)")
    #expect(out.contains("\n  ops-ctl: 0 packets, 0 bytes; expired at "), "\(out)")
    #expect(out.contains("\n  ops-dmz: 0 packets, 0 bytes; expires at "), "\(out)")
    #expect(out.contains(", within 30 days\n"), "\(out)")
    #expect(out.contains("other conduit tables: inet conduit_oldsite (both drop)"), "\(out)")
    #expect(out.contains("status: an apply is pending: `conduit confirm --netns \(lab.gatewayNamespace)` keeps it"))
    #expect(out.contains("status: conduit 'ops-ctl' has expired"), "\(out)")
    #expect(out.contains("status: other conduit tables are present (conduit_oldsite)"), "\(out)")
    let json = try Self.jsonObject(try Self.status(lab, json: true))
    let pendingObject = try #require(json["pending"] as? [String: Any])
    #expect((pendingObject["secondsLeft"] as? Int ?? 0) > 0)
    #expect(json["healthy"] as? Bool == false)
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
  }

  @Test(.kernelTests) func anIptablesGatewayShowsItsChainCountersAndThePendingApply() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let policy = try LockOutGuardKernelTests.write(ConntrackTests.applyPolicy, named: "ipt.conduit", in: lab)
    let pending = try IptablesGatewayKernelTests.apply(policy, in: lab, ["--confirm", "60"])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 502))
    let report = try Self.status(lab)
    #expect(report.status == 1, "\(report.standardError)")
    let out = report.standardOutput
    #expect(out.hasPrefix("iptables gateway (network namespace \(lab.gatewayNamespace))"), "\(out)")
    #expect(out.contains("pending: an apply of table filter made "), "\(out)")
    #expect(out.contains("\n  ipv4 FORWARD: "), "\(out)")
    #expect(out.contains("; policy DROP: "), "\(out)")
    let json = try Self.jsonObject(try Self.status(lab, json: true))
    let chains = try #require(json["iptablesChains"] as? [[String: Any]])
    let counted = chains.contains {
      ($0["family"] as? String) == "ipv4" && ($0["policy"] is NSNull) && ($0["packets"] as? Int ?? 0) >= 1
    }
    #expect(counted, "a conduit chain counts the connection: \(chains)")
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
  }
}
