import PolicyChecker
import PolicyLanguage
import Testing

/// A mangled copy of the clean policy or its baseline.
struct MangledPolicy: Sendable, CustomTestStringConvertible {
  var name: String
  var files: [CaseFile]

  var testDescription: String { name }

  init(name: String, files: [CaseFile]) {
    self.name = name
    self.files = files
  }

  init(name: String, policy: String = cleanPolicy, baseline: String = cleanBaseline) {
    self.init(name: name, files: [CaseFile("policy.conduit", policy), CaseFile("assets.csv", baseline)])
  }

  static func variants() -> [MangledPolicy] {
    var variants: [MangledPolicy] = []
    func add(_ name: String, policy: String = cleanPolicy, baseline: String = cleanBaseline) {
      variants.append(MangledPolicy(name: name, policy: policy, baseline: baseline))
    }
    let policyBytes = Array(cleanPolicy.utf8)
    for length in stride(from: 0, to: policyBytes.count, by: 37) {
      add("policy truncated to \(length) bytes", policy: String(decoding: policyBytes.prefix(length), as: UTF8.self))
    }
    let baselineBytes = Array(cleanBaseline.utf8)
    for length in stride(from: 0, to: baselineBytes.count, by: 37) {
      let truncated = String(decoding: baselineBytes.prefix(length), as: UTF8.self)
      add("baseline truncated to \(length) bytes", baseline: truncated)
    }
    let lines = cleanPolicy.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for index in lines.indices where !lines[index].trimmingCharacters(in: .whitespaces).isEmpty {
      var deleted = lines
      deleted.remove(at: index)
      add("policy without line \(index + 1)", policy: deleted.joined(separator: "\n"))
      var duplicated = lines
      duplicated.insert(lines[index], at: index)
      add("policy with line \(index + 1) twice", policy: duplicated.joined(separator: "\n"))
    }
    add("policy with every brace removed", policy: cleanPolicy.filter { $0 != "{" && $0 != "}" })
    add("policy with every newline removed", policy: cleanPolicy.replacingOccurrences(of: "\n", with: " "))
    add("policy with every line twice", policy: lines.map { $0 + "\n" + $0 }.joined(separator: "\n"))
    add("policy with lines reversed", policy: lines.reversed().joined(separator: "\n"))
    return variants
  }
}

@Suite("Malformed policies")
struct MalformedPolicyTests {
  @Test("never crash the pipeline, and every diagnostic points into a file", arguments: MangledPolicy.variants())
  func neverCrashes(_ variant: MangledPolicy) throws {
    let checked = try checkFiles(variant.files)
    for diagnostic in checked.diagnostics {
      let range = try #require(diagnostic.range, "[\(diagnostic.id)] \(diagnostic.message) has no range")
      #expect(range.startLocation.line >= 1, "[\(diagnostic.id)] \(diagnostic.message)")
      #expect(range.startLocation.column >= 1, "[\(diagnostic.id)] \(diagnostic.message)")
      #expect(range.end <= range.file.bytes.count, "[\(diagnostic.id)] \(diagnostic.message)")
      for note in diagnostic.notes {
        if let noteRange = note.range { #expect(noteRange.startLocation.line >= 1, "note: \(note.message)") }
      }
    }
  }

  @Test(
    "still report what is wrong",
    arguments: [
      MangledPolicy(name: "policy truncated", policy: String(cleanPolicy.prefix(400))),
      MangledPolicy(name: "policy without braces", policy: cleanPolicy.filter { $0 != "{" && $0 != "}" }),
    ])
  func reportErrors(_ variant: MangledPolicy) throws {
    #expect(try checkFiles(variant.files).hasErrors, "\(variant.name) should not check clean")
  }
}
