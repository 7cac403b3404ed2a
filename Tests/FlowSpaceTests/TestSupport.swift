import FlowSpace

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
