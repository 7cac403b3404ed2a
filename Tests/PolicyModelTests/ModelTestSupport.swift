import Foundation
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

/// A temporary directory holding policy files, removed when the value is dropped.
final class PolicyDirectory {
  let url: URL

  init(_ files: [String: String]) throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-model-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    for (name, text) in files {
      try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  func path(_ name: String) -> String { url.appendingPathComponent(name).path }

  /// Loads and resolves `main` (optionally with a baseline override).
  func resolve(_ main: String = "site.conduit", baseline: String? = nil) throws -> (Policy, [Diagnostic]) {
    var diagnostics = DiagnosticEngine()
    let files = try PolicyLoader.load(path(main), diagnostics: &diagnostics)
    let policy = try Resolver.resolve(files, options: ResolveOptions(baselinePath: baseline), diagnostics: &diagnostics)
    return (policy, diagnostics.diagnostics)
  }
}

func fixturePath(_ name: String) throws -> String {
  try #require(Bundle.module.url(forResource: "Fixtures/inventory/" + name, withExtension: nil)).path
}

/// Two dual-stack zones, operations (level 3, SL-T 2) and control (level 1, SL-T 3), for baseline tests.
let operationsAndControlZones = """
  zone operations {
    level 3; security-level 2
    network 10.30.0.0/24, fd00:30::/64
  }
  zone control {
    level 1; security-level 3
    network 10.40.0.0/24, fd00:40::/64
  }

  """
