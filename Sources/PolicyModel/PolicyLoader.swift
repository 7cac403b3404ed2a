import Foundation
import PolicyLanguage

/// The load and parse stages: the main policy file and every file it includes, each read once.
public enum PolicyLoader {
  /// A file being read: its includes are followed in order, depth first, each before the next statement's.
  private struct OpenFile {
    var parsed: PolicyFile
    var identity: String
    var nextDeclaration = 0
  }

  /// What a file that is no policy text is: a conduit nft artifact (its magic), or a binary file (16 or more NUL
  /// bytes in its first 4,096); nil otherwise. A policy with a stray control byte is text with a located error.
  static func binaryKind(_ bytes: [UInt8]) -> String? {
    if bytes.starts(with: Array("CDTNFT\r\n".utf8)) { return "a conduit nft artifact (compiled output)" }
    return bytes.prefix(4096).lazy.filter { $0 == 0 }.count >= 16 ? "a binary file" : nil
  }

  /// Reads and parses `path` and its includes, in the order of a depth-first walk, on an explicit stack (an include
  /// chain is as deep as the files make it, the thread's stack is not). Throws only when the main file itself
  /// cannot be read. `appending` is text read as if it stood at the end of the main file (a generated block checked
  /// with the policy before it is written anywhere).
  public static func load(_ path: String, appending: String? = nil, diagnostics: inout DiagnosticEngine)
    throws(InputFileError) -> [PolicyFile]
  {
    var main = try FileReader.readSource(path).get()
    if let kind = binaryKind(main.bytes) { throw InputFileError(path: path, reason: "it is \(kind), not a policy") }
    if let appending {
      let separator: [UInt8] = main.bytes.last.map { $0 == UInt8(ascii: "\n") ? [] : [UInt8(ascii: "\n")] } ?? []
      main = SourceFile(path: main.path, bytes: main.bytes + separator + Array(appending.utf8))
    }
    var files: [PolicyFile] = []
    var seen: Set<String> = []
    var beingRead: Set<String> = []
    var stack: [OpenFile] = []
    func open(_ source: SourceFile, diagnostics: inout DiagnosticEngine) {
      let identity = FileReader.identity(source.path)
      seen.insert(identity)
      beingRead.insert(identity)
      let parsed = Parser.parse(source, diagnostics: &diagnostics)
      files.append(parsed)
      stack.append(OpenFile(parsed: parsed, identity: identity))
    }
    open(main, diagnostics: &diagnostics)
    while let top = stack.last {
      let declarations = top.parsed.declarations
      guard
        let index = declarations[top.nextDeclaration...].firstIndex(where: {
          if case .include = $0 { true } else { false }
        }), case .include(let include) = declarations[index]
      else {
        beingRead.remove(top.identity)
        stack.removeLast()
        continue
      }
      stack[stack.count - 1].nextDeclaration = index + 1
      let source = top.parsed.file
      let path = FileReader.path(include.path.text, relativeTo: source.path)
      let includedIdentity = FileReader.identity(path)
      if beingRead.contains(includedIdentity) {
        diagnostics.error(
          .includeCycle, "including '\(include.path.text)' makes a cycle: it is already being read",
          at: include.path.range)
        continue
      }
      if seen.contains(includedIdentity) { continue }
      switch FileReader.readSource(path) {
      case .success(let included) where binaryKind(included.bytes) != nil:
        diagnostics.error(
          .missingFile,
          "cannot read included file '\(include.path.text)': it is \(binaryKind(included.bytes)!), not a policy",
          at: include.path.range)
      case .success(let included):
        open(included, diagnostics: &diagnostics)
      case .failure(let error):
        diagnostics.error(
          .missingFile, "cannot read included file '\(include.path.text)': \(error.reason)", at: include.path.range)
      }
    }
    return files
  }
}
