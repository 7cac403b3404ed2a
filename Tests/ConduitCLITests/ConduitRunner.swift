import Foundation
import Testing

/// Runs the built `conduit` executable and captures what it prints.
///
/// Standard output and standard error are read at the same time, each on a thread of its own: a program that writes
/// more than a pipe holds to both while the runner waits for one to end would otherwise block forever.
struct ConduitRunner {
  struct Result {
    /// The exit status; for a program killed by a signal, the signal number.
    var status: Int32
    var standardOutput: String { String(decoding: standardOutputBytes, as: UTF8.self) }
    /// Standard output as written (the nft artifact is binary).
    var standardOutputBytes: Data
    var standardError: String
    /// Whether the program was killed by a signal rather than exiting.
    var killedBySignal = false
  }

  /// The program ran longer than the runner waits; it was killed.
  struct Timeout: Error, CustomStringConvertible {
    var command: [String]
    var seconds: Double
    var standardError: String

    var description: String {
      "\(command.joined(separator: " ")) ran longer than \(seconds) s and was killed; its standard error:\n"
        + standardError
    }
  }

  /// The `conduit` executable beside the test bundle.
  static var executable: URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidate = directory.appendingPathComponent("conduit")
    var search = directory
    while !FileManager.default.isExecutableFile(atPath: candidate.path), search.pathComponents.count > 1 {
      search = search.deletingLastPathComponent()
      candidate = search.appendingPathComponent("conduit")
    }
    return candidate
  }

  static func fixture(_ path: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil)).path
  }

  /// Runs `conduit` with `arguments`.
  static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil) throws
    -> Result
  {
    try run(executable, arguments, in: directory, environment: environment)
  }

  /// Runs `program` with `arguments` to its end; standard output goes to `standardOutput` when given (and is then not
  /// captured). Throws `Timeout` when it runs longer than `timeout` seconds.
  static func run(
    _ program: URL, _ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil,
    standardOutput: FileHandle? = nil, timeout: Double = 600
  ) throws -> Result {
    let process = Process()
    process.executableURL = program
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = standardOutput ?? output
    process.standardError = error
    try process.run()
    let watchdog = Watchdog(process.processIdentifier, after: timeout)
    let errorReader = PipeReader(error.fileHandleForReading)
    let outputData = standardOutput == nil ? output.fileHandleForReading.readDataToEndOfFile() : Data()
    let errorData = errorReader.finish()
    process.waitUntilExit()
    let timedOut = watchdog.stop()
    let standardError = String(decoding: errorData, as: UTF8.self)
    if timedOut {
      throw Timeout(command: [program.lastPathComponent] + arguments, seconds: timeout, standardError: standardError)
    }
    return Result(
      status: process.terminationStatus, standardOutputBytes: outputData,
      standardError: standardError, killedBySignal: process.terminationReason == .uncaughtSignal)
  }
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeReader: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var data = Data()

  init(_ handle: FileHandle) {
    Thread {
      self.data = handle.readDataToEndOfFile()
      self.done.signal()
    }.start()
  }

  /// Everything read, once the writer has closed the pipe.
  func finish() -> Data {
    done.wait()
    return data
  }
}

/// Kills a process that runs too long.
private final class Watchdog: @unchecked Sendable {
  private let lock = NSLock()
  private var stopped = false
  private var fired = false

  /// Kills `process` with SIGKILL after `seconds`, unless stopped first.
  init(_ process: Int32, after seconds: Double) {
    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
      lock.withLock {
        guard !stopped else { return }
        fired = true
        kill(process, SIGKILL)
      }
    }
  }

  /// Stops watching (call once the process has exited); whether it was killed.
  func stop() -> Bool {
    lock.withLock {
      stopped = true
      return fired
    }
  }
}
