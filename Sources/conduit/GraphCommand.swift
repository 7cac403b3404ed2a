import ArgumentParser
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// `conduit graph POLICY [--format dot|svg]`: the zone and conduit diagram.
struct GraphCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "graph",
    abstract: "Draw the zone and conduit diagram.",
    discussion: """
      Zones are drawn in rows by Purdue level and shaded by SL-T; each conduit joins its two zones with its SL-T, \
      its gateway and the services each side initiates; findings of 'conduit check' are drawn in orange (warnings) \
      and red (errors; dashed when no gateway enforces the conduit). --format svg runs Graphviz's 'dot'. A policy \
      with errors is still drawn, its errors printed on standard error. Exit status: 0 drawn, 1 drawn but the \
      policy has errors, 2 a file could not be read or 'dot' is missing or failed, 64 usage.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case dot, svg
  }

  @OptionGroup var options: PolicyOptions

  @Option(help: "Output format: dot (Graphviz source) or svg (needs Graphviz's 'dot').")
  var format: Format = .dot

  @Option(name: .shortAndLong, help: "Write to this regular file (atomically) instead of standard output.")
  var output: String?

  func run() throws {
    let checked: CheckedPolicy
    do {
      checked = try checkPolicy(
        at: options.policy, resolveOptions: options.resolveOptions, checkOptions: CheckOptions(today: options.day))
    } catch {
      reportError("\(error)")
      throw ExitCode(2)
    }
    if checked.diagnostics.hasUnreadableFile {
      let errors = checked.diagnostics.filter { $0.severity == .error && $0.acceptedRisk == nil }
      printError(TextDiagnosticRenderer().render(errors) + "conduit: a file could not be read; no diagram\n")
      throw ExitCode(2)
    }
    let source = ZoneDiagramDOTRenderer().render(ZoneDiagram(checked.policy, diagnostics: checked.diagnostics))
    let data: Data
    switch format {
    case .dot: data = Data(source.utf8)
    case .svg: data = try Graphviz.svg(from: source)
    }
    if let output {
      do {
        try OutputFile.write([[UInt8](data)], to: output, inputs: checked.policy.inputFiles)
      } catch {
        reportError("\(error)")
        throw ExitCode(2)
      }
    } else {
      try printOutput([[UInt8](data)])
    }
    if checked.hasErrors {
      let errors = checked.diagnostics.filter { $0.severity == .error && $0.acceptedRisk == nil }
      printError(
        TextDiagnosticRenderer().render(errors) + "conduit: the policy has errors; the diagram shows what resolved\n")
      throw ExitCode(1)
    }
  }
}

/// Runs Graphviz's `dot`.
enum Graphviz {
  /// `dot` on the PATH, if installed.
  static var executable: URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for directory in path.split(separator: ":") where !directory.isEmpty {
      let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("dot")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
    }
    return nil
  }

  /// The SVG rendering of DOT source; exits with status 2 when `dot` is missing or fails.
  static func svg(from source: String) throws -> Data {
    guard let executable else {
      printError(
        "conduit: error: --format svg needs Graphviz's 'dot' (Debian/Ubuntu: apt-get install graphviz; "
          + "macOS: brew install graphviz); --format dot prints the DOT source\n")
      throw ExitCode(2)
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
      reportError("cannot run '\(executable.path)': \(error.localizedDescription)")
      throw ExitCode(2)
    }
    let writer = Thread {
      try? writeAll(Array(source.utf8), to: input.fileHandleForWriting.fileDescriptor)
      try? input.fileHandleForWriting.close()
    }
    writer.start()
    let errorReader = ErrorCollector(error.fileHandleForReading)
    let svg = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let message = errorReader.finish()
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      let reason = message.trimmingCharacters(in: .whitespacesAndNewlines)
      reportError("'\(executable.path) -Tsvg' failed: \(reason)")
      throw ExitCode(2)
    }
    return svg
  }
}

/// Reads a pipe to its end on a thread of its own, so that neither of a child's two output pipes can fill up.
private final class ErrorCollector: @unchecked Sendable {
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
