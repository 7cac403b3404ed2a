import FirewallIR
import Foundation
import NftablesBackend
import PolicyLanguage
import Testing

/// `apply --confirm`, `confirm` and `rollback` on a gateway namespace: an unconfirmed apply undoes itself, exactly.
@Suite(.serialized) struct SafeApplyKernelTests {
  static func conduitTable(in lab: NetworkLab) throws -> String {
    let listing = try lab.nftListRulesetWithSortedElements()
    guard let start = listing.range(of: "table inet conduit") else { return "" }
    return String(listing[start.lowerBound...])
  }

  static func waitUntil(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return true }
      usleep(100_000)
    }
    return try condition()
  }

  @Test(.kernelTests) func anUnconfirmedApplyOverNoTableLeavesNoTable() throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let (_, artifact) = try ArtifactApplyTests.compiled(testCase)
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let started = Date()
    let result = try ArtifactApplyTests.apply(artifact.encoded(), in: lab, ["--confirm", "2"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(Date().timeIntervalSince(started) < 2, "apply --confirm returns at once")
    #expect(result.standardOutput.contains("pending confirmation"))
    #expect(try !Self.conduitTable(in: lab).isEmpty)
    #expect(try Self.waitUntil(seconds: 6) { try Self.conduitTable(in: lab).isEmpty })
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 1)
    #expect(rollback.standardError.contains("the watchdog rolled back"))
  }

  @Test(.kernelTests) func anUnconfirmedApplyOverAHandEditedTableRestoresItExactly() throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let (_, artifact) = try ArtifactApplyTests.compiled(testCase)
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    #expect(try ArtifactApplyTests.apply(artifact.encoded(), in: lab).status == 0)
    let table = artifact.header.table
    for edit in [
      ["add", "set", "inet", table, "hand", "{ type ipv4_addr; flags interval; }"],
      ["add", "element", "inet", table, "hand", "{ 10.9.0.0/16, 10.1.2.3, 192.168.0.0-192.168.0.20 }"],
      ["insert", "rule", "inet", table, "forward", "ip", "saddr", "@hand", "drop"],
      [
        "add", "rule", "inet", table, "forward", "ip", "saddr", "{ 192.0.2.4, 192.0.2.8 }", "tcp", "dport",
        "{ 22, 80-90 }", "counter", "accept", "comment", "\"hand edit\"",
      ],
    ] {
      let output = try lab.runInGateway(lab.tools.nft, edit)
      #expect(output.status == 0, "\(output.standardError)")
    }
    let before = try Self.conduitTable(in: lab)
    #expect(before.contains("hand edit"))
    let result = try ArtifactApplyTests.apply(artifact.encoded(), in: lab, ["--confirm", "30"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(try !Self.conduitTable(in: lab).contains("hand edit"))
    let second = try ArtifactApplyTests.apply(artifact.encoded(), in: lab, ["--confirm", "30"])
    #expect(second.status == 1)
    #expect(second.standardError.contains("is pending"))
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(try Self.conduitTable(in: lab) == before)
  }

  /// The artifact of a sample gateway compiled with `mitigations`, as `ArtifactApplyTests.compiled` makes it.
  static func artifact(_ testCase: SamplePacketTests.Case, mitigations: [String]) throws -> NftablesArtifact {
    let checked = try SamplePacketTests.checked(testCase.policy)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: testCase.gateway, mitigations: mitigations),
      diagnostics: &diagnostics)
    return try NftablesArtifact.compiled(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics))
  }

  /// The artifact of sample gateway gw-c3 (A) and the same gateway with its mitigation ews-quarantine compiled in (B).
  static func twoArtifacts() throws -> (testCase: SamplePacketTests.Case, a: NftablesArtifact, b: NftablesArtifact) {
    let testCase = try #require(try ArtifactApplyTests.cases.first { $0.gateway == "gw-c3" })
    return (
      testCase, try ArtifactApplyTests.compiled(testCase).artifact,
      try artifact(testCase, mitigations: ["ews-quarantine"])
    )
  }

  /// Over conduit's own unedited table (A, confirmed), an unconfirmed apply of another artifact (B) is undone
  /// exactly, by `rollback` and by the watchdog at the deadline: the table lists as A did.
  @Test(.kernelTests) func anUnconfirmedApplyOverAConfirmedTableRestoresItExactly() throws {
    let (testCase, a, b) = try Self.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let confirmed = try ArtifactApplyTests.apply(a.encoded(), in: lab)
    #expect(confirmed.status == 0, "\(confirmed.standardError)")
    let listedA = try Self.conduitTable(in: lab)
    #expect(listedA.contains("table inet \(a.header.table)"))

    let byHand = try ArtifactApplyTests.apply(b.encoded(), in: lab, ["--confirm", "30"])
    #expect(byHand.status == 0, "\(byHand.standardError)")
    let listedB = try Self.conduitTable(in: lab)
    #expect(listedB != listedA, "the mitigation changes the table")
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(rollback.standardOutput.contains("restored table \(a.header.table)"))
    #expect(try Self.conduitTable(in: lab) == listedA)

    let byWatchdog = try ArtifactApplyTests.apply(b.encoded(), in: lab, ["--confirm", "2"])
    #expect(byWatchdog.status == 0, "\(byWatchdog.standardError)")
    #expect(try Self.conduitTable(in: lab) == listedB)
    #expect(try Self.waitUntil(seconds: 6) { try Self.conduitTable(in: lab) == listedA })
    let late = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(late.status == 1)
    #expect(late.standardError.contains("the watchdog rolled back"))
  }

  @Test(.kernelTests) func aConfirmedApplyStaysPastItsDeadline() throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let (_, artifact) = try ArtifactApplyTests.compiled(testCase)
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    #expect(try ConduitExecutable.run(["confirm", "--netns", lab.gatewayNamespace]).status == 1)
    #expect(try ArtifactApplyTests.apply(artifact.encoded(), in: lab, ["--confirm", "2"]).status == 0)
    let applied = try Self.conduitTable(in: lab)
    let confirm = try ConduitExecutable.run(["confirm", "--netns", lab.gatewayNamespace])
    #expect(confirm.status == 0, "\(confirm.standardError)")
    #expect(confirm.standardOutput.contains("confirmed table inet"))
    usleep(3_000_000)
    #expect(try Self.conduitTable(in: lab) == applied)
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 1)
  }
}

/// `conduit remove`: conduit's table deleted in one transaction; with `--confirm` put back exactly unless
/// confirmed, by `rollback` or by the watchdog; a removal that stands forgets the confirmed artifact.
@Suite(.serialized) struct SafeRemoveKernelTests {
  @Test(.kernelTests) func aRemovalIsUndoneExactlyUnlessConfirmed() throws {
    let testCase = try #require(try ArtifactApplyTests.cases.first)
    let (_, artifact) = try ArtifactApplyTests.compiled(testCase)
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    #expect(try ArtifactApplyTests.apply(artifact.encoded(), in: lab).status == 0)
    let edit = try lab.runInGateway(
      lab.tools.nft, ["add", "rule", "inet", artifact.header.table, "forward", "ip", "saddr", "192.0.2.9", "drop"])
    #expect(edit.status == 0, "\(edit.standardError)")
    let before = try SafeApplyKernelTests.conduitTable(in: lab)
    let confirmed = ConduitExecutable.stateRoot + "/netns/\(lab.gatewayNamespace)/confirmed.nftb"
    #expect(FileManager.default.fileExists(atPath: confirmed))

    let pending = try ConduitExecutable.run(["remove", "--netns", lab.gatewayNamespace, "--confirm", "30"])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(pending.standardOutput.contains("removed table inet \(artifact.header.table)"))
    #expect(pending.standardOutput.contains("pending confirmation"))
    #expect(try SafeApplyKernelTests.conduitTable(in: lab).isEmpty)
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(rollback.standardOutput.contains("rolled back the removal of table inet"))
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == before)

    #expect(try ConduitExecutable.run(["remove", "--netns", lab.gatewayNamespace, "--confirm", "2"]).status == 0)
    #expect(try SafeApplyKernelTests.waitUntil(seconds: 8) { try SafeApplyKernelTests.conduitTable(in: lab) == before })

    let removed = try ConduitExecutable.run(["remove", "--netns", lab.gatewayNamespace])
    #expect(removed.status == 0, "\(removed.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: confirmed), "a removal that stands forgets the confirmed artifact")
    let nothing = try ConduitExecutable.run(["remove", "--netns", lab.gatewayNamespace])
    #expect(nothing.status == 1)
    #expect(nothing.standardError.contains("no conduit table is loaded here"))
  }
}
