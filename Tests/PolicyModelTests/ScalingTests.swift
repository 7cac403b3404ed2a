import FlowSpace
import Foundation
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

/// The resolver's work grows linearly with a rule's endpoint list, a baseline and the number of zones: shown by the
/// steps of the interval-set algorithms (`WorkCounter`, counted in debug builds) at n and 10n, never by timing.
@Suite struct ScalingTests {
  /// A site whose one rule lists `count` addresses of the operations zone, not adjacent (each its own range) and in
  /// a shuffled order, so that no two merge.
  static func addressListSite(_ count: Int) -> [String: String] {
    var generator = SeededGenerator(seed: 10)
    let addresses = (0..<count).map { "10.30.\($0 * 2 / 250).\($0 * 2 % 250 + 1)" }.shuffled(using: &generator)
    return [
      "site.conduit": """
      site scale
      zone operations {
        level 3; security-level 2
        network 10.30.0.0/16
      }
      zone control {
        level 1; security-level 3
        network 10.40.0.0/16
      }
      conduit operations-control {
        between operations and control
        security-level 3
        allow \(addresses.joined(separator: ", ")) -> 10.40.0.1 service tcp/502
      }

      """
    ]
  }

  static func stepsToResolve(_ files: [String: String]) throws -> (steps: Int, policy: Policy) {
    let directory = try PolicyDirectory(files)
    let (result, steps) = try WorkCounter.counting { try directory.resolve() }
    return (steps, result.0)
  }

  @Test func aRuleListingTenTimesTheAddressesTakesAboutTenTimesTheSteps() throws {
    #if DEBUG
      let small = try Self.stepsToResolve(Self.addressListSite(500))
      let large = try Self.stepsToResolve(Self.addressListSite(5000))
      #expect(small.policy.flows.first?.sources.v4.ranges.count == 500)
      #expect(large.policy.flows.first?.sources.v4.ranges.count == 5000)
      #expect(small.steps >= 500)
      // Folding one union per endpoint costs n²/2 steps (a ratio of about 100); one sorted merge costs about n log n.
      #expect(large.steps < 15 * small.steps, "\(small.steps) steps for 500 addresses, \(large.steps) for 5000")
    #endif
  }

  @Test func addressListUnionIsTheUnionOfEveryEndpoint() throws {
    let (_, policy) = try Self.stepsToResolve(Self.addressListSite(300))
    let rule = try #require(policy.rules.first)
    #expect(rule.sources.count == 300)
    #expect(AddressSet.union(of: rule.sources.map(\.addresses)) == policy.flows[0].sources)
    #expect(rule.sources.reduce(AddressSet()) { $0.union($1.addresses) } == policy.flows[0].sources)
  }

  /// `cells` pairs of zones behind one gateway, one conduit and one rule each.
  static func manyZoneSite(_ cells: Int) -> [String: String] {
    var text = "site zones\n"
    for cell in 0..<cells {
      text += "zone ops-\(cell) {\n  level 2; security-level 2\n  network 10.\(cell / 256).\(cell % 256).0/25\n}\n"
      text += "zone cell-\(cell) {\n  level 1; security-level 2\n  network 10.\(cell / 256).\(cell % 256).128/25\n}\n"
    }
    text += "gateway gw {\n"
    for cell in 0..<cells { text += "  interface o\(cell) ops-\(cell)\n  interface c\(cell) cell-\(cell)\n" }
    text += "  management service ssh from 10.0.0.1\n}\n"
    for cell in 0..<cells {
      let network = "10.\(cell / 256).\(cell % 256)"
      text += """
        conduit c-\(cell) {
          between ops-\(cell) and cell-\(cell)
          security-level 2
          allow \(network).1 -> \(network).129 service tcp/502
        }

        """
    }
    return ["site.conduit": text]
  }

  @Test func gatewaysIndexTheirInterfacesByZone() throws {
    let (_, policy) = try Self.stepsToResolve(Self.manyZoneSite(20))
    let gateway = try #require(policy.gateways.first)
    for zone in policy.zones.indices {
      let scanned = Set(gateway.interfaces.filter { $0.zones.contains(zone) }.map(\.name))
      #expect(gateway.interfaces(reaching: zone) == scanned)
    }
    var changed = gateway
    changed.interfaces.removeFirst()
    #expect(changed.interfaces(reaching: gateway.interfaces[0].zones[0]).isEmpty)
    #expect(policy.conduits.allSatisfy { gateway.enforces($0.zones!) })
  }

  @Test func tenTimesTheZonesTakeAboutTenTimesTheSteps() throws {
    #if DEBUG
      let small = try Self.stepsToResolve(Self.manyZoneSite(50))
      let large = try Self.stepsToResolve(Self.manyZoneSite(500))
      #expect(small.policy.zones.count == 100 && large.policy.zones.count == 1000)
      #expect(large.steps < 15 * small.steps, "\(small.steps) steps for 100 zones, \(large.steps) for 1000")
    #endif
  }
}

/// A baseline longer than one chunk of the reader (65,536 records) gives every row once, in order, and a name
/// repeated across a chunk boundary is still reported against its first row.
@Suite struct ChunkedBaselineTests {
  @Test func rowsAcrossChunksAreInterpretedOnceInOrder() throws {
    let rows = 70_000
    func address(_ index: Int) -> String { "10.\(40 + index / 62_500).\(index / 250 % 250).\(index % 250 + 1)" }
    var csv = "name,ip\n"
    for index in 0..<rows { csv += "plc-\(index),\(address(index))\n" }
    csv += "plc-1,10.42.0.1\n"
    let site = """
      site big
      baseline "assets.csv"
      zone control {
        level 1; security-level 3
        network 10.40.0.0/15, 10.42.0.0/16
      }

      """
    let directory = try PolicyDirectory(["site.conduit": site, "assets.csv": csv])
    let (policy, diagnostics) = try directory.resolve()
    #expect(policy.assets.count == rows)
    #expect(policy.assets.map(\.name) == (0..<rows).map { "plc-\($0)" })
    #expect(policy.assets.last?.addresses.map(\.description) == [address(rows - 1)])
    let duplicates = diagnostics.filter { $0.id == .duplicateDefinition }
    #expect(duplicates.count == 1)
    #expect(duplicates.first?.range?.startLocation.line == rows + 2)
    #expect(duplicates.first?.notes.first?.range?.startLocation.line == 3)
  }
}

/// A small deterministic generator (SplitMix64), so that shuffled inputs are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
