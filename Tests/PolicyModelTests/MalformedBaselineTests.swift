import Foundation
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

/// A damaged baseline gets located diagnostics, never a crash.
@Suite struct MalformedBaselineTests {
  @Test(arguments: ["plant.json", "plant-semicolon.csv", "dina_input_sdt.csv"])
  func everyTruncationAndCorruptionResolves(_ fixture: String) throws {
    let original = Array(try String(contentsOfFile: try fixturePath(fixture), encoding: .utf8).utf8)
    let directory = try PolicyDirectory(["site.conduit": operationsAndControlZones])
    let extensionName = (fixture as NSString).pathExtension
    var variants: [[UInt8]] = stride(from: 0, to: original.count, by: 13).map { Array(original[..<$0]) }
    for position in stride(from: 0, to: original.count, by: 29) {
      for replacement in [UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "{"), 0xFF] {
        var corrupted = original
        corrupted[position] = replacement
        variants.append(corrupted)
      }
    }
    for (index, bytes) in variants.enumerated() {
      let path = directory.path("variant-\(index).\(extensionName)")
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      let (_, diagnostics) = try directory.resolve(baseline: path)
      for diagnostic in diagnostics {
        let location = try #require(diagnostic.range?.startLocation)
        #expect(location.line >= 1 && location.column >= 1)
      }
    }
  }
}
