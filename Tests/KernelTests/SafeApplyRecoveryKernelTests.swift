import ConduitKit
import Conntrack
import Foundation
import NftablesBackend
import Testing

/// Where a test's `conduit` keeps the state of a lab's gateway namespace, and what it holds.
struct LabState {
  let lab: NetworkLab

  /// `$CONDUIT_STATE_DIR/netns/NAME`, as `apply --netns NAME` resolves it.
  var path: String { ConduitExecutable.stateRoot + "/netns/" + lab.gatewayNamespace }

  /// The pending record, or nil when nothing is pending.
  func pending() throws -> PendingApply? {
    let url = URL(fileURLWithPath: path + "/" + StateDirectory.File.pendingRecord)
    let data: Data
    do { data = try Data(contentsOf: url) } catch let error as CocoaError where error.code == .fileReadNoSuchFile {
      return nil
    }
    return try JSONDecoder().decode(PendingApply.self, from: data)
  }
}

/// `apply --confirm` killed (SIGKILL) after each of its steps: every state it leaves is one a rollback restores from,
/// and the watchdog, a process of its own, rolls back at the deadline without the apply.
@Suite(.serialized) struct SafeApplyCrashKernelTests {
  /// Runs `conduit apply` of `bytes` in `lab` with `CONDUIT_TEST_CRASH_AFTER=step`.
  static func applyCrashing(after step: String, _ bytes: [UInt8], in lab: NetworkLab, _ extra: [String]) throws
    -> CommandOutput
  {
    _ = ConduitExecutable.stateRoot
    let file = try ArtifactApplyTests.ArtifactFile(bytes)
    return try Command.run(
      "/usr/bin/env",
      ["\(SafeApply.crashVariable)=\(step)", ConduitExecutable.url.path, "apply", file.url.path]
        + ["--netns", lab.gatewayNamespace] + extra)
  }

  /// A lab of gateway gw-c3 with artifact A applied and confirmed, A's listing, and artifact B.
  static func labWithAConfirmed() throws -> (lab: NetworkLab, listedA: String, b: NftablesArtifact) {
    let (testCase, a, b) = try SafeApplyKernelTests.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    let confirmed = try ArtifactApplyTests.apply(a.encoded(), in: lab)
    #expect(confirmed.status == 0, "\(confirmed.standardError)")
    return (lab, try SafeApplyKernelTests.conduitTable(in: lab), b)
  }

  /// The fields of `/proc/PID/stat` after the command name: state first, then ppid, pgrp, session, tty_nr, ….
  static func statFields(_ pid: Int32) -> [Substring]? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let end = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(after: end)...].split(separator: " ")
  }

  /// What the descriptors of process `pid` point at, by number.
  static func descriptors(_ pid: Int32) -> [String: String] {
    let directory = "/proc/\(pid)/fd"
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return Dictionary(
      uniqueKeysWithValues: names.map {
        ($0, (try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\($0)")) ?? "?")
      })
  }

  /// Killed right after sending: B stays in the kernel with nobody to confirm it, and the watchdog, detached in a
  /// session of its own with only /dev/null for its standard streams and no other descriptor, restores A at the
  /// deadline.
  @Test(.kernelTests) func theWatchdogRollsBackAfterTheApplyIsKilledOnceItSent() throws {
    let (lab, listedA, b) = try Self.labWithAConfirmed()
    defer { lab.close() }
    let crashed = try Self.applyCrashing(after: "sent", b.encoded(), in: lab, ["--confirm", "3"])
    #expect(crashed.status == SIGKILL, "killed by SIGKILL: \(crashed.status) \(crashed.standardError)")
    #expect(crashed.standardOutput.isEmpty)
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) != listedA, "B was sent")

    let pending = try #require(try LabState(lab: lab).pending())
    let watchdog = try #require(pending.watchdog)
    #expect(watchdog.kind == "process")
    let pid = try #require(watchdog.pid)
    let fields = try #require(Self.statFields(pid), "the watchdog \(pid) runs")
    let session = try #require(Int32(fields[3]))
    #expect(session == pid, "the watchdog leads a session of its own")
    #expect(session != getsid(0), "the watchdog is outside the test's session")
    #expect(fields[4] == "0", "the watchdog has no controlling terminal")
    let detached = ["0": "/dev/null", "1": "/dev/null", "2": "/dev/null"]
    let clean = SafeApplyKernelTests.waitUntil(seconds: 2) { Self.descriptors(pid) == detached }
    #expect(clean, "the watchdog's descriptors: \(Self.descriptors(pid))")

    #expect(
      try SafeApplyKernelTests.waitUntil(seconds: 7) { try SafeApplyKernelTests.conduitTable(in: lab) == listedA })
    #expect(try LabState(lab: lab).pending() == nil)
    let ended = SafeApplyKernelTests.waitUntil(seconds: 2) { Self.statFields(pid).map { $0[0] == "Z" } ?? true }
    #expect(ended, "the watchdog ends once it rolled back")
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 1)
    #expect(rollback.standardError.contains("the watchdog rolled back"))
  }

  /// Killed once the restore and the pending record are saved, before any watchdog: nothing was sent, the next
  /// apply is refused because one is pending, and `rollback` restores A and clears it.
  @Test(.kernelTests) func anApplyKilledBeforeArmingLeavesAPendingApplyThatRollbackClears() throws {
    let (lab, listedA, b) = try Self.labWithAConfirmed()
    defer { lab.close() }
    let crashed = try Self.applyCrashing(after: "saved", b.encoded(), in: lab, ["--confirm", "30"])
    #expect(crashed.status == SIGKILL, "killed by SIGKILL: \(crashed.status) \(crashed.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA, "nothing was sent")
    let pending = try #require(try LabState(lab: lab).pending())
    #expect(pending.watchdog == nil)

    let next = try ArtifactApplyTests.apply(b.encoded(), in: lab, ["--confirm", "30"])
    #expect(next.status == 1)
    #expect(next.standardError.contains("is pending"), "\(next.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA)

    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA)
    #expect(try LabState(lab: lab).pending() == nil)
  }

  /// Killed once the watchdog is armed, before sending: A stays in the kernel, and the watchdog's rollback at the
  /// deadline leaves it listing exactly as before.
  @Test(.kernelTests) func anApplyKilledAfterArmingIsRolledBackToTheTableAsItWas() throws {
    let (lab, listedA, b) = try Self.labWithAConfirmed()
    defer { lab.close() }
    let crashed = try Self.applyCrashing(after: "armed", b.encoded(), in: lab, ["--confirm", "2"])
    #expect(crashed.status == SIGKILL, "killed by SIGKILL: \(crashed.status) \(crashed.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA, "nothing was sent")
    let pid = try #require(try LabState(lab: lab).pending()?.watchdog?.pid)
    #expect(Self.statFields(pid) != nil, "the watchdog outlives the apply")

    #expect(try SafeApplyKernelTests.waitUntil(seconds: 6) { try LabState(lab: lab).pending() == nil })
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA)
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 1)
    #expect(rollback.standardError.contains("the watchdog rolled back"), "\(rollback.standardError)")
  }
}

/// Commands on one namespace take its state directory's lock: one that finds it held says so and waits, and an
/// apply that gets it after another apply is refused because that one is pending.
@Suite(.serialized) struct SafeApplyLockKernelTests {
  /// An apply started while the lock is held waits (saying who holds it), and once the lock is released it is
  /// refused because the apply made before is pending.
  @Test(.kernelTests) func anApplyWaitsForTheLockAndIsThenRefusedBecauseOneIsPending() throws {
    let (testCase, a, b) = try SafeApplyKernelTests.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let first = try ArtifactApplyTests.apply(a.encoded(), in: lab, ["--confirm", "30"])
    #expect(first.status == 0, "\(first.standardError)")
    let listedA = try SafeApplyKernelTests.conduitTable(in: lab)

    let lock = open(LabState(lab: lab).path + "/" + StateDirectory.File.lock, O_RDWR | O_CLOEXEC)
    try #require(lock >= 0)
    var closed = false
    defer { if !closed { close(lock) } }
    try #require(flock(lock, LOCK_EX | LOCK_NB) == 0)
    let holder = Array("pid \(getpid()): the lock test\n".utf8)
    _ = holder.withUnsafeBytes { pwrite(lock, $0.baseAddress, $0.count, 0) }

    let file = try ArtifactApplyTests.ArtifactFile(b.encoded())
    let errors = lab.workDirectory.appendingPathComponent("second-apply.err")
    let second = try BackgroundProcess(
      executable: ConduitExecutable.url.path,
      arguments: ["apply", file.url.path, "--netns", lab.gatewayNamespace, "--confirm", "30"], input: .lines,
      output: lab.workDirectory.appendingPathComponent("second-apply.out"), error: errors)
    let waiting = "waiting for the state directory's lock, held by pid \(getpid()): the lock test"
    let saidSo = SafeApplyKernelTests.waitUntil(seconds: 5) {
      ((try? String(contentsOf: errors, encoding: .utf8)) ?? "").contains(waiting)
    }
    #expect(saidSo, "\((try? String(contentsOf: errors, encoding: .utf8)) ?? "")")
    usleep(200_000)
    #expect(second.isRunning, "it waits while the lock is held")
    close(lock)
    closed = true
    let refused = second.waitForExit(timeout: 10)
    #expect(refused.status == 1)
    #expect(refused.standardError.contains("is pending"), "\(refused.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedA)
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
  }

  /// Two applies started together: one is made and pending, the other is refused naming it; the table is the
  /// one applied.
  @Test(.kernelTests) func twoConcurrentAppliesSerialise() throws {
    let (testCase, a, _) = try SafeApplyKernelTests.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    _ = ConduitExecutable.stateRoot
    let file = try ArtifactApplyTests.ArtifactFile(a.encoded())
    let applies = try (0..<2).map { index in
      try BackgroundProcess(
        executable: ConduitExecutable.url.path,
        arguments: ["apply", file.url.path, "--netns", lab.gatewayNamespace, "--confirm", "30"], input: .lines,
        output: lab.workDirectory.appendingPathComponent("apply-\(index).out"),
        error: lab.workDirectory.appendingPathComponent("apply-\(index).err"))
    }
    let results = applies.map { $0.waitForExit(timeout: 30) }
    #expect(results.map(\.status).sorted() == [0, 1], "\(results.map(\.standardError))")
    let refused = try #require(results.first { $0.status == 1 })
    #expect(refused.standardError.contains("an apply of table \(a.header.table) is pending"))
    #expect(try SafeApplyKernelTests.conduitTable(in: lab).contains("table inet \(a.header.table)"))
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
    #expect(try SafeApplyKernelTests.conduitTable(in: lab).isEmpty)
  }
}

/// Tables `apply` does not take over on its own: conduit's table naming another gateway or site, and another conduit
/// table. `--replace` takes them over in one transaction, and a rollback restores them exactly.
@Suite(.serialized) struct SafeApplyReplaceKernelTests {
  /// A table of the artifact's name that another gateway of the same site installed is refused (exit 1, nothing
  /// changed); with `--replace --confirm` it is replaced and a rollback restores it; `--replace` alone keeps the new.
  @Test(.kernelTests) func aTableOfAnotherGatewayIsReplacedOnlyWithReplace() throws {
    let cases = try ArtifactApplyTests.cases
    let edge = try #require(cases.first { $0.gateway == "gw-edge" })
    let core = try #require(cases.first { $0.gateway == "gw-core" })
    let edgeArtifact = try ArtifactApplyTests.compiled(edge).artifact
    let coreArtifact = try ArtifactApplyTests.compiled(core).artifact
    #expect(edgeArtifact.header.table == coreArtifact.header.table, "one site, one table name")
    let lab = try ArtifactApplyTests.lab(for: core)
    defer { lab.close() }
    let byEdge = try ArtifactApplyTests.apply(edgeArtifact.encoded(), in: lab, ["--force"])
    #expect(byEdge.status == 0, "\(byEdge.standardError)")
    let listedEdge = try SafeApplyKernelTests.conduitTable(in: lab)
    #expect(listedEdge.contains("gateway gw-edge"))

    let refused = try ArtifactApplyTests.apply(coreArtifact.encoded(), in: lab)
    #expect(refused.status == 1)
    #expect(refused.standardError.contains("belongs to gateway 'gw-edge'"), "\(refused.standardError)")
    #expect(refused.standardError.contains("--replace"))
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedEdge)

    let replaced = try ArtifactApplyTests.apply(coreArtifact.encoded(), in: lab, ["--replace", "--confirm", "30"])
    #expect(replaced.status == 0, "\(replaced.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab).contains("gateway gw-core"))
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
    #expect(try SafeApplyKernelTests.conduitTable(in: lab) == listedEdge)

    let kept = try ArtifactApplyTests.apply(coreArtifact.encoded(), in: lab, ["--replace"])
    #expect(kept.status == 0, "\(kept.standardError)")
    #expect(try SafeApplyKernelTests.conduitTable(in: lab).contains("gateway gw-core"))
  }

  /// A hand-made table of the artifact's name whose identity names another site and gateway is refused without
  /// `--replace` and replaced with it.
  @Test(.kernelTests) func aHandMadeTableNamingAnotherSiteIsRefusedWithoutReplace() throws {
    let (testCase, a, _) = try SafeApplyKernelTests.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    let table = a.header.table
    try lab.loadNftables(
      script: """
        table inet \(table) {
          chain identity {
            comment "conduit 0.1.0; site S; gateway other; compile 0123456789abcdef"
          }
        }

        """)
    let before = try lab.nftListRulesetWithSortedElements()
    let refused = try ArtifactApplyTests.apply(a.encoded(), in: lab)
    #expect(refused.status == 1)
    #expect(refused.standardError.contains("belongs to gateway 'other' of site 'S'"), "\(refused.standardError)")
    #expect(try lab.nftListRulesetWithSortedElements() == before)
    let replaced = try ArtifactApplyTests.apply(a.encoded(), in: lab, ["--replace", "--confirm", "30"])
    #expect(replaced.status == 0, "\(replaced.standardError)")
    #expect(try !lab.nftListRuleset().contains("gateway other"))
    #expect(try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace]).status == 0)
    #expect(try lab.nftListRulesetWithSortedElements() == before)
  }

  /// Another conduit table (an old site name) makes apply refuse; `--replace --confirm` deletes it in the same
  /// transaction, and a rollback brings it back exactly, without the new table.
  @Test(.kernelTests) func anotherConduitTableIsDeletedWithReplaceAndRestoredByRollback() throws {
    let (testCase, a, _) = try SafeApplyKernelTests.twoArtifacts()
    let lab = try ArtifactApplyTests.lab(for: testCase)
    defer { lab.close() }
    try lab.loadNftables(
      script: """
        table inet conduit_othersite {
          set old_hosts {
            type ipv4_addr
            elements = { 192.0.2.7, 192.0.2.9 }
          }
          chain forward {
            type filter hook forward priority filter; policy drop;
            ip saddr @old_hosts tcp dport 502 accept comment "old site"
          }
        }

        """)
    let before = try lab.nftListRulesetWithSortedElements()
    #expect(before.contains("conduit_othersite"))
    let refused = try ArtifactApplyTests.apply(a.encoded(), in: lab)
    #expect(refused.status == 1)
    #expect(
      refused.standardError.contains("other conduit tables are present (conduit_othersite)"),
      "\(refused.standardError)")
    #expect(try lab.nftListRulesetWithSortedElements() == before)

    let replaced = try ArtifactApplyTests.apply(a.encoded(), in: lab, ["--replace", "--confirm", "30"])
    #expect(replaced.status == 0, "\(replaced.standardError)")
    #expect(replaced.standardOutput.contains("deleted the other conduit tables conduit_othersite"))
    let during = try lab.nftListRuleset()
    #expect(!during.contains("conduit_othersite") && during.contains("table inet \(a.header.table)"))
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    #expect(try lab.nftListRulesetWithSortedElements() == before)
  }
}

/// Established connections and `apply --confirm`: the apply leaves conntrack alone, so a rollback leaves a held
/// session running; `confirm` cuts the sessions the new ruleset no longer allows.
@Suite(.serialized) struct SafeApplySessionKernelTests {
  /// A held TCP session to port 502 (which the mitigation revokes) keeps passing data through an unconfirmed apply
  /// and its rollback, its conntrack entry untouched; after a second apply is confirmed its entry is gone and it
  /// passes nothing, while a session to port 503 keeps working throughout.
  @Test(.kernelTests) func aHeldSessionSurvivesARollbackAndIsCutByConfirm() throws {
    let lab = try NetworkLab(interfaces: [ConntrackTests.eth1, ConntrackTests.eth2])
    defer { lab.close() }
    let policy = lab.workDirectory.appendingPathComponent("cut.conduit")
    try ConntrackTests.applyPolicy.write(to: policy, atomically: true, encoding: .utf8)
    let apply = ["apply", policy.path, "--netns", lab.gatewayNamespace, "--today", "2026-11-28"]
    let revoking = apply + ["--mitigation", "no-502", "--confirm", "30"]
    let first = try ConduitExecutable.run(apply)
    #expect(first.status == 0, "\(first.standardError)")
    let helpers = ConntrackTests()
    let server = try helpers.startEchoServer(in: lab)
    defer { server.kill() }
    let cut = try HeldConnection(lab: lab, from: "10.30.0.31", to: "10.40.0.10", port: 502)
    let kept = try HeldConnection(lab: lab, from: "10.30.0.31", to: "10.40.0.10", port: 503)
    defer { for connection in [cut, kept] { connection.process.kill() } }
    try helpers.expectReports([cut, kept], "echo", within: 0.8, "before any change")
    let conntrack = try ConntrackSession(networkNamespace: ConntrackTests.gatewayPath(lab))
    let entry = try #require(try conntrack.entries().first { cut.matches($0) })

    let unconfirmed = try ConduitExecutable.run(revoking)
    #expect(unconfirmed.status == 0, "\(unconfirmed.standardError)")
    #expect(!unconfirmed.standardOutput.contains("tracked connection"), "apply --confirm cuts nothing")
    #expect(try conntrack.entries().contains(entry), "apply --confirm leaves the entry as it was")
    let rollback = try ConduitExecutable.run(["rollback", "--netns", lab.gatewayNamespace])
    #expect(rollback.status == 0, "\(rollback.standardError)")
    try helpers.expectReports([cut, kept], "echo", within: 0.8, "after the rollback")
    #expect(try conntrack.entries().contains(entry), "the rollback leaves the entry as it was")

    let second = try ConduitExecutable.run(revoking)
    #expect(second.status == 0, "\(second.standardError)")
    let confirm = try ConduitExecutable.run(["confirm", "--netns", lab.gatewayNamespace])
    #expect(confirm.status == 0, "\(confirm.standardError)")
    #expect(confirm.standardOutput.contains("cut 1 tracked connection the new ruleset no longer allows"))
    #expect(try !conntrack.entries().contains { cut.matches($0) }, "confirm deleted the entry")
    helpers.expectCut([cut], kept: [kept], "after the confirm")
  }
}
