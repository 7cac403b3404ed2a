import ConduitKit
import Foundation
import PolicyChecker
import PolicyModel

/// Checks a policy written in a test, as `conduit check` would from a file (dated 2026-11-28).
public func checkPolicy(text: String, mitigationsActive: Bool = false) throws -> CheckedPolicy {
  let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-test-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: directory) }
  let path = directory.appendingPathComponent("site.conduit").path
  try text.write(toFile: path, atomically: true, encoding: .utf8)
  return try Pipeline.check(
    PolicyRequest(policyPath: path, today: CalendarDay("2026-11-28")!), mitigationsActive: mitigationsActive)
}
