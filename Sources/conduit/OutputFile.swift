import ConduitKit
import Foundation

/// `-o FILE`: writes command output to a regular file atomically, never through a name someone else could have
/// prepared.
///
/// The output goes to a new temporary file beside the target, created under an unpredictable name with
/// `O_CREAT|O_EXCL|O_NOFOLLOW` (so a file or symbolic link planted at any name is never opened), written, fsync'd and
/// renamed over the target; on any failure it is removed and the target is untouched. The target must be a regular
/// file or not exist: a device (`-o /dev/null`), FIFO, socket, directory or symbolic link is refused, and so is any
/// file the command read (the policy, an included file, the baseline), however it is named. An existing target keeps
/// its permission bits; a new one is created 0644 less the umask.
enum OutputFile {
  /// How many unpredictable names are tried before giving up (each clash means the name already existed).
  static let attempts = 64

  /// Writes `parts`, one after the other, to the regular file at `path`, unless it is one of `inputs`.
  static func write(_ parts: [[UInt8]], to path: String, inputs: [InputFile]) throws(OutputFileError) {
    guard !path.isEmpty else { throw OutputFileError(path: path, reason: "the path is empty") }
    let (directoryPath, name) = split(path)
    guard !name.isEmpty else {
      throw OutputFileError(path: path, reason: "it is a directory; -o writes only regular files")
    }
    let directory = open(directoryPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directory >= 0 else {
      throw OutputFileError(path: path, reason: "cannot open its directory '\(directoryPath)': \(SystemCallError.last)")
    }
    defer { close(directory) }
    let existing = try target(name, in: directory, path: path, inputs: inputs)
    let (descriptor, temporary) = try createTemporary(in: directory, path: path)
    do throws(SystemCallError) {
      defer { close(descriptor) }
      if let existing, fchmod(descriptor, existing.st_mode & 0o777) != 0 { throw .last }
      for part in parts { try writeAll(part, to: descriptor) }
      if fsync(descriptor) != 0 { throw .last }
    } catch {
      unlinkat(directory, temporary, 0)
      throw OutputFileError(path: path, reason: error.description)
    }
    if renameat(directory, temporary, directory, name) != 0 {
      let error = SystemCallError.last
      unlinkat(directory, temporary, 0)
      throw OutputFileError(path: path, reason: error.description)
    }
    _ = fsync(directory)
  }

  /// The directory part of `path` (`.` when it has none) and its last component (empty when it ends in `/`).
  static func split(_ path: String) -> (directory: String, name: String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let directory = String(path[..<slash])
    return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
  }

  /// The status of the existing target (nil when there is none yet), or why it may not be written.
  private static func target(_ name: String, in directory: Int32, path: String, inputs: [InputFile])
    throws(OutputFileError)
    -> stat?
  {
    var status = stat()
    guard fstatat(directory, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
      if errno == ENOENT { return nil }
      throw OutputFileError(path: path, reason: SystemCallError.last.description)
    }
    switch status.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFLNK:
      let destination = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)).map { " to '\($0)'" } ?? ""
      throw OutputFileError(
        path: path, reason: "it is a symbolic link\(destination); -o replaces only regular files: name the file itself")
    default:
      throw OutputFileError(
        path: path, reason: "it is \(kind(status.st_mode)); -o writes only regular files")
    }
    for input in inputs {
      var inputStatus = stat()
      if stat(input.path, &inputStatus) == 0, inputStatus.st_dev == status.st_dev, inputStatus.st_ino == status.st_ino {
        throw OutputFileError(path: path, reason: "it is \(input.role) '\(input.path)', which this command reads")
      }
    }
    return status
  }

  /// A new, empty file under an unpredictable name in `directory`, open for writing, and that name.
  private static func createTemporary(in directory: Int32, path: String) throws(OutputFileError)
    -> (descriptor: Int32, name: String)
  {
    var generator = SystemRandomNumberGenerator()
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
    for _ in 0..<attempts {
      let name = ".conduit-" + String((0..<16).map { _ in alphabet.randomElement(using: &generator)! }) + ".tmp"
      let descriptor = openat(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
      if descriptor >= 0 { return (descriptor, name) }
      if errno != EEXIST {
        throw OutputFileError(path: path, reason: "cannot create a file beside it: \(SystemCallError.last)")
      }
    }
    throw OutputFileError(path: path, reason: "cannot create a file beside it: \(attempts) names were all taken")
  }

  /// What a file that is not regular is, for the message.
  private static func kind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFCHR: "a character device"
    case S_IFBLK: "a block device"
    case S_IFIFO: "a FIFO"
    case S_IFSOCK: "a socket"
    case S_IFDIR: "a directory"
    default: "not a regular file"
    }
  }
}

/// The output file could not be written; nothing was changed.
struct OutputFileError: Error, CustomStringConvertible {
  /// The path given to `-o`.
  var path: String
  /// Why, e.g. "it is a character device; -o writes only regular files".
  var reason: String

  /// The one-line message conduit prints.
  var description: String { "cannot write '\(path)': \(reason)" }
}
