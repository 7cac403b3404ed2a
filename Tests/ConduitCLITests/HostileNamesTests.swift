import Foundation
import Testing

/// Names hostile to the output languages (Fixtures/hostile-names): quotes, `$`, backslashes and separators in a
/// conduit name, names longer than nftables and iptables allow, interface names with spaces or wildcards, names that
/// become one chain name, and baseline asset names with a line break or an escape sequence. Each case with its exit
/// status and diagnostic ids.
@Suite struct HostileNamesTests {
  static func fixture(_ name: String) throws -> String { try ConduitRunner.fixture("hostile-names/" + name) }
  static let today = ["--today", "2026-12-01"]

  /// The lines of `text` that hold `marker`.
  static func lines(_ text: String, containing marker: String) -> [Substring] {
    text.split(separator: "\n").filter { $0.contains(marker) }
  }

  @Test func hostileNamesCheckCleanAndTheirFindingsCannotForgeLines() throws {
    let result = try ConduitRunner.run(["check", Self.fixture("hostile.conduit")] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("warning: asset 'lost\\u{2029}device' has 10.99.0.1 in no zone"))
    #expect(result.standardOutput.contains("[unzoned-asset]"))
    #expect(!result.standardOutput.split(separator: "\n").contains { $0.hasPrefix("device") })
    #expect(!result.standardOutput.unicodeScalars.contains { [0x2028, 0x2029, 0x202E].contains($0.value) })
  }

  @Test func nftTextStringsHoldNoQuoteVariableOrBackslashFromANameAndStayWithinTheKernelsLimit() throws {
    let result = try ConduitRunner.run(
      ["compile", Self.fixture("hostile.conduit"), "--target", "nft-text"] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    let text = result.standardOutput
    #expect(!text.contains("$"))
    #expect(!text.contains("\\"))
    let prefixes = Self.lines(text, containing: "log prefix")
    #expect(prefixes.count == 3)
    for line in prefixes {
      let prefix = try #require(line.firstMatch(of: #/log prefix "([^"]*)"/#)?.1, "\(line)")
      #expect(line.filter { $0 == "\"" }.count == 2, "\(line)")
      #expect(prefix.utf8.count <= 127, "\(line)")
    }
    #expect(text.contains("log prefix \"conduit ops_ctl _x _ ; delete table inet foreign \" goto"))
    let long = try #require(prefixes.first { $0.contains("conduit conduit-lll") })
    #expect(long.contains(#/conduit-l+_[0-9a-f]{8} " goto/#))
    for line in Self.lines(text, containing: "chain c_") {
      let name = try #require(line.firstMatch(of: #/chain (\S+) \{/#)?.1)
      #expect(name.utf8.count <= 255)
      #expect(name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
    }
  }

  @Test func iptablesArgumentsFromNamesAreQuotedAndChainNamesShortened() throws {
    let result = try ConduitRunner.run(
      ["compile", Self.fixture("hostile.conduit"), "--target", "iptables"] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    let text = result.standardOutput
    #expect(!text.contains("$"))
    #expect(!text.contains("\\"))
    for line in Self.lines(text, containing: "--comment") {
      #expect(line.contains(#/--comment "[^"]*" -j \S+$/#), "\(line)")
    }
    for line in Self.lines(text, containing: "--log-prefix") {
      let prefix = try #require(line.firstMatch(of: #/--log-prefix "([^"]*)"/#)?.1, "\(line)")
      #expect(prefix.utf8.count <= 29, "\(line)")
    }
    let chains = text.split(separator: "\n").filter { $0.hasPrefix(":c-") }.map { $0.dropFirst().prefix { $0 != " " } }
    #expect(chains.count == 4)
    for chain in chains {
      #expect(chain.count <= 28)
      #expect(chain.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }, "\(chain)")
    }
  }

  @Test func theNftArtifactOfHostileNamesIsWritten() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "conduit-hostile-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let output = directory.appendingPathComponent("gw.nftb").path
    let result = try ConduitRunner.run(["compile", Self.fixture("hostile.conduit"), "-o", output] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: output))
    #expect(bytes.range(of: Data("conduit ops_ctl _x _ ; delete table inet foreign ".utf8)) != nil)
    #expect(bytes.range(of: Data("ops\"ctl".utf8)) == nil)
  }

  /// Every `interface` line of bad-interfaces.conduit but the last two names an interface no backend writes as
  /// it is.
  @Test func interfaceNamesThatNoBackendWritesLiterallyAreBadValuesAtTheName() throws {
    let result = try ConduitRunner.run(["check", Self.fixture("bad-interfaces.conduit"), "--format", "json"])
    #expect(result.status == 1)
    let findings = try #require(
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [[String: Any]])
    let errors = findings.filter { $0["severity"] as? String == "error" }
    #expect(errors.allSatisfy { $0["id"] as? String == "bad-value" })
    #expect(errors.map { $0["line"] as? Int } == Array(9...19))
    #expect(errors.allSatisfy { $0["column"] as? Int == 13 })
    let messages = errors.compactMap { $0["message"] as? String }
    try #require(messages.count == 11)
    #expect(messages[0] == "interface name 'x -p tcp' contains whitespace, which no interface name holds")
    #expect(messages[1] == "interface name 'eth+' ends with '+', the interface wildcard of iptables")
    #expect(messages[8] == "interface name 'sixteen-bytes-if' is longer than 15 bytes, the kernel's limit")
    #expect(messages[9] == "interface name '' is empty")
  }

  @Test func namesThatBecomeOneChainAreNameCollisionsAtCheckTime() throws {
    let policy = try Self.fixture("collisions.conduit")
    let check = try ConduitRunner.run(["check", policy, "--format", "json"])
    #expect(check.status == 1)
    let findings = try #require(
      try JSONSerialization.jsonObject(with: Data(check.standardOutput.utf8)) as? [[String: Any]])
    let collisions = findings.filter { $0["id"] as? String == "name-collision" }
    #expect(collisions.map { $0["line"] as? Int } == [15, 15, 25])
    #expect(
      collisions.map { $0["message"] as? String } == [
        "conduit 'ops ctl' and conduit 'ops-ctl' both become the nftables chain 'c_ops_ctl'",
        "conduit 'ops ctl' and conduit 'ops-ctl' both become the nftables chain 'c_ops_ctl_log'",
        "zone pair 'a' -> 'b-c' and zone pair 'a-b' -> 'c' both become the iptables chain 'z-a-b-c'",
      ])
    for target in ["nft", "nft-text", "iptables"] {
      let compile = try ConduitRunner.run(["compile", policy, "--target", target])
      #expect(compile.status == 1, "\(target)")
      #expect(compile.standardOutput.isEmpty)
    }
  }

  @Test func diffShowsControlCharactersOfAssetNamesEscaped() throws {
    let result = try ConduitRunner.run(
      ["diff", Self.fixture("hostile.conduit"), Self.fixture("changed.conduit")] + Self.today)
    #expect(result.status == 1, "\(result.standardError)")
    let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
    #expect(lines.count == 4)
    #expect(lines.first == "conduit 'ops\"ctl $x \\ ; delete table inet foreign':")
    #expect(lines.dropFirst().dropLast().allSatisfy { $0.hasPrefix("  + ") || $0.hasPrefix("  - ") })
    #expect(lines.last == "1 added, 1 removed")
    try #require(lines.count == 4)
    #expect(lines[1].hasPrefix("  + hmi\\u{2028}1 (10.30.0.31) -> plc\\u{202E}[31m-1 (10.40.0.10) tcp/102  ("))
    #expect(!result.standardOutput.unicodeScalars.contains { [0x2028, 0x2029, 0x202E].contains($0.value) })
  }

  @Test func diffJSONKeepsTheNamesAsTheyAre() throws {
    let result = try ConduitRunner.run(
      ["diff", Self.fixture("hostile.conduit"), Self.fixture("changed.conduit"), "--format", "json"] + Self.today)
    #expect(result.status == 1, "\(result.standardError)")
    let text = result.standardOutput
    #expect(text.contains("\"hmi\u{2028}1\""))
    #expect(text.contains("\"plc\u{202E}[31m-1\""))
    #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) is [String: Any])
  }

  @Test func queryShowsControlCharactersOfAssetNamesEscaped() throws {
    let result = try ConduitRunner.run(
      ["query", Self.fixture("hostile.conduit"), "--from", "10.30.0.31", "--to", "10.40.0.10"] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    let lines = result.standardOutput.split(separator: "\n")
    #expect(lines.count == 2)
    #expect(lines.first == "allowed")
    #expect(
      lines.last?.hasPrefix(
        "  allowed hmi\\u{2028}1 (10.30.0.31) -> plc\\u{202E}[31m-1 (10.40.0.10) tcp/502 by conduit 'ops\"ctl $x \\ ;")
        == true)
    #expect(!result.standardOutput.unicodeScalars.contains { [0x2028, 0x2029, 0x202E].contains($0.value) })
  }

  @Test func anUnreadablePolicyPathIsShownEscaped() throws {
    for command in [
      ["query", "/nonexistent/\u{1B}[2Jx.conduit", "--from", "a", "--to", "b"],
      ["diff", "/nonexistent/\u{1B}[2Jx.conduit", "/nonexistent/y.conduit"],
    ] {
      let result = try ConduitRunner.run(command)
      #expect(result.status == 2, "\(command[0]): \(result.standardError)")
      #expect(result.standardError.contains("/nonexistent/\\u{1B}[2Jx.conduit"), "\(command[0])")
      #expect(!result.standardError.contains("\u{1B}"), "\(command[0])")
    }
  }

  @Test func theDiagramEscapesNamesForDOT() throws {
    let result = try ConduitRunner.run(["graph", Self.fixture("hostile.conduit")] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    let dot = result.standardOutput
    #expect(dot.contains("<B>ops&quot;ctl $x \\ ; delete table inet foreign</B>"))
    #expect(dot.contains("tooltip=\"owner: ot; a \\\"quoted\\\" reason \\\\ with a backslash\""))
    #expect(dot.contains("// ops\"ctl $x \\ ; delete table inet foreign\n"))
  }

  @Test(.enabled(if: GraphCommandTests.dotInstalled, "needs Graphviz's dot (scripts/setup installs it)"))
  func graphvizReadsTheDiagramOfHostileNames() throws {
    let result = try ConduitRunner.run(["graph", Self.fixture("hostile.conduit"), "--format", "svg"] + Self.today)
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("<svg"))
    #expect(result.standardOutput.contains("ops&quot;ctl $x \\ ; delete table inet foreign"))
  }
}
