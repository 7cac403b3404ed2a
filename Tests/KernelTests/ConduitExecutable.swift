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

  /// A state directory of the test run's own, so no test writes under /var/lib/conduit.
  static let stateRoot: String = {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-state-\(UUID().uuidString)").path
    setenv("CONDUIT_STATE_DIR", path, 1)
    return path
  }()

  static func run(_ arguments: [String]) throws -> CommandOutput {
    _ = stateRoot
    return try Command.run(url.path, arguments)
  }
}
