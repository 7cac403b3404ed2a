import FlowSpace
import Testing

@Suite struct OverlapTests {
  private func overlaps(_ texts: [String]) -> [[Int]] {
    findOverlaps(in: texts.map(prefix)).map { [$0.later, $0.earlier] }
  }

  @Test(
    arguments: [
      ([], []),
      (["10.0.0.0/24", "10.0.1.0/24", "fd00::/64"], []),
      (["10.0.0.0/16", "10.0.5.0/24"], [[1, 0]]),
      (["10.0.5.0/24", "10.0.0.0/16"], [[1, 0]]),
      (["10.0.0.0/24", "10.0.0.0/24"], [[1, 0]]),
      (["10.0.0.1", "10.0.0.1/32", "10.0.0.1"], [[1, 0], [2, 0]]),
      (["0.0.0.0/0", "::/0"], []),
      (["::ffff:10.0.0.0/120", "10.0.0.0/24"], []),
      (["10.0.0.0/24", "10.0.0.0/8", "10.0.0.0/16"], [[1, 0], [2, 0]]),
      (["10.1.0.0/16", "10.2.0.0/16", "10.0.0.0/8"], [[2, 0]]),
      (["10.0.0.0/8", "10.1.0.0/16", "10.1.1.0/24", "10.2.0.0/16"], [[1, 0], [2, 0], [3, 0]]),
      (["10.1.1.0/24", "10.2.0.0/16", "10.1.0.0/16", "0.0.0.0/0", "::/0", "fd00::/8"], [[2, 0], [3, 0], [5, 4]]),
      (["fd00::/8", "10.0.0.0/8", "fd00:40::/64", "10.0.0.0/9", "fd00:41::/64"], [[2, 0], [3, 1], [4, 0]]),
      (["10.0.0.0/25", "10.0.0.128/25", "10.0.0.0/24"], [[2, 0]]),
      (["255.255.255.255", "0.0.0.0", "128.0.0.0/1"], [[2, 0]]),
    ] as [([String], [[Int]])])
  func findsOverlapsWithEarliestEarlierPrefix(texts: [String], expected: [[Int]]) {
    #expect(overlaps(texts) == expected)
  }

  /// Compares with the quadratic definition on random prefixes of both families in a small space.
  @Test(arguments: try TestSeeds.seeds([21, 22, 23]))
  func matchesBruteForce(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    for _ in 0..<100 {
      let candidates = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
        let bits = UInt8.random(in: 0...255, using: &generator)
        let host: IPAddress =
          Bool.random(using: &generator)
          ? .v4(IPv4Address(0xC0A8_0000 | UInt32(bits))) : .v6(IPv6Address(0xfd00 << 112 | UInt128(bits)))
        return IPPrefix(truncating: host, length: host.family.bitWidth - Int.random(in: 0...8, using: &generator))!
      }
      let expected = candidates.indices.compactMap { later -> [Int]? in
        candidates[..<later].firstIndex { $0.overlaps(candidates[later]) }.map { [later, $0] }
      }
      #expect(findOverlaps(in: candidates).map { [$0.later, $0.earlier] } == expected)
    }
  }
}
