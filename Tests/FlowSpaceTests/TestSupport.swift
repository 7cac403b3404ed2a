import FlowSpace
import Foundation

/// A small deterministic random number generator (SplitMix64) so randomized tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var mixed = state
    mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
    mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
    return mixed ^ (mixed >> 31)
  }
}

/// The seeds of a randomized test: its own fixed list, or only the seed in `CONDUIT_TEST_SEED` (decimal or `0x` hex)
/// when that is set. Each seed is an argument of the test, so a failure names it ("with 1 argument seed → 3"), and
/// `CONDUIT_TEST_SEED=3 swift test --filter NAME` reruns exactly that case.
///
/// (PolicyTestSupport has the same for the tests above FlowSpace; these tests depend on FlowSpace alone.)
enum TestSeeds {
  static let variable = "CONDUIT_TEST_SEED"

  /// `defaults`, or the one seed the environment gives; throws (failing the test) when that is not a number.
  static func seeds(_ defaults: [UInt64]) throws -> [UInt64] {
    guard let text = ProcessInfo.processInfo.environment[variable] else { return defaults }
    let digits = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
    let seed = digits.lowercased().hasPrefix("0x") ? UInt64(digits.dropFirst(2), radix: 16) : UInt64(digits)
    guard let seed else { throw InvalidSeed(text: text) }
    return [seed]
  }

  struct InvalidSeed: Error, CustomStringConvertible {
    var text: String
    var description: String { "\(TestSeeds.variable)='\(text)' is not a seed: use a decimal or 0x hex number" }
  }
}

func prefix(_ text: String) -> IPPrefix {
  guard let prefix = IPPrefix(text) else { fatalError("bad prefix in test: \(text)") }
  return prefix
}

func address(_ text: String) -> IPAddress {
  guard let address = IPAddress(text) else { fatalError("bad address in test: \(text)") }
  return address
}

func addressSet(_ texts: [String]) -> AddressSet {
  AddressSet(texts.map(prefix))
}
