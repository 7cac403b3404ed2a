import FlowSpace
import Testing

@Suite struct AddressSetTests {
  @Test(arguments: [
    ("10.0.0.1", "10.0.0.6", ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"]),
    ("0.0.0.0", "255.255.255.255", ["0.0.0.0/0"]),
    ("10.0.0.0", "10.0.0.255", ["10.0.0.0/24"]),
    ("255.255.255.255", "255.255.255.255", ["255.255.255.255/32"]),
    ("0.0.0.0", "0.0.0.0", ["0.0.0.0/32"]),
    ("0.0.0.0", "127.255.255.255", ["0.0.0.0/1"]),
    ("10.0.0.0", "10.0.1.0", ["10.0.0.0/24", "10.0.1.0/32"]),
    ("10.0.0.255", "10.0.1.0", ["10.0.0.255/32", "10.0.1.0/32"]),
    ("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["::/0"]),
    ("::", "::ffff", ["::/112"]),
    ("2001:db8::", "2001:db8::ff", ["2001:db8::/120"]),
    ("2001:db8::1", "2001:db8::6", ["2001:db8::1/128", "2001:db8::2/127", "2001:db8::4/127", "2001:db8::6/128"]),
    ("8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ["8000::/1"]),
    ("10.0.0.6", "10.0.0.1", []),
    ("10.0.0.1", "::1", []),
  ])
  func decomposesRangesIntoPrefixes(first: String, last: String, expected: [String]) {
    #expect(prefixes(from: address(first), through: address(last)).map(\.description) == expected)
  }

  @Test func decomposesFullRangesWithoutOverflow() {
    #expect(prefixes(covering: 0...UInt32.max) == [prefix("0.0.0.0/0")])
    #expect(prefixes(covering: 0...UInt128.max) == [prefix("::/0")])
    let allButZero = prefixes(covering: 1...UInt32.max)
    #expect(allButZero.count == 32)
    #expect(allButZero.first == prefix("0.0.0.1/32"))
    #expect(allButZero.last == prefix("128.0.0.0/1"))
    let allButMax = prefixes(covering: 0...(UInt128.max - 1))
    #expect(allButMax.count == 128)
    #expect(allButMax.first == prefix("::/1"))
    #expect(allButMax.last == prefix("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128"))
  }

  @Test(arguments: try TestSeeds.seeds([7, 8, 9]))
  func decompositionCoversExactlyWithoutMergeableNeighbours(seed: UInt64) {
    var generator = SplitMix64(seed: seed)
    for _ in 0..<300 {
      let bounds = [
        UInt32.random(in: 0...UInt32.max, using: &generator), UInt32.random(in: 0...1 << 20, using: &generator),
      ]
      let low = bounds[0] & 0xFFF0_0000 | bounds[1]
      let high = low &+ UInt32.random(in: 0...1 << 21, using: &generator)
      let range = min(low, high)...max(low, high)
      let decomposition = prefixes(covering: range)
      #expect(AddressSet(decomposition) == AddressSet(v4: IntervalSet(range), v6: IntervalSet()))
      #expect(decomposition == decomposition.sorted())
      for (left, right) in zip(decomposition, decomposition.dropFirst()) where left.length == right.length {
        let parent = IPPrefix(truncating: left.address, length: left.length - 1)
        #expect(parent?.contains(right) != true, "\(left) and \(right) should have been merged")
      }
    }
  }

  @Test func combinesFamiliesAndPrintsPrefixes() {
    let zone = addressSet(["10.0.1.7", "10.0.0.0/24", "fd00::/64", "10.0.0.128/25"])
    #expect(zone.description == "10.0.0.0/24, 10.0.1.7, fd00::/64")
    #expect(zone.prefixes.map(\.description) == ["10.0.0.0/24", "10.0.1.7/32", "fd00::/64"])
    #expect(zone.families == [.ipv4, .ipv6])
    #expect(zone.restricted(to: .ipv4).description == "10.0.0.0/24, 10.0.1.7")
    #expect(zone.restricted(to: .ipv6).description == "fd00::/64")
    #expect(zone.restricted(to: .ipv6).families == [.ipv6])
    #expect(AddressSet().description == "")
    #expect(AddressSet().families.isEmpty)
    #expect(AddressSet(address("fd00::7")).description == "fd00::7")
  }

  @Test(arguments: [
    ("10.0.0.0/25", true, true),
    ("10.0.0.0/23", false, true),
    ("10.0.1.7", true, true),
    ("10.0.1.8", false, false),
    ("fd00::1:2:3:4/128", true, true),
    ("fd00::/63", false, true),
    ("::ffff:10.0.0.1/128", false, false),
    ("0.0.0.0/0", false, true),
    ("::/0", false, true),
  ])
  func comparesWithPrefixes(text: String, contained: Bool, intersects: Bool) {
    let zone = addressSet(["10.0.0.0/24", "10.0.1.7", "fd00::/64"])
    #expect(zone.contains(prefix(text)) == contained)
    #expect(zone.intersects(prefix(text)) == intersects)
  }

  @Test func containsAddresses() {
    let zone = addressSet(["10.0.0.0/24", "fd00::/64"])
    #expect(zone.contains(address("10.0.0.255")))
    #expect(!zone.contains(address("10.0.1.0")))
    #expect(zone.contains(address("fd00::ffff")))
    #expect(!zone.contains(address("::ffff:10.0.0.1")))
  }

  @Test func performsSetAlgebra() {
    let plant = addressSet(["10.1.0.0/16", "fd00:40::/48"])
    let cell = addressSet(["10.1.2.0/24", "fd00:40:0:7::/64"])
    let office = addressSet(["10.2.0.0/16"])

    #expect(cell.isSubset(of: plant))
    #expect(!plant.isSubset(of: cell))
    #expect(plant.isDisjoint(with: office))
    #expect(!plant.isDisjoint(with: cell))
    #expect(plant.union(office).description == "10.1.0.0/16, 10.2.0.0/16, fd00:40::/48")
    #expect(plant.intersection(cell) == cell)
    #expect(addressSet(["10.0.0.0/16", "10.1.0.0/16"]).description == "10.0.0.0/15")
    #expect(
      plant.subtracting(cell).restricted(to: .ipv4).description
        == "10.1.0.0/23, 10.1.3.0/24, 10.1.4.0/22, 10.1.8.0/21, 10.1.16.0/20, 10.1.32.0/19, 10.1.64.0/18, 10.1.128.0/17"
    )
    #expect(plant.subtracting(cell).union(cell) == plant)

    var mutated = plant
    mutated.formUnion(office)
    mutated.subtract(cell)
    mutated.formIntersection(addressSet(["10.0.0.0/8"]))
    #expect(mutated == addressSet(["10.1.0.0/16", "10.2.0.0/16"]).subtracting(cell))
    mutated.remove(prefix("10.0.0.0/8"))
    #expect(mutated.isEmpty)
    mutated.insert(prefix("fd00::1"))
    #expect(mutated.description == "fd00::1")
  }

  @Test func complementsBothFamilies() {
    #expect(AddressSet().complement() == .all)
    #expect(AddressSet.all.complement().isEmpty)
    #expect(AddressSet.all.description == "0.0.0.0/0, ::/0")
    #expect(AddressSet.all.families == Set(AddressFamily.allCases))
    let outside = addressSet(["0.0.0.0/1", "8000::/1"]).complement()
    #expect(outside.description == "128.0.0.0/1, ::/1")
    #expect(
      addressSet(["255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]).complement().prefixes.count == 32 + 128
    )
  }
}
