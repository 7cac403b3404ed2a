import Foundation
import Testing

/// Output that cannot be written, and `-o` targets that must not be: each case exits 2 with one line on standard
/// error saying why, is never killed by a signal, and leaves every file it was not meant to write as it was.
@Suite struct HostileOutputTests {
  /// A scratch copy of the `output-files` site (a policy, an included file and a baseline).
  final class Site {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-output-\(UUID().uuidString)")

    init() throws {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
      let fixture = URL(fileURLWithPath: try ConduitRunner.fixture("output-files"))
      for name in Self.inputs {
        try FileManager.default.copyItem(at: fixture.appendingPathComponent(name), to: url.appendingPathComponent(name))
      }
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    static let inputs = ["site.conduit", "services.conduit", "site-assets.csv"]

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func contents(_ name: String) throws -> Data { try Data(contentsOf: url.appendingPathComponent(name)) }

    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }

    /// Runs `conduit` in the site's directory.
    func run(_ arguments: [String]) throws -> ConduitRunner.Result {
      try ConduitRunner.run(arguments + ["--today", "2026-11-28"], in: url.path)
    }

    /// The contents of every input file, to show that none changed.
    func inputContents() throws -> [Data] { try Self.inputs.map(contents) }
  }

  // MARK: Standard output that cannot be written

  /// Where standard output goes, and the reason the message gives.
  enum Sink: String, CaseIterable, Sendable {
    /// `/dev/full`: every write fails with ENOSPC.
    case full
    /// A pipe whose reader has closed: EPIPE (and SIGPIPE, which conduit ignores).
    case closedPipe
    /// No standard output at all (`>&-`).
    case closed

    var reason: String {
      switch self {
      case .full: "no space left on device"
      case .closedPipe: "broken pipe"
      case .closed: "it is closed"
      }
    }
  }

  struct StandardOutputCase: CustomTestStringConvertible, Sendable {
    var arguments: [String]
    var sink: Sink
    var testDescription: String { "\(arguments.joined(separator: " ")) to \(sink.rawValue)" }
  }

  static let printingCommands: [[String]] = [
    ["check", "site.conduit"],
    ["check", "site.conduit", "--format", "sarif"],
    ["compile", "site.conduit", "--target", "nft-text"],
    ["compile", "site.conduit", "--target", "nft"],
    ["compile", "site.conduit", "--target", "flows"],
    ["graph", "site.conduit"],
    ["query", "site.conduit", "--from", "hmi-1", "--to", "plc-1"],
    ["diff", "site.conduit", "site.conduit", "--format", "json"],
    ["--help"],
    ["--version"],
  ]

  static let standardOutputCases = printingCommands.flatMap { arguments in
    Sink.allCases.map { StandardOutputCase(arguments: arguments, sink: $0) }
  }

  /// Runs `conduit arguments` in `directory` with standard output going to `sink`.
  static func run(_ arguments: [String], in directory: String, to sink: Sink) throws -> ConduitRunner.Result {
    switch sink {
    case .full:
      let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
      defer { try? full.close() }
      return try ConduitRunner.run(ConduitRunner.executable, arguments, in: directory, standardOutput: full)
    case .closedPipe:
      let pipe = Pipe()
      try pipe.fileHandleForReading.close()
      defer { try? pipe.fileHandleForWriting.close() }
      return try ConduitRunner.run(
        ConduitRunner.executable, arguments, in: directory, standardOutput: pipe.fileHandleForWriting)
    case .closed:
      return try ConduitRunner.run(
        URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" \"$@\" >&-", ConduitRunner.executable.path] + arguments,
        in: directory)
    }
  }

  @Test(arguments: standardOutputCases)
  func standardOutputThatCannotBeWrittenIsExitTwoWithTheReason(_ testCase: StandardOutputCase) throws {
    let directory = try ConduitRunner.fixture("output-files")
    let arguments = testCase.arguments + (testCase.arguments[0].hasPrefix("--") ? [] : ["--today", "2026-11-28"])
    let result = try Self.run(arguments, in: directory, to: testCase.sink)
    #expect(!result.killedBySignal, "killed by signal \(result.status): \(result.standardError)")
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError == "conduit: error: cannot write to standard output: \(testCase.sink.reason)\n")
  }

  /// A pipe its reader made non-blocking, read slowly: writes that find it full wait instead of failing with EAGAIN,
  /// and every byte arrives.
  @Test func aNonBlockingPipeThatFillsUpGetsEveryByte() throws {
    let site = try Site()
    var rules = ""
    for rule in 0..<1_500 {
      rules += "  allow 10.30.0.\(rule % 200 + 1) -> 10.40.0.\(rule / 200 + 100) service tcp/\(2_000 + rule)\n"
    }
    let policy = try String(contentsOfFile: site.path("site.conduit"), encoding: .utf8)
    try policy.replacingOccurrences(of: "service polling\n", with: "service polling\n" + rules)
      .write(toFile: site.path("site.conduit"), atomically: true, encoding: .utf8)
    let command = ["compile", "site.conduit", "--target", "flows"]
    let expected = try site.run(command)
    try #require(expected.status == 0, "\(expected.standardError)")
    try #require(expected.standardOutputBytes.count > 1 << 18)
    let pipe = Pipe()
    let writeEnd = pipe.fileHandleForWriting.fileDescriptor
    try #require(fcntl(writeEnd, F_SETFL, fcntl(writeEnd, F_GETFL) | O_NONBLOCK) == 0)
    let reader = SlowReader(pipe.fileHandleForReading)
    let result = try ConduitRunner.run(
      ConduitRunner.executable, command + ["--today", "2026-11-28"], in: site.url.path,
      standardOutput: pipe.fileHandleForWriting)
    try pipe.fileHandleForWriting.close()
    #expect(result.status == 0, "\(result.standardError)")
    let received = reader.finish()
    let complete = received == expected.standardOutputBytes
    #expect(complete, "\(received.count) of \(expected.standardOutputBytes.count) bytes")
  }

  /// Reads a pipe in small pieces with pauses, so that its writer finds it full.
  final class SlowReader: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    init(_ handle: FileHandle) {
      Thread {
        usleep(200_000)
        while true {
          let piece = handle.readData(ofLength: 4_096)
          if piece.isEmpty { break }
          self.data.append(piece)
          if self.data.count % (1 << 16) < 4_096 { usleep(20_000) }
        }
        self.done.signal()
      }.start()
    }

    func finish() -> Data {
      done.wait()
      return data
    }
  }

  /// Standard error that cannot be written either: the exit status still tells.
  @Test func standardErrorThatCannotBeWrittenIsNotFatal() throws {
    let directory = try ConduitRunner.fixture("output-files")
    let script = "exec \"$0\" \"$@\" >/dev/full 2>/dev/full"
    let result = try ConduitRunner.run(
      URL(fileURLWithPath: "/bin/sh"), ["-c", script, ConduitRunner.executable.path, "check", "site.conduit"],
      in: directory)
    #expect(!result.killedBySignal, "killed by signal \(result.status)")
    #expect(result.status == 2)
  }

  // MARK: -o onto what is not a regular file

  /// `-o` for each command that has it.
  static let writingCommands: [[String]] = [
    ["compile", "site.conduit", "--target", "nft"],
    ["compile", "site.conduit", "--target", "nft-text"],
    ["graph", "site.conduit"],
  ]

  /// The device is a node of the scratch directory (the same device as /dev/null) when the test may create one, so
  /// that a regression replaces that node and not the machine's /dev/null; an unprivileged run, which could not
  /// replace /dev/null anyway, uses /dev/null itself.
  @Test(arguments: writingCommands)
  func aDeviceIsRefusedAndLeftAlone(_ command: [String]) throws {
    let site = try Site()
    let device = mknod(site.path("null"), S_IFCHR | 0o666, Self.nullDevice) == 0 ? "null" : "/dev/null"
    let result = try site.run(command + ["-o", device])
    #expect(result.status == 2)
    #expect(
      result.standardError
        == "conduit: error: cannot write '\(device)': it is a character device; -o writes only regular files\n")
    var status = stat()
    #expect(stat(device.hasPrefix("/") ? device : site.path(device), &status) == 0)
    #expect(status.st_mode & S_IFMT == S_IFCHR && status.st_rdev == Self.nullDevice)
    #expect(try site.listing() == (Site.inputs + (device == "null" ? ["null"] : [])).sorted())
  }

  @Test(arguments: writingCommands)
  func aFIFOASocketAndADirectoryAreRefused(_ command: [String]) throws {
    let site = try Site()
    #expect(mkfifo(site.path("fifo"), 0o644) == 0)
    try Self.bindSocket(at: site.path("socket"))
    try FileManager.default.createDirectory(atPath: site.path("directory"), withIntermediateDirectories: false)
    let before = try site.listing()
    let expectations = [
      ("fifo", "it is a FIFO; -o writes only regular files", S_IFIFO),
      ("socket", "it is a socket; -o writes only regular files", S_IFSOCK),
      ("directory", "it is a directory; -o writes only regular files", S_IFDIR),
      ("directory/", "it is a directory; -o writes only regular files", S_IFDIR),
    ]
    for (target, reason, kind) in expectations {
      let result = try site.run(command + ["-o", target])
      #expect(result.status == 2, "\(target)")
      #expect(result.standardError == "conduit: error: cannot write '\(target)': \(reason)\n")
      var status = stat()
      #expect(lstat(site.path(target), &status) == 0 && status.st_mode & S_IFMT == kind, "\(target)")
    }
    #expect(try site.listing() == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: site.path("directory")).isEmpty)
  }

  // MARK: -o onto an input

  /// Every way of naming an input file, and what the message calls it.
  @Test(arguments: writingCommands)
  func anInputFileIsRefusedHoweverItIsNamed(_ command: [String]) throws {
    let site = try Site()
    #expect(link(site.path("site-assets.csv"), site.path("alias.csv")) == 0)
    try FileManager.default.createSymbolicLink(atPath: site.path("same"), withDestinationPath: ".")
    let inputs = try site.inputContents()
    let targets = [
      ("site.conduit", "the policy 'site.conduit'"),
      ("./site.conduit", "the policy 'site.conduit'"),
      (site.path("site.conduit"), "the policy 'site.conduit'"),
      ("same/site.conduit", "the policy 'site.conduit'"),
      ("services.conduit", "the included file 'services.conduit'"),
      ("site-assets.csv", "the baseline 'site-assets.csv'"),
      ("alias.csv", "the baseline 'site-assets.csv'"),
    ]
    for (target, what) in targets {
      let result = try site.run(command + ["-o", target])
      #expect(result.status == 2, "\(target)")
      #expect(
        result.standardError == "conduit: error: cannot write '\(target)': it is \(what), which this command reads\n")
    }
    #expect(try site.inputContents() == inputs)
    #expect(try site.listing() == (Site.inputs + ["alias.csv", "same"]).sorted())
  }

  @Test func anInputGivenWithBaselineIsRefusedToo() throws {
    let site = try Site()
    try FileManager.default.copyItem(atPath: site.path("site-assets.csv"), toPath: site.path("other.csv"))
    let before = try site.contents("other.csv")
    let result = try site.run(["compile", "site.conduit", "--baseline", "other.csv", "-o", "other.csv"])
    #expect(result.status == 2)
    #expect(
      result.standardError
        == "conduit: error: cannot write 'other.csv': it is the baseline 'other.csv', which this command reads\n")
    #expect(try site.contents("other.csv") == before)
  }

  // MARK: Symbolic links

  /// A symbolic link as the target is refused (rename would replace the link, not write where it points, and a
  /// link in a shared directory may point anywhere), dangling or not.
  @Test(arguments: writingCommands)
  func aSymbolicLinkAsTheTargetIsRefused(_ command: [String]) throws {
    let site = try Site()
    try Data("victim\n".utf8).write(to: site.url.appendingPathComponent("victim"))
    try FileManager.default.createSymbolicLink(atPath: site.path("link"), withDestinationPath: "victim")
    try FileManager.default.createSymbolicLink(atPath: site.path("dangling"), withDestinationPath: "created")
    for (target, destination) in [("link", "victim"), ("dangling", "created")] {
      let result = try site.run(command + ["-o", target])
      #expect(result.status == 2)
      #expect(
        result.standardError
          == "conduit: error: cannot write '\(target)': it is a symbolic link to '\(destination)'; -o replaces only "
          + "regular files: name the file itself\n")
      #expect(try FileManager.default.destinationOfSymbolicLink(atPath: site.path(target)) == destination)
    }
    #expect(try site.contents("victim") == Data("victim\n".utf8))
    #expect(try site.listing() == (Site.inputs + ["dangling", "link", "victim"]).sorted())
  }

  /// Symbolic links planted at every name the temporary file used to have (`.NAME.PID.tmp`, for the next process
  /// ids) are never followed: the file they point to is untouched and the output lands in the target.
  @Test(arguments: writingCommands)
  func symbolicLinksPlantedBesideTheTargetAreNeverFollowed(_ command: [String]) throws {
    let site = try Site()
    let victim = site.url.appendingPathComponent("victim")
    try Data("victim\n".utf8).write(to: victim)
    let lastProcess = try #require(
      Int(
        try String(contentsOfFile: "/proc/sys/kernel/ns_last_pid", encoding: .utf8).trimmingCharacters(
          in: .whitespacesAndNewlines)))
    let planted = (lastProcess + 1...lastProcess + 2_000).map { ".out.\($0).tmp" }
    for name in planted {
      try FileManager.default.createSymbolicLink(atPath: site.path(name), withDestinationPath: victim.path)
    }
    let before = try site.listing()
    let result = try site.run(command + ["-o", "out"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(try site.contents("victim") == Data("victim\n".utf8))
    #expect(try site.listing() == (before + ["out"]).sorted())
    let printed = try site.run(command)
    #expect(try site.contents("out") == printed.standardOutputBytes)
  }

  // MARK: Failures while writing

  /// A write that fails midway (here the file size limit) leaves the old target and no temporary file behind.
  @Test(arguments: writingCommands)
  func aWriteThatFailsLeavesTheTargetAsItWasAndNoTemporaryFile(_ command: [String]) throws {
    let site = try Site()
    try Data("previous\n".utf8).write(to: site.url.appendingPathComponent("out"))
    let before = try site.listing()
    let script = "ulimit -f 2 && exec \"$0\" \"$@\""
    let result = try ConduitRunner.run(
      URL(fileURLWithPath: "/bin/sh"),
      ["-c", script, ConduitRunner.executable.path] + command + ["--today", "2026-11-28", "-o", "out"],
      in: site.url.path)
    #expect(!result.killedBySignal, "killed by signal \(result.status)")
    #expect(result.status == 2)
    #expect(result.standardError == "conduit: error: cannot write 'out': file too large\n")
    #expect(try site.contents("out") == Data("previous\n".utf8))
    #expect(try site.listing() == before)
  }

  @Test func anEmptyPathIsExitTwo() throws {
    let site = try Site()
    let result = try site.run(["compile", "site.conduit", "--target", "nft-text", "-o", ""])
    #expect(result.status == 2)
    #expect(result.standardError == "conduit: error: cannot write '': the path is empty\n")
    #expect(try site.listing() == Site.inputs.sorted())
  }

  @Test func aMissingDirectoryIsExitTwo() throws {
    let site = try Site()
    let result = try site.run(["compile", "site.conduit", "--target", "nft-text", "-o", "missing/out"])
    #expect(result.status == 2)
    #expect(
      result.standardError
        == "conduit: error: cannot write 'missing/out': cannot open its directory 'missing': no such file or directory\n"
    )
    #expect(try site.listing() == Site.inputs.sorted())
  }

  // MARK: Permissions

  /// A new file is 0644 less the umask; a file that exists keeps its permission bits.
  @Test func theOutputKeepsTheTargetsPermissions() throws {
    let site = try Site()
    let command = ["compile", "site.conduit", "--target", "nft-text", "-o", "out"]
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
    let mask = try #require(mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8))
    #expect(try site.run(command).status == 0)
    #expect(try Self.permissions(site.path("out")) == 0o644 & ~mask)
    #expect(chmod(site.path("out"), 0o600) == 0)
    #expect(try site.run(command).status == 0)
    #expect(try Self.permissions(site.path("out")) == 0o600)
  }

  // MARK: Helpers

  /// The device number of /dev/null (major 1, minor 3), as Linux encodes it in `dev_t`.
  static let nullDevice: dev_t = (1 << 8) | 3

  static func permissions(_ path: String) throws -> mode_t {
    var status = stat()
    try #require(stat(path, &status) == 0)
    return status.st_mode & 0o7777
  }

  /// Creates a Unix socket at `path` (left bound until the process exits; removed with its directory).
  static func bindSocket(at path: String) throws {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    try #require(descriptor >= 0)
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
      for (index, byte) in bytes.enumerated() { raw[index] = byte }
    }
    let bound = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
      }
    }
    try #require(bound == 0)
  }
}
