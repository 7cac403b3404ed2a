import Foundation

/// Where conduit keeps what it knows about one network namespace's ruleset (OPERATIONS.md): the last confirmed
/// artifact and its record, a pending apply (its artifact, what to restore, its deadline, its watchdog), the
/// watchdog's log and a lock. `host/` for PID 1's network namespace, `netns/NAME/` for `--netns NAME`, and
/// `netns-inode/INODE/` for any other namespace conduit runs in.
///
/// Every file is written atomically (a temporary file in the same directory, fsync, rename, fsync of the
/// directory), so a crash at any instant leaves either the old or the new file. Directories are created `0700`; a
/// symbolic link where a directory or file of the state should be is refused, never followed.
public struct StateDirectory: Sendable {
  /// The directory's path.
  public let path: String

  /// The default root, `/var/lib/conduit`.
  public static let defaultRoot = "/var/lib/conduit"
  /// The environment variable that overrides the root.
  public static let rootVariable = "CONDUIT_STATE_DIR"

  /// The names of its files.
  public enum File {
    public static let confirmedArtifact = "confirmed.nftb"
    public static let confirmedRecord = "confirmed.json"
    public static let pendingArtifact = "pending.nftb"
    public static let pendingRecord = "pending.json"
    /// The rules of a pending `apply --target iptables` (`IptablesRulesFile`).
    public static let pendingIptables = "pending.iptb"
    /// The rules of the last confirmed `apply --target iptables`.
    public static let confirmedIptables = "confirmed.iptb"
    public static let restore = "restore.bin"
    public static let log = "watchdog.log"
    public static let lock = "lock"
  }

  /// A directory at `path` as it is (for the watchdog, which is given the path its apply used).
  public init(path: String) { self.path = path }

  /// The state directory of the target namespace: under `root` (or `$CONDUIT_STATE_DIR`, or `/var/lib/conduit`),
  /// `netns/NAME` for a named namespace, `host` when the calling thread is in PID 1's network namespace, else
  /// `netns-inode/INODE`. Created when missing unless `creating` is false (`apply --dry-run` writes nothing); a
  /// symbolic link on the way is refused either way.
  public static func resolve(root: String?, networkNamespace: String?, creating: Bool = true) throws(PipelineStop)
    -> StateDirectory
  {
    let root =
      root ?? ProcessInfo.processInfo.environment[rootVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultRoot
    let relative: String
    if let networkNamespace {
      relative = "netns/\(networkNamespace)"
    } else {
      var own = stat()
      var first = stat()
      guard stat("/proc/self/ns/net", &own) == 0 else {
        throw PipelineStop(
          .failed, "cannot tell which network namespace this is (/proc/self/ns/net): \(SystemCallError.last)")
      }
      guard stat("/proc/1/ns/net", &first) == 0 else {
        if errno == EACCES || errno == EPERM {
          throw PipelineStop(
            .failed,
            "permission denied: applying a ruleset needs CAP_NET_ADMIN (run as root), and telling the host's network "
              + "namespace apart needs CAP_SYS_PTRACE (/proc/1/ns/net); nothing was changed")
        }
        throw PipelineStop(
          .failed,
          "cannot tell whether this is the host's network namespace (/proc/1/ns/net: \(SystemCallError.last); "
            + "it needs CAP_SYS_PTRACE); nothing was changed")
      }
      if first.st_ino == own.st_ino, first.st_dev == own.st_dev {
        relative = "host"
      } else {
        relative = "netns-inode/\(own.st_ino)"
      }
    }
    let directory = StateDirectory(path: (root.hasSuffix("/") ? String(root.dropLast()) : root) + "/" + relative)
    try directory.checkPath(creatingMissing: creating)
    return directory
  }

  /// Creates the directory and its parents (`0700`) when `creatingMissing`, refusing a symbolic link on the way;
  /// otherwise only checks the parts that exist.
  func checkPath(creatingMissing: Bool) throws(PipelineStop) {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
      current += "/" + component
      var status = stat()
      if lstat(current, &status) == 0 {
        guard status.st_mode & S_IFMT == S_IFDIR else {
          throw PipelineStop(
            .failed, "the state directory '\(current)' is not a directory (a symbolic link is refused)")
        }
        continue
      }
      if errno == ENOENT, !creatingMissing { return }
      guard errno == ENOENT, mkdir(current, 0o700) == 0 || errno == EEXIST else {
        if errno == EACCES || errno == EPERM {
          throw PipelineStop(
            .failed,
            "permission denied: applying a ruleset needs CAP_NET_ADMIN (run as root), and the state directory "
              + "'\(current)' cannot be created; nothing was changed")
        }
        throw PipelineStop(.failed, "cannot create the state directory '\(current)': \(SystemCallError.last)")
      }
    }
  }

  func file(_ name: String) -> String { path + "/" + name }

  /// The file's bytes, or nil when it does not exist.
  public func read(_ name: String) throws(PipelineStop) -> [UInt8]? {
    let descriptor = open(file(name), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
    guard descriptor >= 0 else {
      if errno == ENOENT { return nil }
      throw PipelineStop(.failed, "cannot read '\(file(name))': \(SystemCallError.last)")
    }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var status = stat()
    if fstat(descriptor, &status) == 0 { bytes.reserveCapacity(Int(max(0, status.st_size))) }
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count >= 0 else { throw PipelineStop(.failed, "cannot read '\(file(name))': \(SystemCallError.last)") }
      if count == 0 { return bytes }
      bytes += chunk[0..<count]
    }
  }

  /// Writes the file atomically: a temporary file beside it, fsync, rename over it, fsync of the directory.
  public func write(_ name: String, _ bytes: [UInt8]) throws(PipelineStop) {
    try write(name, parts: [bytes])
  }

  /// Writes the file of `parts`, one after the other, as `write` does (without joining them first).
  public func write(_ name: String, parts: [[UInt8]]) throws(PipelineStop) {
    try commit(try prepare(name, parts: parts))
  }

  /// A file written in full and synced under a temporary name beside the one it is for, not yet in its place.
  public struct PreparedFile: Sendable {
    let temporary: String
    let name: String
  }

  /// The first half of `write`: the file of `parts` written beside `name` and synced; `commit` puts it in place,
  /// `discard` removes it.
  public func prepare(_ name: String, parts: [[UInt8]]) throws(PipelineStop) -> PreparedFile {
    let temporary = file(".\(name).\(getpid()).tmp")
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard descriptor >= 0 else { throw PipelineStop(.failed, "cannot write '\(temporary)': \(SystemCallError.last)") }
    var failure: SystemCallError?
    for part in parts where failure == nil {
      failure = part.withUnsafeBytes { raw -> SystemCallError? in
        do throws(SystemCallError) { try writeAll(raw, to: descriptor) } catch { return error }
        return nil
      }
    }
    if failure == nil, fsync(descriptor) != 0 { failure = SystemCallError.last }
    close(descriptor)
    if let failure {
      unlink(temporary)
      throw PipelineStop(.failed, "cannot write '\(temporary)': \(failure)")
    }
    return PreparedFile(temporary: temporary, name: name)
  }

  /// The second half of `write`: the prepared file renamed over the one it is for, then the directory synced.
  public func commit(_ prepared: PreparedFile) throws(PipelineStop) {
    guard rename(prepared.temporary, file(prepared.name)) == 0 else {
      let error = SystemCallError.last
      unlink(prepared.temporary)
      throw PipelineStop(.failed, "cannot rename '\(prepared.temporary)' to '\(file(prepared.name))': \(error)")
    }
    syncDirectory()
  }

  /// Removes a prepared file that is not to be put in place.
  public func discard(_ prepared: PreparedFile) {
    unlink(prepared.temporary)
  }

  /// Removes the file (gone already is fine).
  public func remove(_ name: String) throws(PipelineStop) {
    guard unlink(file(name)) == 0 || errno == ENOENT else {
      throw PipelineStop(.failed, "cannot remove '\(file(name))': \(SystemCallError.last)")
    }
    syncDirectory()
  }

  /// Renames one of its files to another atomically.
  public func move(_ name: String, to target: String) throws(PipelineStop) {
    guard rename(file(name), file(target)) == 0 else {
      throw PipelineStop(.failed, "cannot rename '\(file(name))' to '\(file(target))': \(SystemCallError.last)")
    }
    syncDirectory()
  }

  private func syncDirectory() {
    let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directory >= 0 else { return }
    _ = fsync(directory)
    close(directory)
  }

  /// Appends one time-stamped line to the watchdog's log, and sends it to syslog where `/dev/log` exists.
  public func log(_ line: String) {
    let stamped = "\(Self.timestamp(Date())) \(line)\n"
    let descriptor = open(file(File.log), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0o600)
    if descriptor >= 0 {
      Array(stamped.utf8).withUnsafeBytes { raw in _ = try? writeAll(raw, to: descriptor) }
      _ = fsync(descriptor)
      close(descriptor)
    }
    if access("/dev/log", W_OK) == 0 {
      openlog("conduit", LOG_PID, LOG_DAEMON)
      withVaList([line]) { vsyslog(LOG_NOTICE, "%s", $0) }
      closelog()
    }
  }

  /// The last line of the watchdog's log, if any.
  public func lastLogLine() -> String? {
    guard let bytes = try? read(File.log) else { return nil }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").last.map(String.init)
  }

  /// `2026-12-04 15:20:07 UTC`.
  public static func timestamp(_ date: Date) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
    return formatter.string(from: date)
  }

  /// Takes the directory's lock (`flock`, exclusive), waiting for it when another command holds it and saying so
  /// through `waiting` (what the holder wrote in the lock file). The lock is released when the value is released.
  public func lock(for purpose: String, waiting: (String) -> Void) throws(PipelineStop) -> StateLock {
    let descriptor = open(file(File.lock), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
    guard descriptor >= 0 else {
      throw PipelineStop(.failed, "cannot open the lock '\(file(File.lock))': \(SystemCallError.last)")
    }
    if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
      guard errno == EWOULDBLOCK else {
        close(descriptor)
        throw PipelineStop(.failed, "cannot lock '\(file(File.lock))': \(SystemCallError.last)")
      }
      let holder = (try? read(File.lock)).map { String(decoding: $0, as: UTF8.self) } ?? ""
      waiting(holder.trimmingCharacters(in: .whitespacesAndNewlines))
      while flock(descriptor, LOCK_EX) != 0 {
        guard errno == EINTR else {
          close(descriptor)
          throw PipelineStop(.failed, "cannot lock '\(file(File.lock))': \(SystemCallError.last)")
        }
      }
    }
    let note = Array("pid \(getpid()): \(purpose)\n".utf8)
    _ = ftruncate(descriptor, 0)
    note.withUnsafeBytes { raw in _ = pwrite(descriptor, raw.baseAddress, raw.count, 0) }
    return StateLock(descriptor: descriptor)
  }
}

/// A held state-directory lock; released when the value is released.
public final class StateLock {
  private let descriptor: Int32

  init(descriptor: Int32) { self.descriptor = descriptor }

  deinit {
    _ = ftruncate(descriptor, 0)
    close(descriptor)
  }
}
