import Foundation
import Testing

/// The nft artifact records its sources relative to the main policy, so the same policy compiled from two clones
/// in different directories, from different working directories, gives the same bytes.
@Suite struct ArtifactReproducibilityTests {
  @Test func theSamePolicyInTwoDirectoriesCompilesToTheSameArtifact() throws {
    let scratch = try CompileCommandTests.Scratch()
    let fixture = try ConduitRunner.fixture("riverside")
    let first = scratch.url.appendingPathComponent("clone-a")
    let second = scratch.url.appendingPathComponent("elsewhere/deeper/clone-b")
    try FileManager.default.createDirectory(
      at: second.deletingLastPathComponent(), withIntermediateDirectories: true)
    for copy in [first, second] { try FileManager.default.copyItem(atPath: fixture, toPath: copy.path) }
    let today = ["--today", "2026-11-28"]
    let byPath = try ConduitRunner.run(
      ["compile", first.appendingPathComponent("riverside.conduit").path, "-o", scratch.path("a.nftb")] + today)
    #expect(byPath.status == 0, "\(byPath.standardError)")
    let fromInside = try ConduitRunner.run(
      ["compile", "clone-b/riverside.conduit", "-o", scratch.path("b.nftb")] + today,
      in: second.deletingLastPathComponent().path)
    #expect(fromInside.status == 0, "\(fromInside.standardError)")
    let a = try Data(contentsOf: URL(fileURLWithPath: scratch.path("a.nftb")))
    let b = try Data(contentsOf: URL(fileURLWithPath: scratch.path("b.nftb")))
    #expect(a == b)
    let text = String(decoding: a, as: UTF8.self)
    #expect(text.contains(#""sources":["riverside.conduit","riverside-assets.csv"]"#))
    #expect(text.contains(#""riverside.conduit:"#))
    #expect(!text.contains(scratch.url.path))
  }
}
