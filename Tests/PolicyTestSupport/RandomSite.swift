import FlowSpace
import Foundation

/// A small random site in the policy language: zones behind one gateway, each on its own interface, a few assets
/// with roles, and conduits whose rules name assets, globs, roles, zones and literal addresses with assorted services.
///
/// Zones z0 and z1 always have a conduit, the other pairs three times in four. The layout (zones, assets) and the
/// conduits come from separate generators, so two sites of the same layout and different conduits are two versions
/// of one site (for `diff`).
public struct RandomSite: Sendable {
  /// An asset of the site.
  public struct Asset: Sendable {
    public var name: String
    public var zone: Int
    public var addresses: [IPAddress]
    public var role: String
  }

  /// Services rules draw from: port literals, ranges, built-ins and lists.
  public static let services = [
    "tcp/502", "tcp/8000-8002", "udp/161", "udp/2222", "ping", "modbus", "ssh", "tcp/22, udp/161",
  ]
  /// Ports probes draw from: the rules' ports and their neighbours.
  public static let probePorts: [UInt16] = [22, 23, 161, 162, 502, 503, 2222, 7999, 8000, 8002, 8003]
  static let roles = ["hmi", "plc", "eng"]

  /// The policy text.
  public private(set) var text = ""
  /// Every asset, by zone.
  public private(set) var assets: [Asset] = []
  /// The number of zones, `z0` to `z(n-1)`, behind interfaces `veth0`….
  public let zoneCount: Int

  /// A site whose zones and assets come from `layout` and whose conduits come from `conduits`.
  public init(layout: inout SeededGenerator, conduits: inout SeededGenerator, zoneCount: Int = 3) {
    self.zoneCount = zoneCount
    var lines = ["site random"]
    for zone in 0..<zoneCount {
      lines += [
        "zone z\(zone) {", "  level \(max(0, 3 - zone)); security-level 2",
        "  network 10.77.\(zone).0/24, fd77:\(zone)::/64", "}",
      ]
      for host in 0..<3 {
        let name = "a\(zone)-\(host)"
        var addresses: [IPAddress] = [IPAddress("10.77.\(zone).\(10 + host)")!]
        if host == 0 || Bool.random(using: &layout) { addresses.append(IPAddress("fd77:\(zone)::\(10 + host)")!) }
        let role = Self.roles.randomElement(using: &layout)!
        assets.append(Asset(name: name, zone: zone, addresses: addresses, role: role))
        lines.append("asset \(name) { address \(addresses.map(\.description).joined(separator: ", ")); role \(role) }")
      }
    }
    lines.append("gateway gw {")
    for zone in 0..<zoneCount { lines.append("  interface veth\(zone) z\(zone)") }
    lines.append("}")
    for first in 0..<zoneCount {
      for second in (first + 1)..<zoneCount
      where first == 0 && second == 1 || Int.random(in: 0..<4, using: &conduits) > 0 {
        lines += [
          "conduit c\(first)\(second) {", "  between z\(first) and z\(second)",
          "  security-level 2; owner \"ot\"; justification \"test\"",
        ]
        for _ in 0..<Int.random(in: 1...4, using: &conduits) {
          let (from, to) = Bool.random(using: &conduits) ? (first, second) : (second, first)
          let sources = endpoints(in: from, &conduits)
          let destinations = endpoints(in: to, &conduits)
          let service = Self.services.randomElement(using: &conduits)!
          lines.append("  allow \(sources) -> \(destinations) service \(service)")
        }
        lines.append("}")
      }
    }
    text = lines.joined(separator: "\n") + "\n"
  }

  /// A site from one seed.
  public init(seed: UInt64) {
    var layout = SeededGenerator(seed: seed)
    var conduits = SeededGenerator(seed: seed ^ 0xC0DE)
    self.init(layout: &layout, conduits: &conduits)
  }

  /// One to three endpoints of a zone, each written in one of the ways a rule can name addresses. A role may have
  /// assets in both zones of a conduit, so it comes with an asset of the zone that fixes the rule's direction.
  private func endpoints(in zone: Int, _ random: inout SeededGenerator) -> String {
    let zoneAssets = assets.filter { $0.zone == zone }
    let count = Int.random(in: 1...2, using: &random)
    return (0..<count).map { _ -> String in
      let asset = zoneAssets.randomElement(using: &random)!
      switch Int.random(in: 0..<6, using: &random) {
      case 0: return "zone z\(zone)"
      case 1: return "a\(zone)-*"
      case 2: return asset.addresses[0].description
      case 3: return "role \(asset.role), \(asset.name)"
      default: return asset.name
      }
    }.joined(separator: ", ")
  }
}

/// SplitMix64: reproducible random sites from a seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var state: UInt64

  /// A generator starting at `seed`.
  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}

/// The seeds of a randomized test: its own fixed list, or only the seed in `CONDUIT_TEST_SEED` (decimal or `0x` hex)
/// when that is set. Each seed is an argument of the test, so a failure names it ("with 1 argument seed → 3"), and
/// `CONDUIT_TEST_SEED=3 swift test --filter NAME` reruns exactly that case.
public enum TestSeeds {
  /// The environment variable that replaces every randomized test's seeds with one.
  public static let variable = "CONDUIT_TEST_SEED"

  /// `defaults`, or the one seed the environment gives; throws (failing the test) when that is not a number.
  public static func seeds(_ defaults: [UInt64]) throws -> [UInt64] {
    guard let text = ProcessInfo.processInfo.environment[variable] else { return defaults }
    guard let seed = parse(text) else { throw InvalidSeed(text: text) }
    return [seed]
  }

  /// A decimal or `0x` hexadecimal seed; underscores are allowed as in Swift literals.
  public static func parse(_ text: String) -> UInt64? {
    let digits = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")
    if digits.lowercased().hasPrefix("0x") { return UInt64(digits.dropFirst(2), radix: 16) }
    return UInt64(digits)
  }

  /// `CONDUIT_TEST_SEED` holds something that is not a seed.
  public struct InvalidSeed: Error, CustomStringConvertible {
    public var text: String
    public var description: String { "\(TestSeeds.variable)='\(text)' is not a seed: use a decimal or 0x hex number" }
  }
}
