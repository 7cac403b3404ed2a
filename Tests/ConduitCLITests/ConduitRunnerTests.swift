import Foundation
import Testing

/// The runner the command-line tests use reads a child's two outputs at the same time and never waits forever.
@Suite struct ConduitRunnerTests {
  /// Megabytes to standard error first, then to standard output: reading one pipe to its end before the other would
  /// block both processes once the unread pipe is full.
  @Test func megabytesOnBothOutputsDoNotDeadlock() throws {
    let script = "head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o; exit 3"
    let result = try ConduitRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", script], timeout: 120)
    #expect(result.status == 3)
    #expect(
      result.standardOutputBytes.count == 3_000_000 && result.standardOutputBytes.allSatisfy { $0 == UInt8(ascii: "o") }
    )
    #expect(
      result.standardError.utf8.count == 3_000_000 && result.standardError.utf8.allSatisfy { $0 == UInt8(ascii: "e") })
  }

  @Test func aProgramThatRunsTooLongIsKilledAndReported() throws {
    let started = Date()
    #expect(throws: ConduitRunner.Timeout.self) {
      try ConduitRunner.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "echo waiting >&2; exec sleep 60"], timeout: 1)
    }
    #expect(Date().timeIntervalSince(started) < 30)
  }
}
