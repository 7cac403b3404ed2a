import Foundation

/// The rollback of a pending apply, armed before anything is sent and independent of the apply process and of the
/// operator's session: a transient systemd timer where systemd is PID 1 (outside the login session, so logind
/// cannot end it with the session), elsewhere a detached process (a session of its own, no terminal, standard
/// streams on `/dev/null`, no other inherited descriptor). Either runs `conduit watchdog`, which acts only for the
/// apply whose token it was given, under the state directory's lock.
enum Watchdog {
  /// Arms the watchdog for `pending`, to fire `seconds` from now.
  static func arm(state: StateDirectory, pending: PendingApply, seconds: Int) throws(PipelineStop)
    -> PendingApply.Watchdog
  {
    let executable = executablePath()
    let arguments =
      [executable, "watchdog", "--state-dir", state.path, "--token", pending.token]
      + (pending.networkNamespace.map { ["--netns", $0] } ?? [])
    if access("/run/systemd/system", F_OK) == 0, let systemdRun = findExecutable("systemd-run") {
      let unit = "conduit-rollback-\(pending.token)"
      let status = run(
        systemdRun,
        [
          "systemd-run", "--quiet", "--unit", unit, "--description", "conduit rollback of table \(pending.table)",
          "--on-active", "\(max(seconds, 1))s", "--timer-property", "AccuracySec=100ms", "--",
        ] + arguments)
      if status == 0 { return PendingApply.Watchdog(kind: "systemd", pid: nil, unit: unit) }
      state.log("systemd-run could not arm a timer (exit \(status)); a detached process is armed instead")
    }
    let pid = try spawnDetached(executable, arguments)
    return PendingApply.Watchdog(kind: "process", pid: pid, unit: nil)
  }

  /// Disarms the watchdog, when it is still the one armed for this apply. It would find nothing to do anyway: it
  /// acts only while the apply it was armed for is pending.
  static func disarm(_ watchdog: PendingApply.Watchdog?) {
    guard let watchdog else { return }
    if watchdog.kind == "systemd", let unit = watchdog.unit, let systemctl = findExecutable("systemctl") {
      _ = run(systemctl, ["systemctl", "stop", "\(unit).timer", "\(unit).service"])
    } else if watchdog.kind == "process", let pid = watchdog.pid, pid > 1, isWatchdog(pid) {
      kill(pid, SIGTERM)
    }
  }

  /// Whether process `pid` runs `conduit watchdog` (its command line, read from /proc), so that a recycled process
  /// number is never signalled.
  private static func isWatchdog(_ pid: Int32) -> Bool {
    guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
    let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    return arguments.count > 1 && arguments[1] == "watchdog"
  }

  private static func executablePath() -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { return CommandLine.arguments[0] }
    return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  static func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
    for directory in path.split(separator: ":") + ["/usr/bin", "/bin"] {
      let candidate = "\(directory)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  /// Runs a program to its end with standard streams on `/dev/null`; its exit status, or -1.
  private static func run(_ executable: String, _ arguments: [String]) -> Int32 {
    guard let pid = try? spawn(executable, arguments, detached: false) else { return -1 }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return -1 }
    }
    return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : -1
  }

  /// POSIX_SPAWN_SETSID (glibc 2.26), which the Glibc module does not export.
  private static let spawnSetsid: Int16 = 0x80

  /// Closes every descriptor from 3 up that this process inherited (the watchdog's first step).
  static func closeInheritedDescriptors() {
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap(Int32.init)
    for descriptor in descriptors ?? Array(3..<1024) where descriptor > 2 { close(descriptor) }
  }

  private static func spawnDetached(_ executable: String, _ arguments: [String]) throws(PipelineStop) -> Int32 {
    try spawn(executable, arguments, detached: true)
  }

  /// Starts `executable` from the calling thread (so in its network namespace), its standard streams on
  /// `/dev/null` or on `streams` (descriptors for 0, 1 and 2), with default signal handling.
  static func spawn(_ executable: String, _ arguments: [String], detached: Bool, streams: [Int32]? = nil)
    throws(PipelineStop) -> Int32
  {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    for descriptor in Int32(0)...2 {
      if let streams {
        posix_spawn_file_actions_adddup2(&actions, streams[Int(descriptor)], descriptor)
      } else {
        posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", descriptor == 0 ? O_RDONLY : O_WRONLY, 0)
      }
    }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
    if detached { flags |= Self.spawnSetsid }
    posix_spawnattr_setflags(&attributes, flags)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, &actions, &attributes, &argv, environ)
    guard result == 0 else {
      throw PipelineStop(.failed, "cannot start '\(executable)': \(SystemCallError(code: result)); nothing was applied")
    }
    return pid
  }
}
