import FirewallIR
import NftablesBackend
import Testing

@testable import ConduitKit

/// `DryRunReport`'s text and exit decision, without a kernel.
@Suite struct DryRunReportTests {
  static func report(_ view: DryRunReport.View, wouldChange: Bool, namespace: String? = "gw") -> DryRunReport {
    DryRunReport(
      table: "conduit_t", networkNamespace: namespace, stateDirectory: "/var/lib/conduit/netns/gw",
      liveIdentity: NftablesIdentity(comment: "conduit 1; site s; gateway g; compile 0123456789abcdef"),
      newIdentity: NftablesIdentity(comment: "conduit 1; site s; gateway g; compile 0123456789abcdef"), view: view,
      wouldChange: wouldChange)
  }

  @Test func theSameArtifactAgainIsNothingToDo() throws {
    let empty = try FlowTable.validating([]).get()
    let report = Self.report(
      .flows(
        FlowTableDifference(from: empty, to: empty), oldConduits: [], newConduits: [], otherDifferences: [],
        flowMapElementChanges: 0), wouldChange: false)
    #expect(report.isNothingToDo)
    #expect(
      report.lines == [
        "table inet conduit_t in network namespace gw runs the confirmed artifact "
          + "(conduit 1; site s; gateway g; compile 0123456789abcdef), without drift",
        "no flow is added or removed", "dry run: nothing would change",
      ])
  }

  @Test func objectsAreListedWithWhyThereIsNoFlowViewAndRefusalsDecideTheExit() {
    var report = Self.report(
      .objects(
        reason: "no confirmed artifact in '/var/lib/conduit/netns/gw'",
        differences: [TableDifference(.set("zones_v4"), .elementRemoved("\"eth1\" . 10.0.0.0/24"))]),
      wouldChange: true)
    #expect(!report.isNothingToDo)
    #expect(
      report.lines == [
        "no flow view: no confirmed artifact in '/var/lib/conduit/netns/gw'",
        "table inet conduit_t in network namespace gw: table objects apply would change (from the live table to "
          + "the artifact's):",
        "  set zones_v4: element \"eth1\" . 10.0.0.0/24 removed",
        "dry run: apply would change table inet conduit_t in network namespace gw; nothing was changed",
      ])
    report.refusals = ["other conduit tables are present (conduit_old): both would drop"]
    #expect(
      report.lines.suffix(2) == [
        "apply would refuse: other conduit tables are present (conduit_old): both would drop",
        "dry run: apply would not go through; nothing was changed",
      ])
    report.wouldChange = false
    #expect(!report.isNothingToDo)
  }

  @Test func namesFromTheKernelAreEscaped() {
    let report = Self.report(
      .objects(reason: "r", differences: [TableDifference(.chain("evil\u{1B}[2J"), .ruleDiffers(position: 1))]),
      wouldChange: true, namespace: "n\u{7}s")
    #expect(report.lines.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F } })
  }
}
