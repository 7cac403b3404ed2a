import Foundation

/// A program conduit runs to its end (iptables-save, iptables-restore), started from the calling thread so that it
/// runs in that thread's network namespace, with its input and outputs in unlinked temporary files.
enum ToolProcess {
  /// What a program printed and how it ended.
  struct Outcome: Sendable {
    var status: Int32
    var output: [UInt8]
    var error: String
  }

  /// The path of `name` in the usual system directories, or nil.
  static func find(_ name: String) -> String? {
    for directory in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
      let candidate = "\(directory)/\(name)"
      if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
  }

  /// Runs `executable` with `arguments` (the first is the program's name) and `input` on its standard input.
  static func run(_ executable: String, _ arguments: [String], input: [UInt8] = []) throws(PipelineStop) -> Outcome {
    let streams = try (0..<3).map { _ throws(PipelineStop) -> Int32 in
      var template = Array("/tmp/conduit-tool-XXXXXX".utf8CString)
      let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
      guard descriptor >= 0 else {
        throw PipelineStop(.failed, "cannot make a temporary file: \(SystemCallError.last)")
      }
      template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
      _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
      return descriptor
    }
    defer { for descriptor in streams { close(descriptor) } }
    let written: SystemCallError? = input.withUnsafeBytes { raw -> SystemCallError? in
      do throws(SystemCallError) { try writeAll(raw, to: streams[0]) } catch { return error }
      return nil
    }
    if let written { throw PipelineStop(.failed, "cannot write the input of '\(executable)': \(written)") }
    lseek(streams[0], 0, SEEK_SET)
    let pid = try Watchdog.spawn(executable, arguments, detached: false, streams: streams)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      guard errno == EINTR else {
        throw PipelineStop(.failed, "cannot wait for '\(executable)': \(SystemCallError.last)")
      }
    }
    let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return Outcome(
      status: exit, output: readAll(streams[1]),
      error: String(decoding: readAll(streams[2]), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
  }

  private static func readAll(_ descriptor: Int32) -> [UInt8] {
    lseek(descriptor, 0, SEEK_SET)
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0, errno == EINTR { continue }
      guard count > 0 else { return bytes }
      bytes += chunk[0..<count]
    }
  }
}
