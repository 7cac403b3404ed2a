import Foundation

/// What every kernel test gate shares: tests that need root and network namespaces are skipped where these are
/// missing, unless `CONDUIT_REQUIRE_KERNEL_TESTS=1` (as in CI) makes them run and fail with the reason.
public enum KernelTestRequirement {
  /// The environment variable that turns a missing capability from a skip into a failure.
  public static let variable = "CONDUIT_REQUIRE_KERNEL_TESTS"

  /// Whether kernel tests must run.
  public static var isRequired: Bool {
    ProcessInfo.processInfo.environment[variable] == "1"
  }

  /// The absolute path of program `name`, searched in `PATH` and the system directories.
  public static func locate(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
    return directories.lazy.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Why root and `ip netns` cannot be used here, or nil when a namespace named `probe` can be made, entered with
  /// `ip netns exec` and deleted.
  public static func missingNamespaces(probe: String) -> String? {
    guard geteuid() == 0 else { return "not running as root" }
    guard let ip = locate("ip") else { return "`ip` is not installed" }
    guard run(ip, ["netns", "add", probe]) else { return "`ip netns add` does not work" }
    defer { _ = run(ip, ["netns", "delete", probe]) }
    guard run(ip, ["netns", "exec", probe, ip, "link", "show", "lo"]) else { return "`ip netns exec` does not work" }
    return nil
  }

  /// Whether `executable` ran to a zero exit within 20 seconds.
  private static func run(_ executable: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return process.terminationStatus == 0
  }
}
