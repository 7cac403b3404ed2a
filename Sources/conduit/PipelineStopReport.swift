import ArgumentParser
import ConduitKit
import PolicyLanguage

extension PipelineStop {
  /// Prints the stop on standard error (its findings, then its message) and gives the exit status of CLI.md.
  func printed() -> ExitCode {
    if diagnostics.isEmpty {
      if let message { reportError(message) }
    } else {
      printError(
        TextDiagnosticRenderer().render(diagnostics) + (message.map { "conduit: \(TerminalText.escaped($0))\n" } ?? ""))
    }
    switch reason {
    case .refused, .rejected: return ExitCode(1)
    case .unusableInput, .failed: return ExitCode(2)
    case .usage: return ExitCode(64)
    }
  }
}

/// Runs a pipeline stage; a stop is printed and ends the command with its exit status.
func stage<Value>(_ body: () throws(PipelineStop) -> Value) throws -> Value {
  do {
    return try body()
  } catch {
    throw error.printed()
  }
}
