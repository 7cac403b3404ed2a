import Foundation
import Testing

@Suite struct CompileCommandTests {
  let today = ["--today", "2026-11-28"]

  final class Scratch {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-compile-\(UUID().uuidString)")
    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(at: url) }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
  }

  @Test func writesTheArtifactAtomicallyToTheOutputFile() throws {
    let scratch = try Scratch()
    let policy = try ConduitRunner.fixture("riverside/riverside.conduit")
    let output = scratch.path("riverside.nft")
    let written = try ConduitRunner.run(["compile", policy, "--target", "nft-text", "-o", output] + today)
    #expect(written.status == 0, "\(written.standardError)")
    #expect(written.standardOutput.isEmpty)
    let printed = try ConduitRunner.run(["compile", policy, "--target", "nft-text"] + today)
    #expect(try String(contentsOfFile: output, encoding: .utf8) == printed.standardOutput)
    #expect(printed.standardOutput.hasPrefix("# conduit ruleset for gateway gw-core\ntable inet conduit_riverside\n"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["riverside.nft"])
  }

  @Test func refusesWithoutWritingWhenTheCheckFindsErrors() throws {
    let scratch = try Scratch()
    let output = scratch.path("out.nft")
    try "previous artifact\n".write(toFile: output, atomically: true, encoding: .utf8)
    let directory = try ConduitRunner.fixture("riverside")
    let result = try ConduitRunner.run(["compile", "broken.conduit", "-o", output] + today, in: directory)
    #expect(result.status == 1)
    #expect(result.standardError.contains("compile refused; nothing was written"))
    #expect(result.standardError.contains("broken.conduit:19:18: error: unknown asset 'plc-3' [unknown-name]"))
    #expect(try String(contentsOfFile: output, encoding: .utf8) == "previous artifact\n")
  }

  /// The ruleset is built while the checks run; findings of the check alone (the policy resolves) still refuse,
  /// for every target, and come before a usage error of the lowering.
  @Test(arguments: ["nft", "nft-text", "iptables", "flows"])
  func checkOnlyErrorsRefuseEveryTarget(_ target: String) throws {
    let scratch = try Scratch()
    let policy = """
      site twice
      zone ops { level 3; security-level 2; network 10.30.0.0/24 }
      zone ctl { level 1; security-level 3; network 10.30.0.128/25 }
      zone ent { level 4; security-level 1; network 10.10.0.0/24 }
      asset hmi-1 { address 10.30.0.31 }
      asset plc-1 { address 10.30.0.200 }
      asset pc-1 { address 10.10.0.5 }
      gateway gw { interface eth0 ops, ctl; interface eth1 ent }
      conduit a { between ops and ctl; security-level 3; owner "ot"; justification "x"
        allow hmi-1 -> plc-1 service modbus }
      conduit b { between ctl and ops; security-level 3; owner "ot"; justification "x"
        allow hmi-1 -> plc-1 service modbus }
      conduit c { between ent and ctl; security-level 3; owner "it"; justification "x"
        allow pc-1 -> plc-1 service https }

      """
    try policy.write(toFile: scratch.path("twice.conduit"), atomically: true, encoding: .utf8)
    let output = scratch.path("out")
    for gateway in [["--gateway", "gw"], ["--gateway", "nope"]] {
      let result = try ConduitRunner.run(
        ["compile", "twice.conduit", "--target", target, "-o", output] + gateway + today, in: scratch.url.path)
      #expect(result.status == 1, "\(result.standardError)")
      for id in ["overlapping-zones", "duplicate-conduit", "hairpin-conduit", "purdue-skip"] {
        #expect(result.standardError.contains("[\(id)]"), "\(id)")
      }
      #expect(result.standardError.hasSuffix("conduit: compile refused; nothing was written\n"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["twice.conduit"])
  }

  @Test func expiredConduitRefusesUnlessMitigationsAreCompiledIn() throws {
    let directory = try ConduitRunner.fixture("riverside")
    let refused = try ConduitRunner.run(["compile", "riverside.conduit", "--today", "2027-07-01"], in: directory)
    #expect(refused.status == 1)
    #expect(refused.standardError.contains("[expired-conduit]"))
    let emergency = try ConduitRunner.run(
      [
        "compile", "riverside.conduit", "--target", "nft-text", "--today", "2027-07-01", "--mitigation",
        "isolate-plc-2",
      ],
      in: directory)
    #expect(emergency.status == 0, "\(emergency.standardError)")
    #expect(emergency.standardError.contains("warning: conduit 'operations-control' expired on 2027-06-30"))
    #expect(emergency.standardOutput.contains("# mitigations: isolate-plc-2"))
  }

  @Test func severalGatewaysNeedGatewayAndUnknownNamesAreUsageErrors() throws {
    let policy = SamplePolicyTests.policiesDirectory.appendingPathComponent("water-treatment/millbrook.conduit").path
    let ambiguous = try ConduitRunner.run(["compile", policy] + today)
    #expect(ambiguous.status == 64)
    #expect(ambiguous.standardError.contains("choose one with --gateway: gw-edge, gw-core"))
    let unknownGateway = try ConduitRunner.run(["compile", policy, "--gateway", "gw-x"] + today)
    #expect(unknownGateway.status == 64)
    let unknownMitigation = try ConduitRunner.run(
      ["compile", policy, "--gateway", "gw-core", "--mitigation", "x"] + today)
    #expect(unknownMitigation.status == 64)
    let binary = try ConduitRunner.run(["compile", policy, "--gateway", "gw-core"] + today)
    #expect(binary.status == 0)
    #expect(binary.standardOutput.hasPrefix("CDTNFT\r\n"))
  }

  @Test func flowsTargetListsEveryAllowedFlowWithItsRules() throws {
    let policy = try ConduitRunner.fixture("riverside/riverside.conduit")
    let result = try ConduitRunner.run(["compile", policy, "--target", "flows"] + today)
    #expect(result.status == 0)
    let document = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
    #expect(document["gateway"] as? String == "gw-core")
    let flows = try #require(document["flows"] as? [[String: Any]])
    let modbus = try #require(flows.first { $0["ports"] as? String == "502" })
    #expect(modbus["sources"] as? String == "10.30.0.31")
    #expect(modbus["destinations"] as? String == "10.40.0.10/31")
    #expect(modbus["conduit"] as? String == "operations-control")
    #expect((modbus["rules"] as? [String])?.first?.hasSuffix("riverside.conduit:58") == true)
  }

  @Test(arguments: ["iptables", "ip6tables"])
  func iptablesTargetsReplaceTheFilterTable(_ target: String) throws {
    let policy = try ConduitRunner.fixture("riverside/riverside.conduit")
    let result = try ConduitRunner.run(["compile", policy, "--target", target] + today)
    #expect(result.status == 0, "\(result.standardError)")
    let lines = result.standardOutput.split(separator: "\n").map(String.init)
    #expect(lines.contains("*filter"))
    #expect(lines.contains(":FORWARD DROP [0:0]"))
    #expect(lines.contains(":INPUT DROP [0:0]"))
    #expect(lines.last == "COMMIT")
  }
}
