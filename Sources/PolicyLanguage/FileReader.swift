import Foundation

/// A file the job cannot do without could not be read (exit status 2).
public struct InputFileError: Error, CustomStringConvertible, Sendable {
  /// The path as given.
  public var path: String
  /// Why it could not be read.
  public var reason: String

  /// Why `path` could not be read.
  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "cannot read '\(path)': \(reason)" }
}

/// Reads files from disk for the load stage.
public enum FileReader {
  /// The bytes of a regular file, or why it cannot be read. The file is opened without blocking (a FIFO never
  /// waits for a writer), its type is checked on the open descriptor, and that descriptor is what is read: a device,
  /// FIFO, socket or directory is refused for what it is, and the path is not looked up twice. A file of more than
  /// `limit` bytes is refused without reading past the limit.
  public static func readBytes(_ path: String, limit: Int = Int.max) -> Result<[UInt8], InputFileError> {
    let descriptor: Int32
    let size: Int
    switch openRegularFile(path) {
    case .success(let opened): (descriptor, size) = opened
    case .failure(let error): return .failure(error)
    }
    defer { close(descriptor) }
    let tooLarge = InputFileError(path: path, reason: "it holds more than \(limit) bytes")
    guard size <= limit else { return .failure(tooLarge) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(size + 1)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count == 0 { return .success(bytes) }
      if count < 0 {
        if errno == EINTR || errno == EAGAIN { continue }
        return .failure(InputFileError(path: path, reason: reason(errno)))
      }
      bytes.append(contentsOf: chunk[0..<count])
      if bytes.count > limit { return .failure(tooLarge) }
    }
  }

  /// A descriptor open for reading on the regular file at `path`, and its size; or why there is none. The file is
  /// opened without blocking and its type checked on the descriptor, so the caller reads what was checked; unless
  /// `followingSymbolicLinks`, a symbolic link at `path` is refused. The caller closes the descriptor.
  public static func openRegularFile(_ path: String, followingSymbolicLinks: Bool = true)
    -> Result<(descriptor: Int32, size: Int), InputFileError>
  {
    let descriptor = open(
      path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (followingSymbolicLinks ? 0 : O_NOFOLLOW))
    guard descriptor >= 0 else { return .failure(InputFileError(path: path, reason: reason(errno))) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      let error = InputFileError(path: path, reason: reason(errno))
      close(descriptor)
      return .failure(error)
    }
    if let kind = nonRegularKind(status.st_mode) {
      close(descriptor)
      return .failure(InputFileError(path: path, reason: "it is \(kind), not a regular file"))
    }
    return .success((descriptor, Int(max(0, status.st_size))))
  }

  /// A policy or baseline file, with its bytes exactly as read (invalid UTF-8 is left for the readers to report).
  public static func readSource(_ path: String) -> Result<SourceFile, InputFileError> {
    readBytes(path).map { SourceFile(path: path, bytes: $0) }
  }

  /// What a file of mode `mode` is, when it is not a regular file: "a directory", "a FIFO"…
  static func nonRegularKind(_ mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: nil
    case S_IFDIR: "a directory"
    case S_IFIFO: "a FIFO"
    case S_IFCHR, S_IFBLK: "a device"
    case S_IFSOCK: "a socket"
    default: "not a regular file"
    }
  }

  private static func reason(_ code: Int32) -> String {
    switch code {
    case ENOENT: "no such file"
    case EACCES, EPERM: "permission denied"
    case ENOTDIR: "a part of the path is not a directory"
    case ELOOP: "too many symbolic links"
    case EISDIR: "it is a directory, not a regular file"
    default: String(cString: strerror(code)).lowercased()
    }
  }

  /// `path` taken relative to the directory of `base` (unless absolute).
  public static func path(_ path: String, relativeTo base: String) -> String {
    if path.hasPrefix("/") { return path }
    let directory = (base as NSString).deletingLastPathComponent
    let joined = directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    return (joined as NSString).standardizingPath
  }

  /// A key identifying a file whatever the path used to reach it.
  public static func identity(_ path: String) -> String {
    (URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path)
  }
}
