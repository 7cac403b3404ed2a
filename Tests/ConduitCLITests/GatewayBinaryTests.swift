import Foundation
import Testing

/// The gateway binary (`scripts/build-gateway-binary`; `scripts/test` builds it and passes its path in
/// `CONDUIT_GATEWAY_BINARY`) needs no Swift toolchain, and the boot unit in `contrib/systemd/` is one systemd accepts.
@Suite struct GatewayBinaryTests {
  /// The environment variable that names the gateway binary.
  static let binaryVariable = "CONDUIT_GATEWAY_BINARY"
  /// The environment variable that turns a skip of the gateway binary's tests into a failure, as for kernel tests.
  static let requiredVariable = "CONDUIT_REQUIRE_KERNEL_TESTS"

  static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

  /// The shared libraries a gateway may be asked for: libnftnl, libmnl, glibc's, libstdc++ and libgcc_s (each name
  /// up to `.so`).
  static let allowedLibraries: Set<String> = [
    "libnftnl", "libmnl", "libc", "libm", "libdl", "libpthread", "librt", "libresolv", "libutil", "ld-linux",
    "ld-linux-x86-64", "ld-linux-aarch64", "linux-vdso", "libstdc++", "libgcc_s",
  ]

  static var environment: [String: String] { ProcessInfo.processInfo.environment }
  static var isRequired: Bool { environment[requiredVariable] == "1" }
  static var binaryPath: String? { environment[binaryVariable].flatMap { $0.isEmpty ? nil : $0 } }

  /// Whether the tests of the binary run: when its path is given, and always where they are required (to fail
  /// when it is not).
  static var binaryGiven: Bool { isRequired || binaryPath != nil }
  /// Whether the tests that hide the toolchain run: as root with the binary's path given, and always where they
  /// are required.
  static var rootAndBinary: Bool { isRequired || (geteuid() == 0 && binaryPath != nil) }

  /// The gateway binary, or a failure saying how to get one.
  static func requireBinary() throws -> URL {
    let path = try #require(
      binaryPath, "\(binaryVariable) names no binary; scripts/test builds it with scripts/build-gateway-binary")
    #expect(FileManager.default.isExecutableFile(atPath: path), "\(binaryVariable)=\(path) is not an executable")
    return URL(fileURLWithPath: path)
  }

  /// The absolute path of `name` on PATH.
  static func locate(_ name: String) -> String? {
    (environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(separator: ":").map { "\($0)/\(name)" }
      .first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// The shared libraries `ldd` names for `binary` (the name of each up to `.so`), with its output.
  static func sharedLibraries(of binary: URL) throws -> (names: [String], output: String) {
    let ldd = try #require(locate("ldd"), "ldd is not installed")
    let result = try ConduitRunner.run(URL(fileURLWithPath: ldd), [binary.path])
    #expect(result.status == 0, "ldd \(binary.path): \(result.standardError)")
    let names = result.standardOutput.split(separator: "\n").compactMap { line -> String? in
      guard let first = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).first else { return nil }
      let file = first.split(separator: "/").last.map(String.init) ?? String(first)
      return file.components(separatedBy: ".so").first
    }
    return (names, result.standardOutput)
  }

  /// The Swift toolchain's folder of shared runtime libraries (`usr/lib/swift/linux` beside the real `swift`).
  static func toolchainLibraries() throws -> String {
    let swift = try #require(locate("swift"), "the Swift toolchain is not on PATH")
    let real = URL(fileURLWithPath: swift).resolvingSymlinksInPath()
    let libraries = real.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("lib/swift/linux").standardizedFileURL.path
    #expect(
      FileManager.default.fileExists(atPath: libraries + "/libswiftCore.so"), "no libswiftCore.so in \(libraries)")
    return libraries
  }

  /// Runs `program arguments` in a mount namespace of its own in which an empty tmpfs covers `hidden`.
  static func runHiding(_ hidden: String, _ program: URL, _ arguments: [String]) throws -> ConduitRunner.Result {
    let unshare = try #require(locate("unshare"), "unshare (util-linux) is not installed")
    let script = "mount -t tmpfs -o ro,mode=0755 conduit-hidden \"$1\" && shift && exec \"$@\""
    return try ConduitRunner.run(
      URL(fileURLWithPath: unshare),
      ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", hidden, program.path] + arguments,
      environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"])
  }

  @Test(.enabled(if: binaryGiven, "needs \(binaryVariable) (scripts/test sets it); \(requiredVariable)=1 fails"))
  func theBinaryNeedsOnlyTheGatewaysLibraries() throws {
    let binary = try Self.requireBinary()
    let (names, output) = try Self.sharedLibraries(of: binary)
    #expect(names.contains("libnftnl"), "\(output)")
    #expect(names.contains("libmnl"), "\(output)")
    for name in names where !Self.allowedLibraries.contains(name) {
      Issue.record("the gateway binary needs \(name), which a gateway without Swift does not have:\n\(output)")
    }
    #expect(!output.contains("not found"), "\(output)")
  }

  @Test(
    .enabled(if: rootAndBinary, "needs root and \(binaryVariable); \(requiredVariable)=1 turns this into a failure"))
  func theBinaryRunsWithoutTheToolchainsLibraries() throws {
    try #require(geteuid() == 0, "hiding the toolchain's libraries needs root (a mount namespace)")
    let binary = try Self.requireBinary()
    let hidden = try Self.toolchainLibraries()
    let policy = SamplePolicyTests.policiesDirectory.appendingPathComponent("water-treatment/millbrook.conduit").path

    // The hiding works: the test build's conduit, linked to the toolchain's runtime, does not start.
    let dynamic = try Self.runHiding(hidden, ConduitRunner.executable, ["check", policy, "--today", "2026-11-28"])
    #expect(dynamic.status != 0)
    #expect(dynamic.standardError.contains("libswift"), "\(dynamic.standardError)")

    let check = try Self.runHiding(hidden, binary, ["check", policy, "--today", "2026-11-28"])
    #expect(check.status == 0, "\(check.standardError)")
    #expect(check.standardOutput == "no problems found\n", "\(check.standardOutput)\(check.standardError)")

    // Compiling the artifact exercises libnftnl, swift-crypto and Foundation's JSON too.
    let compile = try Self.runHiding(
      hidden, binary, ["compile", policy, "--gateway", "gw-core", "--target", "nft", "--today", "2026-11-28"])
    #expect(compile.status == 0, "\(compile.standardError)")
    #expect(compile.standardOutputBytes.starts(with: Array("CDTNFT\r\n".utf8)))

    // Applying it in a namespace exercises libmnl, the netlink session and the state directory.
    let ip = try #require(Self.locate("ip"), "ip (iproute2) is not installed")
    let namespace = "cdt-bin-\(UInt32.random(in: 0...UInt32.max))"
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cdt-bin-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let artifact = scratch.appendingPathComponent("gw-core.nftb")
    try Data(compile.standardOutputBytes).write(to: artifact)
    #expect(try ConduitRunner.run(URL(fileURLWithPath: ip), ["netns", "add", namespace]).status == 0)
    defer { _ = try? ConduitRunner.run(URL(fileURLWithPath: ip), ["netns", "delete", namespace]) }
    let apply = try Self.runHiding(
      hidden, binary,
      [
        "apply", artifact.path, "--netns", namespace, "--force",
        "--state-dir", scratch.appendingPathComponent("state").path,
      ])
    #expect(apply.status == 0, "\(apply.standardError)")
    #expect(apply.standardOutput.contains("applied table inet conduit_millbrook"), "\(apply.standardOutput)")
    let listing = try ConduitRunner.run(
      URL(fileURLWithPath: ip), ["netns", "exec", namespace, "nft", "list", "tables"])
    #expect(listing.standardOutput.contains("table inet conduit_millbrook"), "\(listing.standardOutput)")
  }

  /// Where the boot unit's `ExecStart` expects conduit.
  static let installedPath = "/usr/local/sbin/conduit"

  /// Whether the boot unit test runs: where systemd-analyze is installed and conduit is at `installedPath` or can be
  /// put there (root).
  static var systemdAnalyzeRuns: Bool {
    locate("systemd-analyze") != nil && (geteuid() == 0 || FileManager.default.fileExists(atPath: installedPath))
  }

  /// `systemd-analyze verify` accepts the boot unit. It needs the unit's `ExecStart` program to exist, so the gateway
  /// binary (or, without one, the test build's conduit) is put at /usr/local/sbin/conduit when nothing is there, and
  /// removed again. Not a kernel test: it is skipped wherever systemd-analyze is missing, whatever the environment.
  @Test(.enabled(if: systemdAnalyzeRuns, "needs systemd-analyze, and root unless \(installedPath) exists"))
  func theBootUnitVerifies() throws {
    let analyze = try #require(Self.locate("systemd-analyze"))
    let unit = Self.repositoryRoot.appendingPathComponent("contrib/systemd/conduit-boot.service").path
    var placed = false
    if !FileManager.default.fileExists(atPath: Self.installedPath) {
      let source = Self.binaryPath.map { URL(fileURLWithPath: $0) } ?? ConduitRunner.executable
      try FileManager.default.createDirectory(atPath: "/usr/local/sbin", withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: source.path, toPath: Self.installedPath)
      placed = true
    }
    defer { if placed { try? FileManager.default.removeItem(atPath: Self.installedPath) } }
    let result = try ConduitRunner.run(URL(fileURLWithPath: analyze), ["verify", unit])
    #expect(result.status == 0, "\(result.standardOutput)\(result.standardError)")
    let aboutTheUnit = (result.standardOutput + result.standardError).split(separator: "\n").filter {
      $0.contains("conduit")
    }
    #expect(aboutTheUnit.isEmpty, "\(aboutTheUnit.joined(separator: "\n"))")
  }
}
