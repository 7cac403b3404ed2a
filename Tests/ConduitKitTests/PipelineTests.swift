import ConduitKit
import FirewallIR
import Foundation
import NftablesBackend
import PolicyLanguage
import PolicyModel
import Testing

/// Every command's pipeline, driven as the command line drives it but in this process: what each stage gives, and
/// the stop (with its reason and findings) where the command line would exit.
@Suite struct PipelineTests {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let day = CalendarDay("2026-11-28")!

  static func sample(_ path: String) -> PolicyRequest {
    PolicyRequest(policyPath: packageRoot.appendingPathComponent("Policies/\(path)").path, today: day)
  }

  static let cell = sample("manufacturing-cell/cell3.conduit")

  /// A policy written to a fresh directory with its files; removed by the caller's `defer`.
  static func written(_ files: [String: String]) throws -> (request: PolicyRequest, directory: URL) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-kit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in files {
      try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    return (PolicyRequest(policyPath: directory.appendingPathComponent("site.conduit").path, today: day), directory)
  }

  static func stop(_ body: () throws(PipelineStop) -> some Any) -> PipelineStop? {
    do {
      _ = try body()
      return nil
    } catch {
      return error
    }
  }

  static let twoZones = """
    site kit
    baseline "assets.csv"

    zone ops {
      level 3
      security-level 2
      network 10.0.1.0/24
    }

    zone cell {
      level 1
      security-level 2
      network 10.0.2.0/24
    }

    gateway gw {
      interface eth1 ops
      interface eth2 cell
      management service ssh from hmi-1
    }

    conduit ops-cell {
      between ops and cell
      security-level 2
      owner "ot-engineering"
      justification "HMI polling (CHG-1)"

      allow hmi-1 -> plc-1 service modbus
    }
    """
  static let assets =
    "name,ip,vendor,model,firmware,criticality\nhmi-1,10.0.1.10,X,Y,1,high\nplc-1,10.0.2.10,X,Y,1,high\n"

  @Test func checkGivesEveryFindingSortedAndCleanSamplesGiveNone() throws {
    let checked = try Pipeline.check(Self.cell)
    #expect(!checked.hasErrors && !checked.hasWarnings)
    #expect(checked.policy.gateways.map(\.name) == ["gw-c3"])
    let (request, directory) = try Self.written([
      "site.conduit": Self.twoZones + "\nzone ops {}\nconduit x {}\n", "assets.csv": Self.assets,
    ])
    defer { try? FileManager.default.removeItem(at: directory) }
    let found = try Pipeline.check(request)
    #expect(found.hasErrors)
    let order = [request.policyPath: 0, (request.policyPath as NSString).deletingLastPathComponent + "/assets.csv": 1]
    let places = found.diagnostics.compactMap { $0.range.map { [order[$0.file.path] ?? 2, $0.start] } }
    #expect(places == places.sorted { $0.lexicographicallyPrecedes($1) })
    #expect(Set(places.map { $0[0] }) == [0])
  }

  @Test func anUnreadablePolicyStopsBeforeAnyStage() {
    let missing = PolicyRequest(policyPath: "/nonexistent/site.conduit", today: Self.day)
    let stop = Self.stop { () throws(PipelineStop) in try Pipeline.check(missing) }
    #expect(stop?.reason == .unusableInput)
    #expect(stop?.message?.contains("/nonexistent/site.conduit") == true)
  }

  @Test(arguments: Backends.all.map(\.target))
  func everyBackendCompilesTheSampleThroughThePipeline(_ target: String) throws {
    let backend = try #require(Backends.named(target))
    let compiled = try Pipeline.compile(CompileRequest(policy: Self.cell, gateway: "gw-c3"), backend: backend)
    let bytes = compiled.output.joined()
    #expect(!bytes.isEmpty)
    #expect(compiled.inputFiles.map(\.role) == ["the policy", "the baseline"])
    #expect(compiled.ruleset.gateway == "gw-c3")
    if target == "nft" {
      let artifact = try NftablesArtifact(decoding: Array(bytes))
      #expect(artifact.header.gateway == "gw-c3")
      #expect(artifact.header.compiler == ConduitVersion.compiler)
    } else {
      #expect(String(decoding: bytes, as: UTF8.self).contains(target == "flows" ? "\"flows\"" : "conduit"))
    }
  }

  @Test func compileStopsWithTheFindingsThatRefuseIt() throws {
    let (request, directory) = try Self.written([
      "site.conduit": Self.twoZones.replacingOccurrences(of: "plc-1 service", with: "plc-9 service"),
      "assets.csv": Self.assets,
    ])
    defer { try? FileManager.default.removeItem(at: directory) }
    let stop = Self.stop { () throws(PipelineStop) in
      try Pipeline.compile(CompileRequest(policy: request), backend: NftablesTextBackend())
    }
    #expect(stop?.reason == .refused)
    #expect(stop?.diagnostics.contains { $0.severity == .error && $0.message.contains("plc-9") } == true)
    #expect(stop?.message == "compile refused; nothing was written")
  }

  @Test func warningsRefuseOnlyAStrictCompile() throws {
    let (request, directory) = try Self.written([
      "site.conduit": Self.twoZones.replacingOccurrences(
        of: "service modbus", with: "service modbus\n  allow hmi-1 -> plc-1 service modbus, tcp/502"),
      "assets.csv": Self.assets,
    ])
    defer { try? FileManager.default.removeItem(at: directory) }
    let compiled = try Pipeline.compile(CompileRequest(policy: request), backend: FlowsBackend())
    #expect(compiled.diagnostics.contains { $0.severity == .warning })
    let stop = Self.stop { () throws(PipelineStop) in
      try Pipeline.compile(CompileRequest(policy: request, strict: true), backend: FlowsBackend())
    }
    #expect(stop?.reason == .refused)
  }

  @Test func aMissingBaselineOrUnknownGatewayStopsWithItsOwnReason() throws {
    let (request, directory) = try Self.written(["site.conduit": Self.twoZones])
    defer { try? FileManager.default.removeItem(at: directory) }
    let unreadable = Self.stop { () throws(PipelineStop) in
      try Pipeline.compile(CompileRequest(policy: request), backend: FlowsBackend())
    }
    #expect(unreadable?.reason == .unusableInput)
    #expect(unreadable?.diagnostics.hasUnreadableFile == true)
    let unknown = Self.stop { () throws(PipelineStop) in
      try Pipeline.compile(CompileRequest(policy: Self.cell, gateway: "gw-nowhere"), backend: FlowsBackend())
    }
    #expect(unknown?.reason == .usage)
    #expect(unknown?.message?.contains("gw-nowhere") == true)
  }

  @Test func applyReadsAnArtifactOrCompilesAPolicyAndRefusesAnythingElse() throws {
    let request = CompileRequest(policy: Self.cell, gateway: "gw-c3")
    let compiled = try GatewayApply.artifact(at: Self.cell.policyPath, compiling: request)
    #expect(compiled.header.gateway == "gw-c3")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-kit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("gw-c3.nft").path
    try Data(compiled.encodedParts().joined()).write(to: URL(fileURLWithPath: path))
    let read = try GatewayApply.artifact(at: path, compiling: request)
    #expect(read.header.compileDigest == compiled.header.compileDigest)
    let text = directory.appendingPathComponent("notes.txt").path
    try "not an artifact".write(toFile: text, atomically: true, encoding: .utf8)
    let stop = Self.stop { () throws(PipelineStop) in try GatewayApply.artifact(at: text, compiling: request) }
    #expect(stop?.reason == .unusableInput)
    #expect(stop?.message?.contains("neither a conduit nft artifact nor a policy") == true)
  }

  @Test func applyToANamespaceThatDoesNotExistFailsWithoutChangingAnything() throws {
    let artifact = try GatewayApply.artifact(
      at: Self.cell.policyPath, compiling: CompileRequest(policy: Self.cell, gateway: "gw-c3"))
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-state-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let stop = Self.stop { () throws(PipelineStop) in
      try SafeApply.apply(
        artifact,
        options: SafeApplyOptions(networkNamespace: "conduit-kit-no-such-\(getpid())", stateRoot: root.path),
        waiting: { _ in })
    }
    #expect(stop?.reason == .failed)
    #expect(stop?.message?.contains("no network namespace") == true)
    #expect(!FileManager.default.fileExists(atPath: root.path), "no state directory for a namespace that is not there")
  }

  @Test func queryAnswersAndNamesTheRule() throws {
    let allowed = try Pipeline.query(
      QueryRequest(policy: Self.cell, from: "hmi-c3-01", to: "plc-c3-01", service: "enip"))
    #expect(allowed.answer.isAllowed)
    #expect(allowed.text.hasPrefix("allowed\n  allowed hmi-c3-01"))
    let denied = try Pipeline.query(QueryRequest(policy: Self.cell, from: "mes-01", to: "zone safety"))
    #expect(!denied.answer.isAllowed)
    let stop = Self.stop { () throws(PipelineStop) in
      try Pipeline.query(QueryRequest(policy: Self.cell, from: "no-such-asset", to: "plc-c3-01"))
    }
    #expect(stop?.reason == .usage)
    #expect(stop?.diagnostics.contains { $0.range?.file.path == "--from" } == true)
  }

  @Test func diffOfAPolicyWithItselfIsEmptyAndAWidenedRuleShows() throws {
    let same = try Pipeline.diff(old: Self.cell, new: Self.cell)
    #expect(same.difference.isEmpty && same.text.isEmpty)
    let (old, oldDirectory) = try Self.written(["site.conduit": Self.twoZones, "assets.csv": Self.assets])
    defer { try? FileManager.default.removeItem(at: oldDirectory) }
    let (new, newDirectory) = try Self.written([
      "site.conduit": Self.twoZones.replacingOccurrences(of: "service modbus", with: "service modbus, tcp/443"),
      "assets.csv": Self.assets,
    ])
    defer { try? FileManager.default.removeItem(at: newDirectory) }
    let widened = try Pipeline.diff(old: old, new: new)
    #expect(widened.difference.added.count == 1 && widened.difference.removed.isEmpty)
    #expect(widened.text.contains("+ hmi-1 (10.0.1.10) -> plc-1 (10.0.2.10) tcp/443"))
    #expect(widened.json.contains("\"added\""))
  }

  @Test func graphDrawsEvenAPolicyWithErrors() throws {
    let graph = try Pipeline.graph(Self.cell, format: .dot)
    #expect(String(decoding: graph.bytes, as: UTF8.self).hasPrefix("digraph"))
    let (request, directory) = try Self.written([
      "site.conduit": Self.twoZones.replacingOccurrences(of: "plc-1 service", with: "plc-9 service"),
      "assets.csv": Self.assets,
    ])
    defer { try? FileManager.default.removeItem(at: directory) }
    let broken = try Pipeline.graph(request, format: .dot)
    #expect(broken.checked.hasErrors)
    #expect(String(decoding: broken.bytes, as: UTF8.self).contains("ops-cell"))
  }
}
