import Foundation
import Testing

/// `scripts/install-docs` installs a manual page that `man` renders, with every command in it, and completion scripts
/// for bash (valid to `bash -n`), zsh and fish, all under the prefix given and nowhere else.
@Suite struct InstallDocsTests {
  @Test func theManualAndTheCompletionsAreInstalledUnderThePrefix() throws {
    let generator = ConduitRunner.executable.deletingLastPathComponent().appendingPathComponent("generate-manual")
    try #require(
      FileManager.default.isExecutableFile(atPath: generator.path),
      "build it first: swift build --product generate-manual (scripts/test does)")
    let prefix = FileManager.default.temporaryDirectory.appendingPathComponent("docs-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: prefix) }
    let script = GoldenFile.packageRoot.appendingPathComponent("scripts/install-docs")
    let installed = try ConduitRunner.run(
      script,
      ["--prefix", prefix.path, "--conduit", ConduitRunner.executable.path, "--generate-manual", generator.path])
    #expect(installed.status == 0, "\(installed.standardError)")
    let files = try FileManager.default.subpathsOfDirectory(atPath: prefix.path).filter { path in
      var isDirectory: ObjCBool = false
      FileManager.default.fileExists(atPath: prefix.appendingPathComponent(path).path, isDirectory: &isDirectory)
      return !isDirectory.boolValue
    }.sorted()
    #expect(
      files == [
        "share/bash-completion/completions/conduit", "share/fish/vendor_completions.d/conduit.fish",
        "share/man/man1/conduit.1", "share/zsh/site-functions/_conduit",
      ])
    let manual = prefix.appendingPathComponent("share/man/man1/conduit.1")
    let rendered = try ConduitRunner.run(
      URL(fileURLWithPath: "/usr/bin/man"), ["-l", "-P", "cat", manual.path], environment: ["MANWIDTH": "100"])
    #expect(rendered.status == 0, "\(rendered.standardError)")
    for command in ["check", "compile", "apply", "status", "query", "diff", "graph", "impact", "--advisory"] {
      #expect(rendered.standardOutput.contains(command), "the manual lacks \(command)")
    }
    let bash = prefix.appendingPathComponent("share/bash-completion/completions/conduit")
    let syntax = try ConduitRunner.run(URL(fileURLWithPath: "/bin/bash"), ["-n", bash.path])
    #expect(syntax.status == 0, "\(syntax.standardError)")
    #expect(try String(contentsOf: bash, encoding: .utf8).contains("impact"))
    for zshOrFish in ["share/zsh/site-functions/_conduit", "share/fish/vendor_completions.d/conduit.fish"] {
      #expect(try String(contentsOf: prefix.appendingPathComponent(zshOrFish), encoding: .utf8).contains("impact"))
    }
  }
}
