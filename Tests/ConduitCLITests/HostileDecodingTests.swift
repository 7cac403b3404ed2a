import Foundation
import Testing

/// Hostile input to the readers, run through the `conduit` executable: inputs deep enough to overflow any
/// recursion, bytes that are not UTF-8 or are control characters, duplicate JSON keys, and files a policy names
/// that cannot be read. Each case gives the exit status and the check id and place expected.
@Suite struct HostileDecodingTests {
  static let today = ["--today", "2026-11-28"]

  /// A finding expected in `conduit check --format json`: id, file, line and column.
  struct Finding: Hashable, CustomStringConvertible {
    var id: String
    var file: String
    var line: Int
    var column: Int

    init(_ id: String, _ place: String) {
      let parts = place.split(separator: ":")
      self.id = id
      self.file = String(parts[0])
      self.line = Int(parts[1])!
      self.column = Int(parts[2])!
    }

    var description: String { "\(file):\(line):\(column) [\(id)]" }
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var policy: String
    var status: Int32
    var findings: [String]

    var testDescription: String { policy }
  }

  // MARK: - Encoding and control characters

  @Test(arguments: [
    Case(policy: "bom.conduit", status: 0, findings: []),
    Case(
      policy: "latin1.conduit", status: 1,
      findings: ["syntax latin1.conduit:1:5", "syntax latin1.conduit:16:11"]),
    Case(policy: "nul-name.conduit", status: 1, findings: ["syntax nul-name.conduit:7:14"]),
    Case(
      policy: "escape-name.conduit", status: 1,
      findings: ["syntax escape-name.conduit:3:11", "syntax escape-name.conduit:17:15"]),
    Case(
      policy: "newline-name.conduit", status: 1,
      findings: ["baseline-row newline-name.csv:3:7", "baseline-row newline-name.csv:5:5"]),
    Case(policy: "escape.conduit", status: 1, findings: ["baseline-row escape.json:3:18"]),
    Case(policy: "invalid-key.conduit", status: 1, findings: ["baseline-row invalid-key.json:3:42"]),
    Case(policy: "duplicate-key.conduit", status: 0, findings: ["duplicate-key duplicate-key.json:4:4"]),
  ])
  func badBytesAreLocatedErrors(_ testCase: Case) throws {
    let directory = try ConduitRunner.fixture("hostile-decoding")
    let result = try Self.runWithDeadline(["check", testCase.policy, "--format", "json"] + Self.today, in: directory)
    #expect(result.status == testCase.status, "\(result.standardOutput)\(result.standardError)")
    let found = try Self.findings(result.standardOutput)
    let expected = testCase.findings.map { entry in
      let parts = entry.split(separator: " ")
      return Finding(String(parts[0]), String(parts[1]))
    }
    for finding in expected {
      #expect(found.contains(finding), "missing \(finding) in \(found)")
    }
    let reported = found.filter { ["syntax", "baseline-row", "duplicate-key"].contains($0.id) }
    #expect(Set(reported) == Set(expected), "\(reported)")
  }

  @Test func aDuplicateKeyUsesTheLaterValueAndNotesTheEarlierKey() throws {
    let directory = try ConduitRunner.fixture("hostile-decoding")
    let check = try Self.runWithDeadline(["check", "duplicate-key.conduit"] + Self.today, in: directory)
    #expect(check.standardOutput.contains("duplicate-key.json:3:21: note: first given here"))
    let query = try Self.runWithDeadline(
      ["query", "duplicate-key.conduit", "--from", "hmi-1", "--to", "10.40.0.5", "--service", "modbus"] + Self.today,
      in: directory)
    #expect(query.status == 0, "\(query.standardOutput)\(query.standardError)")
  }

  // MARK: - Depth

  @Test func tenThousandChainedServicesAreALocatedErrorNotACrash() throws {
    let directory = try HostileInputDirectory()
    var text = "service s0 tcp/502\n"
    for index in 1...10_000 { text += "service s\(index) s\(index - 1)\n" }
    try directory.write("services.conduit", text)
    let result = try Self.runWithDeadline(
      ["check", "services.conduit", "--format", "json"] + Self.today, in: directory.path)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(try Self.findings(result.standardOutput).contains(Finding("bad-value", "services.conduit:65:13")))
    #expect(result.standardOutput.contains("at most 64 levels are allowed"))
  }

  @Test func aServiceCycleThroughTenThousandServicesIsFound() throws {
    let directory = try HostileInputDirectory()
    var text = ""
    for index in 0..<10_000 { text += "service s\(index) s\((index + 1) % 10_000)\n" }
    try directory.write("services.conduit", text)
    let result = try Self.runWithDeadline(["check", "services.conduit"] + Self.today, in: directory.path)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(
      result.standardOutput.contains(
        "services.conduit:1:9: error: service 's0' is defined through itself: s0 -> s1 -> s2 -> s3 -> s4 -> (9991 more) -> s9996 -> s9997 -> s9998 -> s9999 -> s0 [service-cycle]"
      ), "\(result.standardOutput.prefix(2000))")
  }

  @Test func servicesThatDoubleAtEveryLevelStaySmall() throws {
    let directory = try HostileInputDirectory()
    var text = "service s0 tcp/502\n"
    for index in 1...60 { text += "service s\(index) s\(index - 1), s\(index - 1)\n" }
    text += "zone a {\n  level 3\n  security-level 1\n  network 10.0.0.0/24\n}\n"
    text += "zone b {\n  level 3\n  security-level 1\n  network 10.1.0.0/24\n}\n"
    text += "conduit ab {\n  between a and b\n  security-level 1\n  owner \"o\"\n  justification \"j\"\n"
    text += "  allow 10.0.0.1 -> 10.1.0.1 service s60\n}\n"
    try directory.write("services.conduit", text)
    let result = try Self.runWithDeadline(["check", "services.conduit"] + Self.today, in: directory.path)
    #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
  }

  @Test func aFiveThousandDeepIncludeChainIsReadWithoutRecursion() throws {
    let directory = try HostileInputDirectory()
    for index in 0..<5_000 {
      try directory.write("f\(index).conduit", index < 4_999 ? "include \"f\(index + 1).conduit\"\n" : "site deep\n")
    }
    let result = try Self.runWithDeadline(["check", "f0.conduit"] + Self.today, in: directory.path)
    #expect(result.status == 0, "\(result.standardOutput.prefix(2000))\(result.standardError)")
    #expect(result.standardOutput == "no problems found\n")
  }

  @Test func anIncludeCycleFiveThousandFilesLongIsFound() throws {
    let directory = try HostileInputDirectory()
    for index in 0..<5_000 {
      try directory.write("f\(index).conduit", "include \"f\((index + 1) % 5_000).conduit\"\n")
    }
    let result = try Self.runWithDeadline(["check", "f0.conduit", "--format", "json"] + Self.today, in: directory.path)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(try Self.findings(result.standardOutput) == [Finding("include-cycle", "f4999.conduit:1:9")])
  }

  /// A JSON baseline nested 100,000 deep, by shape, and the first baseline-row finding expected.
  static func deepJSON(_ shape: String) -> (json: String, expected: Finding) {
    switch shape {
    case "object member":
      (
        "[{\"name\": \"a\", \"ip\": \"10.0.0.1\", \"x\": " + deep("[", "]") + "}]",
        Finding("baseline-row", "deep.json:1:40")
      )
    case "array element": ("[" + deep("[", "]") + "]", Finding("baseline-row", "deep.json:1:2"))
    case "objects":
      (
        "[{\"name\": \"a\", \"x\": " + deep("{\"a\": ", "}", innermost: "1") + "}]",
        Finding("baseline-row", "deep.json:1:21")
      )
    default: (String(repeating: "[", count: 100_000), Finding("baseline-row", "deep.json:1:100001"))
    }
  }

  @Test(arguments: ["object member", "array element", "objects", "unclosed"])
  func jsonNestedAHundredThousandDeepIsReportedNotACrash(_ shape: String) throws {
    let (json, expected) = Self.deepJSON(shape)
    let directory = try HostileInputDirectory()
    try directory.write("deep.json", json)
    try directory.write("site.conduit", "baseline \"deep.json\"\n")
    let result = try Self.runWithDeadline(
      ["check", "site.conduit", "--format", "json"] + Self.today, in: directory.path)
    #expect(result.status == 1, "\(shape): \(result.standardError)")
    let found = try Self.findings(result.standardOutput)
    #expect(found.contains(expected), "\(shape): \(found)")
  }

  @Test func aHundredThousandNestedBracesInAPolicyAreSyntaxErrors() throws {
    let directory = try HostileInputDirectory()
    try directory.write("site.conduit", "zone a " + String(repeating: "{", count: 100_000) + "\n")
    let result = try Self.runWithDeadline(
      ["check", "site.conduit", "--format", "json"] + Self.today, in: directory.path)
    #expect(result.status == 1, "\(result.standardError)")
    #expect(try Self.findings(result.standardOutput).contains(Finding("syntax", "site.conduit:1:9")))
  }

  static func deep(_ open: String, _ close: String, innermost: String = "", depth: Int = 100_000) -> String {
    String(repeating: open, count: depth) + innermost + String(repeating: close, count: depth)
  }

  // MARK: - Files that cannot be read

  /// A policy with one include or baseline, each command that reads it, and what it must say.
  static let commands: [(name: String, arguments: @Sendable (String) -> [String])] = [
    ("check", { ["check", $0] + today }),
    ("compile", { ["compile", $0, "--target", "nft-text", "-o", "out.nft"] + today }),
    ("apply", { ["apply", $0, "--netns", "conduit-never-created"] + today }),
    ("query", { ["query", $0, "--from", "10.0.0.1", "--to", "10.0.0.2"] + today }),
    ("diff", { ["diff", $0, $0] + today }),
    ("graph", { ["graph", $0, "-o", "out.dot"] + today }),
  ]

  @Test(arguments: [
    ("include \"absent.conduit\"\n", "cannot read included file 'absent.conduit': no such file"),
    ("baseline \"absent.csv\"\n", "cannot read baseline 'absent.csv': no such file"),
    ("include \"fifo.conduit\"\n", "cannot read included file 'fifo.conduit': it is a FIFO, not a regular file"),
    ("baseline \"fifo.csv\"\n", "cannot read baseline 'fifo.csv': it is a FIFO, not a regular file"),
    ("include \"/dev/zero\"\n", "cannot read included file '/dev/zero': it is a device, not a regular file"),
    ("baseline \"/dev/urandom\"\n", "cannot read baseline '/dev/urandom': it is a device, not a regular file"),
    ("include \"directory\"\n", "cannot read included file 'directory': it is a directory, not a regular file"),
  ])
  func aFileThePolicyNamesThatCannotBeReadExitsTwo(_ statement: String, _ message: String) throws {
    let directory = try HostileInputDirectory()
    try directory.write("site.conduit", "site a\n" + statement)
    try #require(mkfifo(directory.path + "/fifo.conduit", 0o600) == 0)
    try #require(mkfifo(directory.path + "/fifo.csv", 0o600) == 0)
    try FileManager.default.createDirectory(atPath: directory.path + "/directory", withIntermediateDirectories: false)
    for (name, arguments) in Self.commands {
      let result = try Self.runWithDeadline(arguments("site.conduit"), in: directory.path)
      #expect(result.status == 2, "\(name): \(result.standardOutput)\(result.standardError)")
      #expect(
        (result.standardOutput + result.standardError).contains("site.conduit:2:"), "\(name): \(result.standardError)")
      #expect((result.standardOutput + result.standardError).contains(message), "\(name)")
      #expect(!FileManager.default.fileExists(atPath: directory.path + "/out.nft"), "\(name)")
    }
  }

  @Test(arguments: [
    ("fifo.conduit", "it is a FIFO, not a regular file"), ("/dev/zero", "it is a device, not a regular file"),
    ("directory.conduit", "it is a directory, not a regular file"), ("absent.conduit", "no such file"),
  ])
  func aPolicyThatIsNotARegularFileExitsTwo(_ policy: String, _ reason: String) throws {
    let directory = try HostileInputDirectory()
    try #require(mkfifo(directory.path + "/fifo.conduit", 0o600) == 0)
    try FileManager.default.createDirectory(
      atPath: directory.path + "/directory.conduit", withIntermediateDirectories: false)
    for (name, arguments) in Self.commands {
      let result = try Self.runWithDeadline(arguments(policy), in: directory.path)
      #expect(result.status == 2, "\(name): \(result.standardOutput)\(result.standardError)")
      #expect(result.standardError.contains("cannot read '\(policy)': \(reason)"), "\(name): \(result.standardError)")
    }
  }

  @Test func aBaselineOverrideThatIsAFIFOExitsTwo() throws {
    let directory = try HostileInputDirectory()
    try directory.write("site.conduit", "site a\n")
    try #require(mkfifo(directory.path + "/fifo.csv", 0o600) == 0)
    for arguments in [["check"], ["compile", "--target", "flows"], ["graph"]] {
      let result = try Self.runWithDeadline(
        arguments + ["site.conduit", "--baseline", "fifo.csv"] + Self.today, in: directory.path)
      #expect(result.status == 2, "\(arguments): \(result.standardError)")
      #expect(result.standardError == "conduit: error: cannot read 'fifo.csv': it is a FIFO, not a regular file\n")
    }
  }

  @Test func permissionDeniedIsReportedAsSuchForANonRootUser() throws {
    let directory = try HostileInputDirectory()
    try directory.write("site.conduit", "site a\ninclude \"secret.conduit\"\n")
    try directory.write("secret.conduit", "site b\n")
    try directory.write("closed.conduit", "site c\n")
    let executable = directory.path + "/conduit"
    try FileManager.default.copyItem(atPath: ConduitRunner.executable.path, toPath: executable)
    for (path, mode) in [
      (directory.path, 0o755), (executable, 0o755), (directory.path + "/site.conduit", 0o644),
      (directory.path + "/secret.conduit", 0o000), (directory.path + "/closed.conduit", 0o000),
    ] {
      try #require(chmod(path, mode_t(mode)) == 0)
    }
    let asNobody = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
    let include = try Self.runWithDeadline(
      ["check", "site.conduit"] + Self.today, in: directory.path, executable: executable, prefix: asNobody)
    #expect(include.status == 2, "\(include.standardOutput)\(include.standardError)")
    #expect(
      include.standardOutput.contains(
        "site.conduit:2:9: error: cannot read included file 'secret.conduit': permission denied [missing-file]"),
      "\(include.standardOutput)\(include.standardError)")
    let policy = try Self.runWithDeadline(
      ["compile", "closed.conduit", "--target", "flows"] + Self.today, in: directory.path, executable: executable,
      prefix: asNobody)
    #expect(policy.status == 2)
    #expect(policy.standardError == "conduit: error: cannot read 'closed.conduit': permission denied\n")
  }

  // MARK: - Support

  static func findings(_ json: String) throws -> [Finding] {
    let array = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
    return array.map { entry in
      var finding = Finding("x", "x:1:1")
      finding.id = entry["id"] as? String ?? ""
      finding.file = entry["file"] as? String ?? ""
      finding.line = entry["line"] as? Int ?? 0
      finding.column = entry["column"] as? Int ?? 0
      return finding
    }
  }

  /// Runs `conduit` (or `executable`, after `prefix`) for at most 60 seconds, so that a read that blocks fails the
  /// test instead of hanging it.
  static func runWithDeadline(
    _ arguments: [String], in directory: String, executable: String = ConduitRunner.executable.path,
    prefix: [String] = []
  ) throws -> ConduitRunner.Result {
    let command = prefix + [executable] + arguments
    return try ConduitRunner.run(
      URL(fileURLWithPath: command[0]), Array(command.dropFirst()), in: directory, timeout: 60)
  }
}

/// A fresh directory under the system's temporary directory, removed when the value is dropped.
final class HostileInputDirectory {
  let path: String

  init() throws {
    var template = Array((NSTemporaryDirectory() + "/conduit-hostile-XXXXXX").utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    path = String(cString: try #require(made))
  }

  deinit { try? FileManager.default.removeItem(atPath: path) }

  func write(_ name: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
  }
}
