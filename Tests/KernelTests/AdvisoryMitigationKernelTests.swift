import Advisories
import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyLanguage
import PolicyModel
import Testing

/// From advisory to packets: ICSA-23-201-01 against the Millbrook sample, the mitigation `impact` emits (each
/// strategy, keeping SCADA's OPC UA to the dosing PLCs) appended to the policy and compiled for gw-core with
/// `--mitigation`; loaded into a gateway namespace through the nft artifact and through iptables, the lower zone's
/// ping to the vulnerable PLCs (allowed without the mitigation) is blocked and the kept flow still connects.
@Suite(.serialized) struct AdvisoryMitigationKernelTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var strategy: MitigationStrategy
    var backend: LabBackend
    var testDescription: String { "\(strategy.rawValue) \(backend.rawValue)" }
  }

  static let cases = [MitigationStrategy.isolate, .revoke].flatMap { strategy in
    [LabBackend.artifact, .iptables].map { Case(strategy: strategy, backend: $0) }
  }

  static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Policies/water-treatment")

  @Test(.kernelTests, arguments: cases)
  func theEmittedMitigationBlocksTheLowerZoneAndKeepsTheKeptFlow(_ testCase: Case) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("advisory-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for file in ["millbrook.conduit", "millbrook-assets.csv"] {
      try FileManager.default.copyItem(
        at: Self.sample.appendingPathComponent(file), to: folder.appendingPathComponent(file))
    }
    let policyPath = folder.appendingPathComponent("millbrook.conduit").path
    let request = PolicyRequest(policyPath: policyPath, today: CalendarDay("2026-11-28")!)
    let emitted = try Pipeline.impact(
      AdvisoryImpactRequest(
        policy: request, advisoryPaths: [Self.sample.appendingPathComponent("advisories").path],
        emission: MitigationEmission(
          name: "m580", strategy: testCase.strategy,
          keeps: ["scada-srv-a, scada-srv-b -> plc-chem-* service opcua"])))
    #expect(emitted.findings.map(\.asset) == ["plc-chem-01", "plc-chem-02"])
    let block = try #require(emitted.mitigation)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: policyPath))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(("\n" + block).utf8))
    try handle.close()

    let checked = try Pipeline.check(request, mitigationsActive: true)
    #expect(checked.diagnostics.isEmpty, "\(checked.diagnostics.map(\.message))")
    var diagnostics = DiagnosticEngine()
    let before = try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: "gw-core"), diagnostics: &diagnostics)
    let ruleset = try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: "gw-core", mitigations: ["m580"]), diagnostics: &diagnostics)
    let gateway = try #require(checked.policy.gateways.first { $0.name == "gw-core" })

    let nms = "10.30.0.50"
    let scada = "10.30.0.11"
    let plc = "10.40.0.21"
    func allows(_ ruleset: Ruleset, _ source: String, _ kind: MatchKind, _ selector: UInt16) -> Bool {
      guard let from = IPAddress(source), let to = IPAddress(plc) else { return false }
      return ruleset.elements.contains {
        $0.kind == kind && $0.selectors.contains(selector) && $0.sources.first <= from && from <= $0.sources.last
          && $0.destinations.first <= to && to <= $0.destinations.last
      }
    }
    #expect(allows(before, nms, .icmp, 8), "without the mitigation the lower zone's NMS pings the PLC")
    #expect(!allows(ruleset, nms, .icmp, 8))
    #expect(allows(ruleset, scada, .tcp, 4840))

    let world = LabWorld(policy: checked.policy, gateway: gateway, ruleset: ruleset)
    let lab = try NetworkLab(interfaces: world.interfaces())
    defer { lab.close() }
    try lab.load(ruleset, through: testCase.backend, diagnostics: &diagnostics)
    let results = try lab.probe([
      .ping(from: nms, to: plc), .tcp(from: scada, to: plc, port: 4840), .tcp(from: scada, to: plc, port: 502),
    ])
    #expect(results.map(\.reached) == [false, true, false], "\(results.map(\.detail))")
  }
}
