import Foundation
import PolicyLanguage

/// A baseline read and interpreted ahead of time, while the policy is still being parsed.
///
/// The policy's `baseline` statement is found by a quick look at its first file (or comes from `--baseline`); the
/// resolver uses the result only when the statement it resolves names the same path, and reads the baseline
/// itself otherwise, so the outcome is the same with or without it.
public struct PrefetchedBaseline: Sendable {
  /// The path as the resolver will compute it.
  let path: String
  /// The file, nil when it could not be read (the resolver then reports it as usual).
  let file: SourceFile?
  /// The interpreted rows, handed to the first resolver that asks (which then frees them with its drafts: a large
  /// inventory is not kept for the rest of the run); a later resolver reads the file again.
  private let rowsOnce: RowsOnce
  let diagnostics: DiagnosticEngine

  private final class RowsOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: BaselineRows?

    init(_ rows: BaselineRows) { self.rows = rows }

    func take() -> BaselineRows? {
      lock.withLock {
        defer { rows = nil }
        return rows
      }
    }
  }

  /// The rows, the first time they are asked for; nil afterwards.
  func takeRows() -> BaselineRows? { rowsOnce.take() }

  /// Reads and interprets the baseline at `path`.
  public init(path: String) {
    self.path = path
    guard case .success(let file) = FileReader.readSource(path) else {
      self.file = nil
      rowsOnce = RowsOnce(BaselineRows())
      diagnostics = DiagnosticEngine()
      return
    }
    var diagnostics = DiagnosticEngine()
    self.file = file
    rowsOnce = RowsOnce(
      BaselineRows(BaselineInterpreter(file: file).interpret(diagnostics: &diagnostics), &diagnostics))
    self.diagnostics = diagnostics
  }

  /// The baseline path of the policy at `policyPath`: `--baseline`, or a `baseline "FILE"` statement at the start
  /// of a line of the policy file itself (not of an included file); nil when there is none.
  public static func path(forPolicyAt policyPath: String, options: ResolveOptions) -> String? {
    if let path = options.baselinePath { return path }
    guard case .success(let bytes) = FileReader.readBytes(policyPath) else { return nil }
    var lineStart = bytes.startIndex
    while lineStart < bytes.endIndex {
      let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
      let line = bytes[lineStart..<lineEnd]
      lineStart = lineEnd < bytes.endIndex ? bytes.index(after: lineEnd) : lineEnd
      var rest = line.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
      guard rest.starts(with: "baseline".utf8) else { continue }
      rest = rest.dropFirst("baseline".utf8.count).drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
      guard rest.first == UInt8(ascii: "\""), let close = rest.dropFirst().firstIndex(of: UInt8(ascii: "\""))
      else { return nil }
      let name = String(decoding: rest[rest.index(after: rest.startIndex)..<close], as: UTF8.self)
      guard !name.contains("\\") else { return nil }
      return FileReader.path(name, relativeTo: policyPath)
    }
    return nil
  }
}
