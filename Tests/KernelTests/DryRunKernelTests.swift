import Foundation
import Testing

/// `apply --dry-run`: what applying would change, shown against the live table, with nothing changed in the kernel
/// or the state directory.
@Suite(.serialized) struct DryRunKernelTests {
  /// The state directory's files (name, size, modification time), or nil when it does not exist.
  static func stateFiles(_ lab: NetworkLab) -> [String]? {
    let path = ConduitExecutable.stateRoot + "/netns/" + lab.gatewayNamespace
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return nil }
    return names.sorted().map { name in
      let attributes = (try? FileManager.default.attributesOfItem(atPath: path + "/" + name)) ?? [:]
      return "\(name) \(attributes[.size] ?? "-") \(attributes[.modificationDate] ?? "-")"
    }
  }

  /// Runs `apply POLICY --dry-run` and checks that it changed neither the ruleset nor the state directory.
  static func dryRun(_ policy: URL, in lab: NetworkLab) throws -> CommandOutput {
    let ruleset = try lab.nftListRuleset()
    let files = stateFiles(lab)
    let result = try ConduitExecutable.run([
      "apply", policy.path, "--netns", lab.gatewayNamespace, "--today", "2026-11-28", "--dry-run",
    ])
    #expect(try lab.nftListRuleset() == ruleset, "a dry run changed the ruleset")
    #expect(stateFiles(lab) == files, "a dry run changed the state directory")
    return result
  }

  /// Writes `text` as `site.conduit` in a directory of its own (so that two versions of a policy name the same file,
  /// as an edited policy does, and their elements' comments agree); remove it with `removeItem(at: url.deletingLastPathComponent())`.
  static func policyFile(_ text: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-dry-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent("site.conduit")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  @Test(.kernelTests) func aDryRunShowsCreationFlowsAndDriftAndTouchesNothing() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let old = try Self.policyFile(ConntrackTests.applyPolicy)
    let new = try Self.policyFile(
      ConntrackTests.applyPolicy.replacingOccurrences(of: "tcp/502, tcp/503", with: "tcp/503, tcp/504"))
    defer {
      try? FileManager.default.removeItem(at: old.deletingLastPathComponent())
      try? FileManager.default.removeItem(at: new.deletingLastPathComponent())
    }

    let creation = try Self.dryRun(old, in: lab)
    #expect(creation.status == 1, "\(creation.standardError)")
    #expect(
      creation.standardOutput.contains(
        "table inet conduit_cut in network namespace \(lab.gatewayNamespace) does not exist; apply would create it:"))
    #expect(creation.standardOutput.contains("  5 chains (c_ops_ctl, c_ops_ctl_log, forward, input, identity)"))
    #expect(Self.stateFiles(lab) == nil, "a dry run created the state directory")

    let applied = try ConduitExecutable.run([
      "apply", old.path, "--netns", lab.gatewayNamespace, "--today", "2026-11-28",
    ])
    #expect(applied.status == 0, "\(applied.standardError)")
    let again = try Self.dryRun(old, in: lab)
    #expect(again.status == 0, "\(again.standardOutput)\(again.standardError)")
    #expect(again.standardOutput.contains("runs the confirmed artifact"))
    #expect(again.standardOutput.contains("no flow is added or removed"))
    #expect(again.standardOutput.hasSuffix("dry run: nothing would change\n"))

    let changed = try Self.dryRun(new, in: lab)
    #expect(changed.status == 1, "\(changed.standardError)")
    let flows = """
      conduit 'ops-ctl':
        + hmi (10.30.0.31) -> plc (10.40.0.10) tcp/504
        + hmi (fd00:30::31) -> plc (fd00:40::10) tcp/504
        - hmi (10.30.0.31) -> plc (10.40.0.10) tcp/502
        - hmi (fd00:30::31) -> plc (fd00:40::10) tcp/502
      2 added, 2 removed

      """
    #expect(changed.standardOutput.contains(flows), "\(changed.standardOutput)")
    #expect(changed.standardOutput.contains("identity: conduit "))
    #expect(!changed.standardOutput.contains("other table objects"), "\(changed.standardOutput)")

    let edit = try lab.runInGateway(
      lab.tools.nft, ["add", "element", "inet", "conduit_cut", "zones_v4", "{ \"eth1\" . 10.99.0.0/24 }"])
    #expect(edit.status == 0, "\(edit.standardError)")
    let drifted = try Self.dryRun(old, in: lab)
    #expect(drifted.status == 1, "\(drifted.standardError)")
    #expect(
      drifted.standardOutput.contains(
        "no flow view: the live table has drifted from the confirmed artifact: set zones_v4: element \"eth1\" . "
          + "10.99.0.0/24 added\n"), "\(drifted.standardOutput)")
    #expect(drifted.standardOutput.contains("\n  set zones_v4: element \"eth1\" . 10.99.0.0/24 removed\n"))

    let pending = try ConduitExecutable.run([
      "apply", new.path, "--netns", lab.gatewayNamespace, "--today", "2026-11-28", "--confirm", "60",
    ])
    #expect(pending.status == 0, "\(pending.standardError)")
    let refused = try Self.dryRun(new, in: lab)
    #expect(refused.status == 1, "\(refused.standardError)")
    #expect(refused.standardOutput.contains("no flow view: the live table's identity"), "\(refused.standardOutput)")
    #expect(refused.standardOutput.contains("apply would refuse: an apply of table conduit_cut is pending"))
    #expect(refused.standardOutput.hasSuffix("dry run: apply would not go through; nothing was changed\n"))
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
  }

  @Test(.kernelTests) func aDryRunSaysWhatTheLockOutGuardWouldRefuse() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let server = try LockOutGuardKernelTests.startGatewayEchoServer(in: lab)
    defer { server.kill() }
    let gateway = try lab.gatewayAddress(on: "eth1", family: .ipv4)
    let held = try HeldConnection(lab: lab, from: "10.30.0.31", to: gateway, port: 22)
    defer { held.process.kill() }
    let admittingText = LockOutGuardKernelTests.policy(management: "management service ssh from hmi")
    let admitting = try LockOutGuardKernelTests.write(admittingText, named: "admitting.conduit", in: lab)
    let other = try LockOutGuardKernelTests.write(
      LockOutGuardKernelTests.policy(management: "management service ssh from plc"), named: "other.conduit", in: lab)
    #expect(try LockOutGuardKernelTests.apply(admitting, in: lab).status == 0)
    let line = try #require(
      admittingText.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
        $0.contains("management service")
      })
    let refused = try Self.dryRun(URL(fileURLWithPath: other), in: lab)
    #expect(refused.status == 1, "\(refused.standardError)")
    #expect(
      refused.standardOutput.contains(
        "apply would refuse: the new ruleset would lock out 1 open management session (--no-guard applies anyway):\n"
          + "  10.30.0.31 port \(held.localPort) to \(gateway) port 22 (arriving on eth1): no management line admits "
          + "tcp/22 from 10.30.0.31; admitted today by: admitting.conduit:\(line + 1):"), "\(refused.standardOutput)")
  }

  @Test(.kernelTests) func withoutPermissionADryRunSaysWhy() throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let directory = try ArtifactApplyTests.WorldReadableDirectory()
    defer { directory.remove() }
    let executable = directory.url.appendingPathComponent("conduit")
    try FileManager.default.copyItem(at: ConduitExecutable.url, to: executable)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
    let artifact = directory.url.appendingPathComponent("artifact.nftb")
    try Data(try ArtifactApplyTests.compiled(testCase).artifact.encoded()).write(to: artifact)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: artifact.path)
    let command = "cd '\(directory.url.path)' && ./conduit apply artifact.nftb --dry-run"
    let result = try Command.run("/usr/sbin/runuser", ["-u", "nobody", "--", "/bin/sh", "-c", command])
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("permission denied: a dry run lists the live ruleset"))
  }
}
