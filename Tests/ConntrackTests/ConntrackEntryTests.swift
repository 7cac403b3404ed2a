import Conntrack
import PolicyTestSupport
import Testing

/// ctnetlink payloads decoded without a kernel: a dumped entry, its truncations and mutations.
struct ConntrackEntryTests {
  /// A ctnetlink payload as the kernel dumps it: nfgenmsg, then the original tuple, the reply tuple and the id.
  static func samplePayload() -> [UInt8] {
    func attribute(_ type: UInt16, _ payload: [UInt8], nested: Bool = false) -> [UInt8] {
      let length = UInt16(4 + payload.count)
      let kind = type | (nested ? 0x8000 : 0)
      var bytes = withUnsafeBytes(of: length) { Array($0) } + withUnsafeBytes(of: kind) { Array($0) } + payload
      while bytes.count % 4 != 0 { bytes.append(0) }
      return bytes
    }
    let ip = attribute(1, [10, 30, 0, 31]) + attribute(2, [10, 40, 0, 10])
    let proto = attribute(1, [6]) + attribute(2, [0x9d, 0x80]) + attribute(3, [0x01, 0xf6])
    let tuple = attribute(1, ip, nested: true) + attribute(2, proto, nested: true)
    let reply = attribute(1, attribute(1, [10, 40, 0, 10]), nested: true)
    return [2, 0, 0, 0] + attribute(1, tuple, nested: true) + attribute(2, reply, nested: true)
      + attribute(12, [0, 0, 0x12, 0x34])
  }

  @Test func aDumpedPayloadDecodes() throws {
    let entry = try #require(ConntrackEntry(ctnetlinkPayload: Self.samplePayload()))
    #expect(entry.description == "tcp 10.30.0.31:40320 -> 10.40.0.10:502")
    #expect(entry.id == 0x1234 && entry.zone == nil && entry.icmpID == nil)
    #expect(entry.originalTuple.count == 48)
  }

  @Test(arguments: try TestSeeds.seeds([0xC0_77AC]))
  func malformedPayloadsAreSkippedWithoutCrashing(seed: UInt64) {
    let payload = Self.samplePayload()
    for length in 0..<payload.count {
      let decoded = ConntrackEntry(ctnetlinkPayload: Array(payload.prefix(length)))
      if let decoded { #expect(decoded.destinationPort == 502) }
    }
    var generator = SeededGenerator(seed: seed)
    for _ in 0..<20_000 {
      var mutated = payload
      for _ in 0..<Int.random(in: 1...4, using: &generator) {
        mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
      }
      _ = ConntrackEntry(ctnetlinkPayload: mutated)
    }
    var otherFamily = payload
    otherFamily[0] = 7
    #expect(ConntrackEntry(ctnetlinkPayload: otherFamily) == nil)
    var ipv6WithIPv4Addresses = payload
    ipv6WithIPv4Addresses[0] = 10
    #expect(ConntrackEntry(ctnetlinkPayload: ipv6WithIPv4Addresses) == nil)
  }
}
