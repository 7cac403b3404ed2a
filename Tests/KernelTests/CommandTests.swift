import Foundation
import Testing

/// The runner the kernel tests use for `conduit`, `nft`, `ip` and the probes never blocks on a full pipe.
@Suite struct CommandTests {
  /// Megabytes to standard error first, then to standard output, with megabytes of input.
  @Test func megabytesOnEveryStreamDoNotDeadlock() throws {
    let input = String(repeating: "i", count: 2_000_000)
    let script = "head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o; wc -c; exit 3"
    let result = try Command.run("/bin/sh", ["-c", script], input: input)
    #expect(result.status == 3)
    #expect(result.standardOutput == String(repeating: "o", count: 3_000_000) + "2000000\n")
    #expect(result.standardError == String(repeating: "e", count: 3_000_000))
  }

  /// Output that is not UTF-8 is kept (as U+FFFD), not dropped.
  @Test func outputThatIsNotUTF8IsKept() throws {
    let result = try Command.run("/bin/sh", ["-c", "printf 'a\\377b'; printf 'c\\377d' >&2"])
    #expect(result.standardOutput == "a\u{FFFD}b")
    #expect(result.standardError == "c\u{FFFD}d")
  }

  @Test func theConduitExecutableIsFoundAndRuns() throws {
    let result = try ConduitExecutable.run(["--version"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.hasSuffix("\n") && !result.standardOutput.isEmpty)
  }
}
