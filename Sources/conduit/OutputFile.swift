import Foundation

/// Writes command output to a file atomically (a temporary file beside it, then a rename) or to standard output.
enum OutputFile {
  /// Writes `data` to `path`, never leaving a half-written file; nil writes to standard output.
  static func write(_ data: Data, to path: String?) throws {
    guard let path else {
      FileHandle.standardOutput.write(data)
      return
    }
    let target = URL(fileURLWithPath: path)
    let temporary = target.deletingLastPathComponent()
      .appendingPathComponent(".\(target.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).tmp")
    do {
      try data.write(to: temporary)
      if rename(temporary.path, target.path) != 0 {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
      }
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    }
  }
}

/// Prints to standard error.
func printError(_ message: String) {
  FileHandle.standardError.write(Data(message.utf8))
}
