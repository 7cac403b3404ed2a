import Foundation

/// Runs the built `conduit` executable (beside the test bundle).
enum ConduitExecutable {
  static var url: URL {
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    while directory.pathComponents.count > 1 {
      let candidate = directory.appendingPathComponent("conduit")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      directory = directory.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: "conduit")
  }

  static func run(_ arguments: [String]) throws -> CommandOutput {
    try Command.run(url.path, arguments)
  }
}
