import FlowSpace
import Testing

@Suite struct AddressIndexTests {
  let zones = AddressIndex([
    (prefix("10.1.0.0/16"), "plant"),
    (prefix("10.1.2.0/24"), "cell-2"),
    (prefix("10.2.0.0/16"), "office"),
    (prefix("fd00:40::/64"), "ot-v6"),
    (prefix("10.1.2.0/24"), "shadowed"),
  ])

  @Test(
    arguments: [
      ("10.1.0.1", "plant"),
      ("10.1.2.0", "cell-2"),
      ("10.1.2.255", "cell-2"),
      ("10.1.3.0", "plant"),
      ("10.1.255.255", "plant"),
      ("10.2.255.255", "office"),
      ("10.3.0.0", nil),
      ("10.0.255.255", nil),
      ("0.0.0.0", nil),
      ("255.255.255.255", nil),
      ("fd00:40::5", "ot-v6"),
      ("fd00:41::", nil),
      ("::ffff:10.1.0.1", nil),
    ] as [(String, String?)])
  func looksUpMostSpecificZone(text: String, expected: String?) {
    #expect(zones.value(at: address(text)) == expected)
  }

  private func summary(_ parts: [(value: String, part: AddressSet)]) -> [String] {
    parts.map { "\($0.value): \($0.part)" }
  }

  @Test(arguments: [
    ("10.1.2.128/25", ["cell-2: 10.1.2.128/25"], ""),
    ("10.1.0.0/22", ["plant: 10.1.0.0/23, 10.1.3.0/24", "cell-2: 10.1.2.0/24"], ""),
    (
      "10.0.0.0/14",
      [
        "plant: 10.1.0.0/23, 10.1.3.0/24, 10.1.4.0/22, 10.1.8.0/21, 10.1.16.0/20, 10.1.32.0/19, "
          + "10.1.64.0/18, 10.1.128.0/17", "cell-2: 10.1.2.0/24", "office: 10.2.0.0/16",
      ], "10.0.0.0/16, 10.3.0.0/16"
    ),
    ("192.168.0.0/16", [], "192.168.0.0/16"),
    ("10.1.2.7", ["cell-2: 10.1.2.7"], ""),
    ("10.3.0.7", [], "10.3.0.7"),
    ("fd00:40::/63", ["ot-v6: fd00:40::/64"], "fd00:40:0:1::/64"),
    ("fd00:40::/62", ["ot-v6: fd00:40::/64"], "fd00:40:0:1::/64, fd00:40:0:2::/63"),
  ])
  func splitsPrefixesByZone(text: String, expected: [String], uncovered: String) {
    #expect(summary(zones.values(overlapping: prefix(text))) == expected)
    #expect(zones.uncovered(prefix(text)).description == uncovered)
  }

  @Test func splitsTheWholeIPv6Space() {
    #expect(summary(zones.values(overlapping: prefix("::/0"))) == ["ot-v6: fd00:40::/64"])
    let uncovered = zones.uncovered(prefix("::/0"))
    #expect(uncovered.prefixes.count == 64)
    #expect(uncovered.prefixes.first == prefix("::/1"))
    #expect(uncovered.prefixes.last == prefix("fe00::/7"))
    #expect(uncovered.prefixes.contains(prefix("fd00:40:0:1::/64")))
    #expect(!uncovered.contains(address("fd00:40::1")))
    #expect(uncovered.families == [.ipv6])
  }

  @Test func mergesEntriesWithEqualValues() {
    let index = AddressIndex([
      (prefix("10.0.0.0/24"), "a"),
      (prefix("10.0.1.0/24"), "b"),
      (prefix("10.0.2.0/24"), "a"),
    ])
    #expect(
      summary(index.values(overlapping: prefix("10.0.0.0/22"))) == [
        "a: 10.0.0.0/24", "b: 10.0.1.0/24", "a: 10.0.2.0/24",
      ])
    #expect(
      summary(index.distinctValues(overlapping: prefix("10.0.0.0/22"))) == [
        "a: 10.0.0.0/24, 10.0.2.0/24", "b: 10.0.1.0/24",
      ])
    #expect(index.uncovered(prefix("10.0.0.0/22")).description == "10.0.3.0/24")
    #expect(index.covered.description == "10.0.0.0/23, 10.0.2.0/24")
  }

  @Test func emptyIndexCoversNothing() {
    let index = AddressIndex<Int>()
    #expect(index.isEmpty)
    #expect(index.value(at: address("10.0.0.1")) == nil)
    #expect(index.values(overlapping: prefix("::/0")).isEmpty)
    #expect(index.uncovered(prefix("::/0")) == AddressSet(prefix("::/0")))
    #expect(index.covered.isEmpty)
  }

  @Test func handlesWholeAddressSpaceEdges() {
    let index = AddressIndex([
      (prefix("0.0.0.0/0"), "any-v4"),
      (prefix("255.255.255.255"), "broadcast"),
      (prefix("0.0.0.0/8"), "this-network"),
      (prefix("::/0"), "any-v6"),
      (prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), "last-v6"),
    ])
    #expect(index.value(at: address("255.255.255.255")) == "broadcast")
    #expect(index.value(at: address("255.255.255.254")) == "any-v4")
    #expect(index.value(at: address("0.0.0.0")) == "this-network")
    #expect(index.value(at: address("1.0.0.0")) == "any-v4")
    #expect(index.value(at: address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) == "last-v6")
    #expect(index.value(at: address("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe")) == "any-v6")
    #expect(index.value(at: address("::")) == "any-v6")
    #expect(index.covered == .all)
    #expect(index.uncovered(prefix("::/0")).isEmpty)
    #expect(
      summary(index.values(overlapping: prefix("255.255.255.254/31"))) == [
        "any-v4: 255.255.255.254", "broadcast: 255.255.255.255",
      ])
  }

  /// Compares lookups with a brute-force longest-prefix match over random nested prefixes inside 10.0.0.0/24.
  @Test(arguments: try TestSeeds.seeds([11, 12, 13]))
  func matchesBruteForceLongestPrefix(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    let space = prefix("10.0.0.0/24")
    for _ in 0..<50 {
      let entries = (0..<Int.random(in: 0...12, using: &generator)).map { _ in
        let host = IPAddress.v4(IPv4Address(0x0A00_0000 | UInt32.random(in: 0...255, using: &generator)))
        return IPPrefix(truncating: host, length: Int.random(in: 24...32, using: &generator))!
      }
      let index = AddressIndex(entries.enumerated().map { ($0.element, $0.offset) })
      func expectedEntry(_ address: IPAddress) -> Int? {
        let containing = entries.indices.filter { entries[$0].contains(address) }
        return containing.max {
          entries[$0].length < entries[$1].length || (entries[$0].length == entries[$1].length && $0 > $1)
        }
      }
      for value in 0...255 as ClosedRange<UInt32> {
        let host = IPAddress.v4(IPv4Address(0x0A00_0000 | value))
        #expect(index.value(at: host) == expectedEntry(host))
      }

      let probe = IPPrefix(
        truncating: .v4(IPv4Address(0x0A00_0000 | UInt32.random(in: 0...255, using: &generator))),
        length: Int.random(in: 24...32, using: &generator))!
      let parts = index.values(overlapping: probe)
      let uncovered = index.uncovered(probe)
      var union = uncovered
      for (entry, part) in parts {
        #expect(union.isDisjoint(with: part))
        union.formUnion(part)
        for range in part.v4.ranges {
          for value in range { #expect(expectedEntry(.v4(IPv4Address(value))) == entry) }
        }
      }
      #expect(union == AddressSet(probe))
      #expect(Set(parts.map(\.value)).count == parts.count)
      #expect(space.contains(probe))
    }
  }
}
