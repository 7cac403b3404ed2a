import Foundation

/// What a finished program printed, and its exit status.
struct CommandOutput: Sendable {
  /// The exit status; for a program killed by a signal, the signal number.
  var status: Int32
  /// Everything written to standard output.
  var standardOutput: String
  /// Everything written to standard error.
  var standardError: String

  /// Returns the output when the program succeeded, and throws a `CommandFailure` with its stderr otherwise.
  @discardableResult
  func check(_ what: String) throws -> CommandOutput {
    guard status == 0 else { throw CommandFailure(command: what, status: status, standardError: standardError) }
    return self
  }
}

/// A program that exited with a non-zero status.
struct CommandFailure: Error, CustomStringConvertible, Sendable {
  /// A short name for what was run, e.g. "nft -f - in cdt-1a2b3c-gw".
  var command: String
  /// Its exit status.
  var status: Int32
  /// What it wrote to standard error.
  var standardError: String

  /// The command, its status and its stderr.
  var description: String {
    let error = standardError.trimmingCharacters(in: .whitespacesAndNewlines)
    return "\(command) failed with status \(status)" + (error.isEmpty ? "" : ":\n\(error)")
  }
}

/// Runs programs, with their input and output in temporary files so that no pipe can fill up and block.
enum Command {
  /// Runs `executable` with `arguments` to completion, feeding it `input` on standard input.
  static func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> CommandOutput {
    let files = try TemporaryFiles(count: 3)
    defer { files.remove() }
    try Data((input ?? "").utf8).write(to: files.urls[0])
    let process = try BackgroundProcess(
      executable: executable, arguments: arguments, input: .file(files.urls[0]), output: files.urls[1],
      error: files.urls[2])
    return process.waitForExit(timeout: 120)
  }
}

/// Temporary files, removed together.
struct TemporaryFiles {
  /// The files, created empty.
  let urls: [URL]

  /// Creates `count` empty files in the temporary directory.
  init(count: Int) throws {
    let directory = FileManager.default.temporaryDirectory
    urls = (0..<count).map { _ in directory.appendingPathComponent("cdt-\(UUID().uuidString)") }
    for url in urls where !FileManager.default.createFile(atPath: url.path, contents: nil) {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
    }
  }

  /// Deletes the files.
  func remove() {
    for url in urls { try? FileManager.default.removeItem(at: url) }
  }
}

/// A program running in the background with its output going to files, and its input from a file or from lines sent.
final class BackgroundProcess {
  /// Where the program reads its standard input from.
  enum Input {
    /// A file, read to its end.
    case file(URL)
    /// A pipe: `send(_:)` writes lines, `closeInput()` ends them.
    case lines
  }

  private let process = Process()
  private let inputPipe: Pipe?
  private let outputURL: URL
  private let errorURL: URL
  private var finished: CommandOutput?

  /// Starts `executable` with `arguments`, its output and error going to new (or emptied) files.
  init(executable: String, arguments: [String], input: Input, output: URL, error: URL) throws {
    _ = BackgroundProcess.ignoreBrokenPipes
    outputURL = output
    errorURL = error
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    for url in [output, error] where !FileManager.default.createFile(atPath: url.path, contents: nil) {
      throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
    }
    let outputHandle = try FileHandle(forWritingTo: output)
    let errorHandle = try FileHandle(forWritingTo: error)
    defer {
      try? outputHandle.close()
      try? errorHandle.close()
    }
    process.standardOutput = outputHandle
    process.standardError = errorHandle
    switch input {
    case .file(let url):
      let inputHandle = try FileHandle(forReadingFrom: url)
      defer { try? inputHandle.close() }
      process.standardInput = inputHandle
      inputPipe = nil
      try process.run()
    case .lines:
      let pipe = Pipe()
      process.standardInput = pipe
      inputPipe = pipe
      try process.run()
      try? pipe.fileHandleForReading.close()
    }
  }

  deinit {
    kill()
  }

  /// The process id.
  var processIdentifier: Int32 {
    process.processIdentifier
  }

  /// Whether the program is still running.
  var isRunning: Bool {
    process.isRunning
  }

  /// What the program has written to standard output so far (bytes that are not UTF-8 become U+FFFD, so that nothing
  /// is silently dropped).
  var outputSoFar: String {
    Self.text(of: outputURL)
  }

  /// Writes `line` and a newline to the program's standard input; a program that has exited is ignored.
  func send(_ line: String) {
    try? inputPipe?.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
  }

  /// Closes the program's standard input.
  func closeInput() {
    try? inputPipe?.fileHandleForWriting.close()
  }

  /// Waits until the output holds `line` as a whole line; false when the program exits or `timeout` passes first.
  func waitForLine(_ line: String, timeout: Double) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let running = isRunning
      if outputSoFar.split(separator: "\n").contains(Substring(line)) { return true }
      if !running { return false }
      usleep(2_000)
    }
    return false
  }

  /// Waits for the program to exit, killing it after `timeout` seconds, and returns what it printed.
  @discardableResult
  func waitForExit(timeout: Double) -> CommandOutput {
    if let finished { return finished }
    let deadline = Date().addingTimeInterval(timeout)
    while isRunning && Date() < deadline { usleep(2_000) }
    kill()
    closeInput()
    let output = CommandOutput(
      status: process.terminationStatus, standardOutput: outputSoFar,
      standardError: Self.text(of: errorURL))
    finished = output
    return output
  }

  /// Kills the program if it is still running, and waits for it to go.
  func kill() {
    guard process.isRunning else { return }
    Glibc.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
  }

  /// The contents of one of the output files; a file that cannot be read (it was removed) says so.
  private static func text(of url: URL) -> String {
    do {
      return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    } catch {
      return "(cannot read \(url.path): \(error))"
    }
  }

  private static let ignoreBrokenPipes: Void = {
    signal(SIGPIPE, SIG_IGN)
  }()
}
