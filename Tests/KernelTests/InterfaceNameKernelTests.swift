import Foundation
import Testing

/// Interface names the checker accepts that mean something elsewhere (`$`, a variable in nft log prefixes; `!`,
/// negation in iptables; a non-ASCII letter): the policy checks clean, and every target loads and filters on the
/// interfaces as they are named.
@Suite(.serialized) struct InterfaceNameKernelTests {
  static let policy = """
    zone ops { level 3; security-level 2; network 10.30.0.0/24 }
    zone ctl { level 3; security-level 2; network 10.40.0.0/24 }
    zone dmz { level 3; security-level 2; network 10.50.0.0/24 }
    gateway gw {
      interface "a$b" ops
      interface "!" ctl
      interface "é-1" dmz
      accept-risk no-management "a test gateway: its own input is not filtered"
    }
    conduit ops-ctl {
      between ops and ctl
      security-level 2; owner "ot"; justification "polling"
      allow 10.30.0.31 -> 10.40.0.10 service tcp/502
    }
    conduit ops-dmz {
      between ops and dmz
      security-level 2; owner "ot"; justification "opc"
      allow 10.30.0.31 -> 10.50.0.5 service tcp/4840
    }

    """

  @Test(.kernelTests) func everyTargetMatchesInterfacesWithDollarBangAndNonASCIINamesAsNamed() throws {
    let directory = try HostileNamesKernelTests.OutputDirectory()
    let policy = directory.url.appendingPathComponent("interfaces.conduit")
    try Self.policy.write(to: policy, atomically: true, encoding: .utf8)
    let checked = try ConduitExecutable.run(["check", policy.path])
    #expect(checked.status == 0, "\(checked.standardError)")
    func compile(_ target: String) throws -> URL {
      let output = directory.url.appendingPathComponent("out.\(target)")
      let result = try ConduitExecutable.run([
        "compile", policy.path, "--target", target, "--today", "2026-12-01", "-o", output.path,
      ])
      #expect(result.status == 0, "compile --target \(target): \(result.standardError)")
      return output
    }
    let text = try String(contentsOf: compile("nft-text"), encoding: .utf8)
    let artifact = try compile("nft")
    let iptables = try String(contentsOf: compile("iptables"), encoding: .utf8)
    let ip6tables = try String(contentsOf: compile("ip6tables"), encoding: .utf8)

    let lab = try NetworkLab(interfaces: [
      LabInterface("a$b", hosts: ["10.30.0.31"]), LabInterface("!", hosts: ["10.40.0.10"]),
      LabInterface("é-1", hosts: ["10.50.0.5"]),
    ])
    defer { lab.close() }
    try lab.loadNftables(script: text)
    try HostileNamesKernelTests.expectFiltering(lab, "nft -f")
    let table = try #require(text.split(separator: "\n").first { $0.hasPrefix("table inet ") })
    try lab.runInGateway("nft", ["delete"] + table.split(separator: " ").prefix(3).map(String.init))
      .check("nft delete table")

    let applied = try ConduitExecutable.run(["apply", artifact.path, "--netns", lab.gatewayNamespace])
    #expect(applied.status == 0, "\(applied.standardError)")
    try HostileNamesKernelTests.expectFiltering(lab, "conduit apply")
    try lab.runInGateway("nft", ["delete"] + table.split(separator: " ").prefix(3).map(String.init))
      .check("nft delete table")

    try lab.loadIptables(ipv4: iptables, ipv6: ip6tables)
    try HostileNamesKernelTests.expectFiltering(lab, "iptables-restore")
  }
}
