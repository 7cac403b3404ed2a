import Foundation

/// Writes command output to a file atomically (a temporary file beside it, then a rename) or to standard output.
enum OutputFile {
  /// Writes `data` to `path`, never leaving a half-written file; nil writes to standard output.
  static func write(_ data: Data, to path: String?) throws {
    try write([[UInt8](data)], to: path)
  }

  /// Writes `parts` one after the other to `path`, never leaving a half-written file; nil writes to standard output.
  static func write(_ parts: [[UInt8]], to path: String?) throws {
    guard let path else {
      for part in parts { FileHandle.standardOutput.write(Data(part)) }
      return
    }
    let target = URL(fileURLWithPath: path)
    let temporary = target.deletingLastPathComponent()
      .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    do {
      try writeFile(parts, at: temporary.path)
      if rename(temporary.path, target.path) != 0 {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
  }
}

/// Creates (or truncates) the file at `path` and writes every part; throws with the system's reason.
private func writeFile(_ parts: [[UInt8]], at path: String) throws {
  let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
  defer { close(descriptor) }
  for part in parts {
    try part.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        offset += written
      }
    }
  }
}

/// Prints to standard error.
func printError(_ message: String) {
  FileHandle.standardError.write(Data(message.utf8))
}
