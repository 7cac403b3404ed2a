import FirewallIR
import Foundation
import NftablesBackend
import PolicyLanguage
import PolicyTestSupport
import Testing

/// Incremental apply (OPERATIONS.md): over the confirmed artifact without drift, `apply` sends only the difference,
/// and the table then lists as a full apply of the new artifact does; counters of unchanged elements survive; drift
/// makes a full replace; a rollback after an incremental `--confirm` apply restores exactly.
@Suite(.serialized) struct IncrementalApplyKernelTests {
  static func artifact(_ text: String) throws -> NftablesArtifact {
    let checked = try checkPolicy(text: text)
    #expect(!checked.hasErrors, "\(checked.diagnostics.filter { $0.severity == .error }.map(\.message))\n\(text)")
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(gateway: "gw"), diagnostics: &diagnostics)
    return try NftablesArtifact.compiled(ruleset, names: NftablesNames(ruleset, diagnostics: &diagnostics))
  }

  /// `text` with one port of one rule edited in place (no policy line moves); `text` itself when it names none.
  static func portEdited(_ text: String) -> String {
    for (from, to) in [("udp/161", "udp/163"), ("tcp/502", "tcp/504"), ("udp/2222", "udp/2223")] {
      if let range = text.range(of: from) { return text.replacingCharacters(in: range, with: to) }
    }
    return text
  }

  /// `text` with its first conduit expiring (its chain's rules change).
  static func expiryAdded(_ text: String) -> String {
    guard let range = text.range(of: "  between ") else { return text }
    return text.replacingCharacters(in: range.lowerBound..<range.lowerBound, with: "  expires 2099-12-31\n")
  }

  /// Applies `artifact` with a state directory of its own, which holds no confirmed artifact: a full replace. The
  /// table's listing then is what a full apply of `artifact` gives.
  static func fullApplyListing(_ artifact: NftablesArtifact, in lab: NetworkLab) throws -> String {
    let state = lab.workDirectory.appendingPathComponent("full-\(UUID().uuidString)").path
    let full = try ArtifactApplyTests.apply(artifact.encoded(), in: lab, ["--force", "--state-dir", state])
    #expect(full.status == 0, "\(full.standardError)")
    #expect(full.standardOutput.contains("full replace (no confirmed artifact"), "\(full.standardOutput)")
    return try SafeApplyKernelTests.conduitTable(in: lab)
  }

  /// Random sites of one layout: a site, the site with one port edited, and the site with other conduits. Applied
  /// one after the other, each apply over the last one lists as a full apply of its artifact; the port edit is
  /// and an added expiry (a chain's rules replaced) are always sent as a difference, and so is every change that
  /// adds no chain.
  @Test(.kernelTests, arguments: try TestSeeds.seeds([0x1AC_0001, 0x1AC_0002, 0x1AC_0003]))
  func incrementalApplyOverRandomPolicyPairsListsLikeAFullApply(seed: UInt64) throws {
    var layout = SeededGenerator(seed: seed)
    var conduits = SeededGenerator(seed: seed ^ 0xC0DE)
    let first = RandomSite(layout: &layout, conduits: &conduits)
    layout = SeededGenerator(seed: seed)
    var otherConduits = SeededGenerator(seed: seed ^ 0xBEEF)
    let other = RandomSite(layout: &layout, conduits: &otherConduits)
    let a = try Self.artifact(first.text)
    let edited = try Self.artifact(Self.portEdited(first.text))
    let expiring = try Self.artifact(Self.expiryAdded(Self.portEdited(first.text)))
    let b = try Self.artifact(other.text)
    let interfaces = Set(a.interfaces + b.interfaces).sorted()
    let lab = try NetworkLab(interfaces: interfaces.enumerated().map { LabInterface($1, hosts: ["192.0.2.\($0 + 1)"]) })
    defer { lab.close() }

    let initial = try ArtifactApplyTests.apply(a.encoded(), in: lab)
    #expect(initial.status == 0, "\(initial.standardError)")
    #expect(initial.standardOutput.contains("full replace (no confirmed artifact"), "\(initial.standardOutput)")
    for (name, next) in [
      ("port edit", edited), ("expiry added", expiring), ("other conduits", b), ("back to the first", a),
    ] {
      let applied = try ArtifactApplyTests.apply(next.encoded(), in: lab)
      #expect(applied.status == 0, "\(name): \(applied.standardError)")
      let incremental = applied.standardOutput.contains("incremental apply: ")
      if name == "port edit" || name == "expiry added" {
        #expect(incremental, "\(name): \(applied.standardOutput)")
        #expect(
          name == "port edit" || applied.standardOutput.contains(", 1 chain replaced"), "\(applied.standardOutput)")
      } else if !incremental {
        #expect(applied.standardOutput.contains("full replace (chain "), "\(name): \(applied.standardOutput)")
      }
      let listed = try SafeApplyKernelTests.conduitTable(in: lab)
      #expect(listed.contains("chain identity"))
      // The full apply goes through another state directory: the live table stays the confirmed artifact, though
      // the generation id no longer proves it, so the next apply compares the table object by object.
      #expect(try Self.fullApplyListing(next, in: lab) == listed, "\(name)")
    }
  }

  static let policy = """
    site counters
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
      interface eth1 ops
      interface eth2 ctl
    }
    conduit ops-ctl {
      between ops and ctl
      owner "ot"; justification "test"
      allow hmi -> plc service tcp/502
      allow hmi -> plc service tcp/503
    }

    """

  /// The packets counted by the flow element `hmi . plc . tcp . PORT` of the IPv4 flow maps, nil when there is none.
  static func elementPackets(port: UInt16, in listing: String) -> Int? {
    let pattern = try! Regex(
      "10\\.30\\.0\\.31 \\. 10\\.40\\.0\\.10 \\. tcp \\. \(port)(?: comment \"[^\"]*\")? counter packets (\\d+)")
    return listing.firstMatch(of: pattern).flatMap { ($0.output[1].substring).flatMap { Int($0) } }
  }

  /// A port edited in place replaces that rule's elements (their counters start again) and leaves the others' as
  /// they were; drift in conduit's table makes the next apply a full replace, while a change elsewhere in the
  /// ruleset (another table) does not.
  @Test(.kernelTests) func countersOfUnchangedElementsSurviveAndDriftFallsBackToAFullReplace() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    for version in ["a", "b"] {
      try FileManager.default.createDirectory(
        at: lab.workDirectory.appendingPathComponent(version), withIntermediateDirectories: true)
    }
    let a = try LockOutGuardKernelTests.write(Self.policy, named: "a/site.conduit", in: lab)
    let b = try LockOutGuardKernelTests.write(
      Self.policy.replacingOccurrences(of: "tcp/503", with: "tcp/504"), named: "b/site.conduit", in: lab)
    let first = try LockOutGuardKernelTests.apply(a, in: lab)
    #expect(first.status == 0, "\(first.standardError)")
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 502))
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 503))
    let before = try SafeApplyKernelTests.conduitTable(in: lab)
    let counted502 = try #require(Self.elementPackets(port: 502, in: before))
    #expect(counted502 >= 1, "\(before)")
    #expect(try #require(Self.elementPackets(port: 503, in: before)) >= 1)

    try lab.loadNftables(script: "table inet elsewhere {\n  chain c {\n    counter\n  }\n}\n")
    let edit = try LockOutGuardKernelTests.apply(b, in: lab)
    #expect(edit.status == 0, "\(edit.standardError)")
    #expect(
      edit.standardOutput.contains("incremental apply: 2 elements removed, 2 added, 0 chains replaced"),
      "\(edit.standardOutput)")
    let after = try SafeApplyKernelTests.conduitTable(in: lab)
    #expect(Self.elementPackets(port: 502, in: after) == counted502, "\(after)")
    #expect(Self.elementPackets(port: 504, in: after) == 0, "\(after)")
    #expect(Self.elementPackets(port: 503, in: after) == nil)
    #expect(try lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 504))
    #expect(try !lab.tcpConnects(from: "10.30.0.31", to: "10.40.0.10", port: 503))

    let table = "conduit_counters"
    let hand = try lab.runInGateway("nft", ["add", "rule", "inet", table, "c_ops_ctl", "counter"])
    #expect(hand.status == 0, "\(hand.standardError)")
    let drifted = try LockOutGuardKernelTests.apply(a, in: lab)
    #expect(drifted.status == 0, "\(drifted.standardError)")
    #expect(
      drifted.standardOutput.contains("full replace (the live table has drifted from the confirmed artifact: "),
      "\(drifted.standardOutput)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == Self.listingWithoutCounters(before))
  }

  /// `listing` with every counter at zero, as a fresh load lists it.
  static func listingWithoutCounters(_ listing: String) -> String {
    listing.replacing(/counter packets \d+ bytes \d+/, with: "counter packets 0 bytes 0")
  }

  /// Over a confirmed table, an incremental `apply --confirm` is rolled back exactly; confirmed, it is the base
  /// of the next incremental apply.
  @Test(.kernelTests) func rollbackAfterAnIncrementalConfirmApplyRestoresExactly() throws {
    let (testCase, a, b) = try SafeApplyKernelTests.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    #expect(try ArtifactApplyTests.apply(a.encoded(), in: lab).status == 0)
    let listedA = try SafeApplyKernelTests.conduitTable(in: lab)

    let pending = try ArtifactApplyTests.apply(b.encoded(), in: lab, ["--confirm", "30"])
    #expect(pending.status == 0, "\(pending.standardError)")
    #expect(pending.standardOutput.contains("incremental apply: "), "\(pending.standardOutput)")
    let listedB = try SafeApplyKernelTests.conduitTable(in: lab)
    #expect(listedB != listedA)
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA)

    let again = try ArtifactApplyTests.apply(b.encoded(), in: lab, ["--confirm", "30"])
    #expect(again.standardOutput.contains("incremental apply: "), "\(again.standardOutput)")
    let confirm = try ConduitExecutable.run(["confirm", "--netns", lab.gatewayNamespace])
    #expect(confirm.status == 0, "\(confirm.standardError)")
    let back = try ArtifactApplyTests.apply(a.encoded(), in: lab)
    #expect(back.standardOutput.contains("incremental apply: "), "\(back.standardOutput)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA)
  }
}
