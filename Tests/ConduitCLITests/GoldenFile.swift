import Foundation
import Testing

/// Expected outputs kept in `Golden/`. A mismatch writes `.got` beside the golden file; `CONDUIT_RECORD_GOLDEN=1`
/// re-records.
enum GoldenFile {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// Compares `output` with `Golden/NAME` (a path such as `diff/site.txt`).
  static func compare(_ output: String, golden name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let file = directory.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["CONDUIT_RECORD_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(
        at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
      try output.write(to: file, atomically: true, encoding: .utf8)
      return
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    let got = file.appendingPathExtension("got")
    if output == expected {
      try? FileManager.default.removeItem(at: got)
    } else {
      try output.write(to: got, atomically: true, encoding: .utf8)
    }
    #expect(output == expected, "differs from \(name); see \(got.lastPathComponent)", sourceLocation: sourceLocation)
  }
}
