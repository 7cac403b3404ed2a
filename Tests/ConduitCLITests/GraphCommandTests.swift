import Foundation
import Testing

/// `conduit graph`: the DOT of every sample site against its golden file in `Golden/graph/`, SVG through Graphviz,
/// and the message when it is missing.
@Suite struct GraphCommandTests {
  /// Whether the SVG tests run: when Graphviz's `dot` is on PATH, and always in CI
  /// (`CONDUIT_REQUIRE_KERNEL_TESTS=1`, where `scripts/setup` installs it), so a missing `dot` fails there.
  static var dotInstalled: Bool {
    ProcessInfo.processInfo.environment["CONDUIT_REQUIRE_KERNEL_TESTS"] == "1"
      || (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/dot")
      }
  }

  @Test(arguments: try SamplePolicyTests.samplePolicies)
  func sampleDiagramMatchesGoldenFile(_ policy: String) throws {
    let result = try ConduitRunner.run(["graph", policy, "--today", "2026-11-28"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardError.isEmpty)
    let site = URL(fileURLWithPath: policy).deletingPathExtension().lastPathComponent
    try GoldenFile.compare(result.standardOutput, golden: "graph/\(site).dot")
  }

  @Test func theDiagramDoesNotDependOnTheWorkingDirectory() throws {
    let policy = try #require(try SamplePolicyTests.samplePolicies.first)
    let url = URL(fileURLWithPath: policy)
    let absolute = try ConduitRunner.run(["graph", policy, "--today", "2026-11-28"])
    let relative = try ConduitRunner.run(
      ["graph", url.lastPathComponent, "--today", "2026-11-28"], in: url.deletingLastPathComponent().path)
    #expect(relative.status == 0)
    #expect(absolute.standardOutput == relative.standardOutput)
  }

  @Test(.enabled(if: dotInstalled, "needs Graphviz's dot (scripts/setup installs it)"))
  func svgComesFromGraphviz() throws {
    let policy = try #require(try SamplePolicyTests.samplePolicies.first { $0.hasSuffix("millbrook.conduit") })
    let result = try ConduitRunner.run(["graph", policy, "--format", "svg", "--today", "2026-11-28"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.hasPrefix("<?xml"))
    #expect(result.standardOutput.contains("<svg"))
    #expect(result.standardOutput.contains("<title>millbrook</title>"))
  }

  @Test(.enabled(if: dotInstalled, "needs Graphviz's dot (scripts/setup installs it)"))
  func svgGoesToTheOutputFile() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-graph-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let policy = try #require(try SamplePolicyTests.samplePolicies.first)
    let output = directory.appendingPathComponent("site.svg").path
    let result = try ConduitRunner.run(["graph", policy, "--format", "svg", "-o", output, "--today", "2026-11-28"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.isEmpty)
    let svg = try String(contentsOfFile: output, encoding: .utf8)
    #expect(svg.contains("<svg"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["site.svg"])
  }

  @Test func svgWithoutGraphvizSaysHowToInstallIt() throws {
    let empty = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-nopath-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: empty) }
    let policy = try #require(try SamplePolicyTests.samplePolicies.first)
    let result = try ConduitRunner.run(
      ["graph", policy, "--format", "svg", "--today", "2026-11-28"], environment: ["PATH": empty.path])
    #expect(result.status == 2)
    #expect(result.standardOutput.isEmpty)
    #expect(
      result.standardError == """
        conduit: error: --format svg needs Graphviz's 'dot' (Debian/Ubuntu: apt-get install graphviz; macOS: brew \
        install graphviz); --format dot prints the DOT source

        """)
  }

  @Test func aPolicyWithErrorsIsDrawnAndExitsOne() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-graph-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let policy = """
      zone office { level 4; security-level 1; network 10.1.0.0/16 }
      zone control { level 1; security-level 3; network 10.40.0.0/24 }
      asset pc-1 { address 10.1.0.5 }
      asset plc-1 { address 10.40.0.10 }
      conduit office-control {
        between office and control
        security-level 3; owner "ot"; justification "test"
        allow pc-1 -> plc-1 service modbus
      }

      """
    let path = directory.appendingPathComponent("skip.conduit").path
    try policy.write(toFile: path, atomically: true, encoding: .utf8)
    let result = try ConduitRunner.run(["graph", path, "--today", "2026-11-28"])
    #expect(result.status == 1)
    #expect(result.standardOutput.hasPrefix("digraph \"skip\" {"))
    #expect(result.standardOutput.contains("Purdue skip: level 4 to level 1"))
    #expect(result.standardError.contains("[purdue-skip]"))
    #expect(result.standardError.hasSuffix("conduit: the policy has errors; the diagram shows what resolved\n"))
  }

  @Test func aMissingPolicyExitsTwo() throws {
    let result = try ConduitRunner.run(["graph", "/nonexistent/site.conduit"])
    #expect(result.status == 2)
    #expect(result.standardError.hasPrefix("conduit: error: cannot read '/nonexistent/site.conduit'"))
  }
}
