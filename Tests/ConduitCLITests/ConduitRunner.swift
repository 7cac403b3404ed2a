import Foundation
import Testing

/// Runs the built `conduit` executable and captures what it prints.
struct ConduitRunner {
  struct Result {
    var status: Int32
    var standardOutput: String
    var standardError: String
  }

  /// The `conduit` executable beside the test bundle.
  static var executable: URL {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidate = directory.appendingPathComponent("conduit")
    var search = directory
    while !FileManager.default.isExecutableFile(atPath: candidate.path), search.pathComponents.count > 1 {
      search = search.deletingLastPathComponent()
      candidate = search.appendingPathComponent("conduit")
    }
    return candidate
  }

  static func fixture(_ path: String) throws -> String {
    try #require(Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil)).path
  }

  static func run(_ arguments: [String], in directory: String? = nil, environment: [String: String]? = nil) throws
    -> Result
  {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, standardOutput: String(decoding: outputData, as: UTF8.self),
      standardError: String(decoding: errorData, as: UTF8.self))
  }
}
