import Foundation
import PolicyLanguage

/// A file the job cannot do without could not be read (exit status 2).
public struct InputFileError: Error, CustomStringConvertible, Sendable {
  /// The path as given.
  public var path: String
  /// Why it could not be read.
  public var reason: String

  public var description: String { "cannot read '\(path)': \(reason)" }
}

/// Reads files from disk for the load stage.
public enum FileReader {
  /// The text of a file, or why it cannot be read.
  public static func readText(_ path: String) -> Result<String, InputFileError> {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      return .failure(InputFileError(path: path, reason: "no such file"))
    }
    if isDirectory.boolValue { return .failure(InputFileError(path: path, reason: "it is a directory")) }
    guard let data = FileManager.default.contents(atPath: path) else {
      return .failure(InputFileError(path: path, reason: "permission denied or unreadable"))
    }
    return .success(String(decoding: data, as: UTF8.self))
  }

  /// `path` taken relative to the directory of `base` (unless absolute).
  public static func path(_ path: String, relativeTo base: String) -> String {
    if path.hasPrefix("/") { return path }
    let directory = (base as NSString).deletingLastPathComponent
    let joined = directory.isEmpty ? path : (directory as NSString).appendingPathComponent(path)
    return (joined as NSString).standardizingPath
  }

  /// A key identifying a file whatever the path used to reach it.
  static func identity(_ path: String) -> String {
    (URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path)
  }
}

/// The load and parse stages: the main policy file and every file it includes, each read once.
public struct PolicyLoader {
  /// Creates a loader.
  public init() {}

  /// Reads and parses `path` and its includes. Throws only when the main file itself cannot be read.
  public func load(_ path: String, diagnostics: inout DiagnosticEngine) throws(InputFileError) -> [PolicyFile] {
    let text: String
    switch FileReader.readText(path) {
    case .success(let value): text = value
    case .failure(let error): throw error
    }
    var files: [PolicyFile] = []
    var seen: Set<String> = []
    var stack: [String] = []
    parse(SourceFile(path: path, text: text), into: &files, seen: &seen, stack: &stack, diagnostics: &diagnostics)
    return files
  }

  private func parse(
    _ source: SourceFile, into files: inout [PolicyFile], seen: inout Set<String>, stack: inout [String],
    diagnostics: inout DiagnosticEngine
  ) {
    let identity = FileReader.identity(source.path)
    seen.insert(identity)
    stack.append(identity)
    defer { stack.removeLast() }
    let parsed = Parser.parse(source, diagnostics: &diagnostics)
    files.append(parsed)
    for declaration in parsed.declarations {
      guard case .include(let include) = declaration else { continue }
      let path = FileReader.path(include.path.text, relativeTo: source.path)
      let includedIdentity = FileReader.identity(path)
      if stack.contains(includedIdentity) {
        diagnostics.error(
          .includeCycle, "including '\(include.path.text)' makes a cycle: it is already being read",
          at: include.path.range)
        continue
      }
      if seen.contains(includedIdentity) { continue }
      switch FileReader.readText(path) {
      case .success(let text):
        parse(SourceFile(path: path, text: text), into: &files, seen: &seen, stack: &stack, diagnostics: &diagnostics)
      case .failure(let error):
        diagnostics.error(.missingFile, "cannot read included file '\(include.path.text)': \(error.reason)", at: include.path.range)
      }
    }
  }
}
