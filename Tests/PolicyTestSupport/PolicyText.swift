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

/// `FILE:LINE:COLUMN` of the first `text` on the first line of `policy` that holds `line`: the place conduit names
/// for it (1-based, columns in UTF-16 units, which equal scalars for ASCII policies); nil when there is none.
public func policyPlace(of text: String, onLineWith line: String, in policy: String, file: String) -> String? {
  let lines = policy.components(separatedBy: "\n")
  guard let number = lines.firstIndex(where: { $0.contains(line) }),
    let range = lines[number].range(of: text)
  else { return nil }
  return "\(file):\(number + 1):\(range.lowerBound.utf16Offset(in: lines[number]) + 1)"
}
