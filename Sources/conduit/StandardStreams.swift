import ArgumentParser
import ConduitKit
import Foundation
import PolicyLanguage

/// The process's standard output and error. Every byte a command prints goes through `write(_:)` and
/// `printOutput`/`printError`, so that a full disk, a closed pipe or a closed descriptor is an error the command
/// reports (exit 2), never a crash and never output silently lost.
enum StandardStreams {
  /// Whether standard output was closed when the process started.
  nonisolated(unsafe) private(set) static var outputWasClosed = false

  /// Prepares the streams before anything is read or written: a closed pipe makes `write` fail with EPIPE instead
  /// of killing the process with SIGPIPE (and a file size limit with EFBIG instead of SIGXFSZ), and a standard
  /// descriptor the process was started without is taken by `/dev/null` (read-only for standard output, so that
  /// writes to it still fail), so that no file the command opens later can become its standard output or error.
  static func prepare() {
    signal(SIGPIPE, SIG_IGN)
    signal(SIGXFSZ, SIG_IGN)
    for descriptor in STDIN_FILENO...STDERR_FILENO {
      guard fcntl(descriptor, F_GETFD) == -1, errno == EBADF else { continue }
      if descriptor == STDOUT_FILENO { outputWasClosed = true }
      let placeholder = open("/dev/null", descriptor == STDERR_FILENO ? O_WRONLY : O_RDONLY)
      if placeholder >= 0, placeholder != descriptor {
        dup2(placeholder, descriptor)
        close(placeholder)
      }
    }
  }

  /// Writes `parts` to standard output, one after the other.
  static func write(_ parts: [[UInt8]]) throws(StandardOutputError) {
    do {
      for part in parts { try writeAll(part, to: STDOUT_FILENO) }
    } catch {
      throw StandardOutputError(reason: outputWasClosed ? "it is closed" : error.description)
    }
  }
}

/// Standard output could not be written.
struct StandardOutputError: Error, CustomStringConvertible {
  /// Why, e.g. "broken pipe" or "it is closed".
  var reason: String

  /// The one-line message conduit prints.
  var description: String { "cannot write to standard output: \(reason)" }
}

/// Writes `text` to standard output; when that fails, says why on standard error and exits with status 2.
func printOutput(_ text: String) throws {
  try printOutput([Array(text.utf8)])
}

/// Writes `parts` to standard output; when that fails, says why on standard error and exits with status 2.
func printOutput(_ parts: [[UInt8]]) throws {
  do {
    try StandardStreams.write(parts)
  } catch {
    reportError("\(error)")
    throw ExitCode(2)
  }
}

/// Writes `conduit: error: TEXT` as one line to standard error, every control character of `text` (which holds paths
/// and names from the input) shown as an escape, line breaks included.
func reportError(_ text: String) {
  printError("conduit: error: " + TerminalText.escaped(text) + "\n")
}

/// Writes `conduit: warning: TEXT` as one line to standard error, like `reportError`.
func reportWarning(_ text: String) {
  printError("conduit: warning: " + TerminalText.escaped(text) + "\n")
}

/// Writes `message` to standard error, every control character but line breaks and tabs shown as an escape (paths
/// and names from the input reach these messages). A standard error that cannot be written is ignored: there is
/// nowhere left to report it, and the exit status still tells.
func printError(_ message: String) {
  var safe = ""
  for scalar in message.unicodeScalars {
    if TerminalText.isUnsafe(scalar), scalar != "\n", scalar != "\t" {
      safe += TerminalText.escape(scalar)
    } else {
      safe.unicodeScalars.append(scalar)
    }
  }
  try? writeAll(Array(safe.utf8), to: STDERR_FILENO)
}
