import Foundation

/// Runs Graphviz's `dot`.
public enum Graphviz {
  /// `dot` on the PATH, if installed.
  public static var executable: URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") where !directory.isEmpty {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("dot")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }

  /// The SVG rendering of DOT source; `.failed` when `dot` is missing or fails. Its input and both its outputs are
  /// served on threads of their own, so that no pipe can fill up and stall it.
  public static func svg(from source: String) throws(PipelineStop) -> [UInt8] {
    guard let executable else {
      throw PipelineStop(
        .failed,
        "--format svg needs Graphviz's 'dot' (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz); "
          + "--format dot prints the DOT source")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = ["-Tsvg"]
    let input = Pipe()
    let output = Pipe()
    let error = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = error
    do {
      try process.run()
    } catch {
      throw PipelineStop(.failed, "cannot run '\(executable.path)': \(error.localizedDescription)")
    }
    let writing = input.fileHandleForWriting
    Thread {
      try? writeAll(Array(source.utf8), to: writing.fileDescriptor)
      try? writing.close()
    }.start()
    let errorReader = PipeCollector(error.fileHandleForReading)
    let svg = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let message = errorReader.finish()
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      let reason = message.trimmingCharacters(in: .whitespacesAndNewlines)
      throw PipelineStop(.failed, "'\(executable.path) -Tsvg' failed: \(reason)")
    }
    return [UInt8](svg)
  }
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeCollector: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var data = Data()

  init(_ handle: FileHandle) {
    Thread {
      self.data = handle.readDataToEndOfFile()
      self.done.signal()
    }.start()
  }

  func finish() -> String {
    done.wait()
    return String(decoding: data, as: UTF8.self)
  }
}
