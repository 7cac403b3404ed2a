import Foundation
import Testing

/// Diagnostics that do not cascade: one cause gives one finding, and input that is no policy says so in one line;
/// `conduit` alone prints its help and a mistyped command is named with the nearest one (exit 64 both).
@Suite struct QuietDiagnosticsTests {
  static let sample = GoldenFile.packageRoot.appendingPathComponent("Policies/water-treatment")

  /// A copy of the Millbrook sample in a new folder, with `edit` applied to the policy text.
  static func copy(withBaseline: Bool = true, _ edit: (String) -> String = { $0 }) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quiet-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let policy = try String(contentsOf: sample.appendingPathComponent("millbrook.conduit"), encoding: .utf8)
    try edit(policy).write(to: folder.appendingPathComponent("millbrook.conduit"), atomically: true, encoding: .utf8)
    if withBaseline {
      try FileManager.default.copyItem(
        at: sample.appendingPathComponent("millbrook-assets.csv"),
        to: folder.appendingPathComponent("millbrook-assets.csv"))
    }
    return folder
  }

  @Test func aMissingBaselineIsOneError() throws {
    let folder = try Self.copy(withBaseline: false)
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try ConduitRunner.run(["check", "millbrook.conduit", "--today", "2026-11-28"], in: folder.path)
    #expect(result.status == 2)
    let errors = result.standardOutput.split(separator: "\n").filter { $0.contains(": error: ") }
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.contains("cannot read baseline 'millbrook-assets.csv'") == true)
  }

  @Test func anUnknownServiceIsOneUnknownNameWithASuggestionAndNoEmptyRule() throws {
    let folder = try Self.copy {
      $0.replacingOccurrences(of: "-> plc-chem-* service opcua\n", with: "-> plc-chem-* service opcuax\n")
    }
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try ConduitRunner.run(["check", "millbrook.conduit", "--today", "2026-11-28"], in: folder.path)
    #expect(result.status == 1)
    let errors = result.standardOutput.split(separator: "\n").filter { $0.contains(": error: ") }
    #expect(errors.count == 1, "\(errors)")
    #expect(errors.first?.hasSuffix("unknown service 'opcuax' [unknown-name]") == true)
    #expect(result.standardOutput.contains("note: did you mean 'opcua'?"))
    #expect(!result.standardOutput.contains("[empty-rule]"))
  }

  @Test func anArtifactGivenAsAPolicyIsNamedInOneLine() throws {
    let folder = try Self.copy()
    defer { try? FileManager.default.removeItem(at: folder) }
    let compiled = try ConduitRunner.run(
      ["compile", "millbrook.conduit", "--gateway", "gw-core", "-o", "gw-core.nftb", "--today", "2026-11-28"],
      in: folder.path)
    #expect(compiled.status == 0, "\(compiled.standardError)")
    for command in [["check", "gw-core.nftb"], ["diff", "gw-core.nftb", "millbrook.conduit"]] {
      let result = try ConduitRunner.run(command + ["--today", "2026-11-28"], in: folder.path)
      #expect(result.status == 2)
      #expect(
        result.standardOutput + result.standardError
          == "conduit: error: cannot read 'gw-core.nftb': it is a conduit nft artifact (compiled output), not a policy\n"
      )
    }
  }

  @Test func conduitAlonePrintsItsHelpAndAMistypedCommandIsNamed() throws {
    let alone = try ConduitRunner.run([])
    #expect(alone.status == 64)
    #expect(alone.standardError.contains("USAGE: conduit <subcommand>"))
    let typo = try ConduitRunner.run(["chek", "millbrook.conduit"])
    #expect(typo.status == 64)
    #expect(typo.standardError.hasPrefix("conduit: error: unknown command 'chek'; did you mean 'check'?\n"))
    let far = try ConduitRunner.run(["frobnicate"])
    #expect(far.status == 64)
    #expect(far.standardError.hasPrefix("conduit: error: unknown command 'frobnicate'\n"))
  }
}
