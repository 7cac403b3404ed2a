import FlowSpace
import Testing

@Suite struct AddressParsingTests {
  @Test(
    arguments: [
      ("0.0.0.0", 0),
      ("255.255.255.255", UInt32.max),
      ("10.1.0.7", 0x0A01_0007),
      ("192.0.2.1", 0xC000_0201),
      ("100.64.10.200", 0x6440_0AC8),
    ] as [(String, UInt32)])
  func parsesIPv4(text: String, value: UInt32) {
    let parsed = IPv4Address(text)
    #expect(parsed?.value == value)
    #expect(parsed?.description == text)
    #expect(IPv4Address(value).description == text)
  }

  @Test(arguments: [
    "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.00", "1.2.3.4.5", "", "1..2.3", ".1.2.3", "1.2.3.", " 1.2.3.4",
    "1.2.3.4 ", "1.2.3.-4", "a.b.c.d", "1.2.3.4/32", "0x1.2.3.4", "1000.1.1.1", "1.2.3.4:80", "١.2.3.4", "+1.2.3.4",
  ])
  func rejectsMalformedIPv4(text: String) {
    #expect(IPv4Address(text) == nil)
  }

  @Test(arguments: [
    ("2001:db8::1", "2001:db8::1"),
    ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
    ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ("::", "::"),
    ("::1", "::1"),
    ("1::", "1::"),
    ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
    ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
    ("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0"),
    ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
    ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
    ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
    ("FE80::ABCD", "fe80::abcd"),
    ("fd00:40::", "fd00:40::"),
    ("::ffff:192.0.2.1", "::ffff:c000:201"),
    ("64:ff9b::1.2.3.4", "64:ff9b::102:304"),
    ("::1.2.3.4", "::102:304"),
    ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
    ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
  ])
  func parsesAndPrintsIPv6Canonically(text: String, canonical: String) {
    let parsed = IPv6Address(text)
    #expect(parsed?.description == canonical)
    #expect(parsed.flatMap { IPv6Address($0.description) } == parsed)
  }

  @Test(
    arguments: [
      ("::", 0),
      ("::1", 1),
      ("2001:db8::1", 0x2001_0db8_0000_0000_0000_0000_0000_0001),
      ("::ffff:192.0.2.1", 0xffff_c000_0201),
      ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", UInt128.max),
      ("8000::", 1 << 127),
    ] as [(String, UInt128)])
  func parsesIPv6Values(text: String, value: UInt128) {
    #expect(IPv6Address(text)?.value == value)
  }

  @Test(arguments: [
    "::1::2", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "[::1]", "", ":", ":::", "1:::2", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:",
    "1:2:3:4:5:6:7", "12345::", "g::1", "1.2.3.4", "::1.2.3", "::1.2.3.4:5", "1.2.3.4::", "::ffff:256.1.1.1",
    "::01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5:6:7:8::", "::1 ", "2001:db8::1/64", "1::2::", ":1::", "::-1",
    "1:2:3:4:5:6:7:8:", "0x1::",
  ])
  func rejectsMalformedIPv6(text: String) {
    #expect(IPv6Address(text) == nil)
  }

  @Test func printsRFC5952Groups() {
    #expect(IPv6Address("2001:db8::8:800:200c:417a")?.groups == [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a])
  }

  @Test(arguments: [
    ("10.0.0.1", AddressFamily.ipv4, "10.0.0.1"),
    ("2001:DB8::1", .ipv6, "2001:db8::1"),
    ("::", .ipv6, "::"),
    ("0.0.0.0", .ipv4, "0.0.0.0"),
  ])
  func parsesEitherFamily(text: String, family: AddressFamily, description: String) {
    #expect(IPAddress(text)?.family == family)
    #expect(IPAddress(text)?.description == description)
  }

  @Test(arguments: ["1.2.3.4:80", "abc", "", "1.2.3", "fe80::1%eth0"])
  func rejectsMalformedAddresses(text: String) {
    #expect(IPAddress(text) == nil)
  }

  @Test func ordersIPv4BeforeIPv6() {
    let addresses = ["::", "255.255.255.255", "::1", "0.0.0.0", "10.0.0.1"].map(address)
    #expect(addresses.sorted().map(\.description) == ["0.0.0.0", "10.0.0.1", "255.255.255.255", "::", "::1"])
    #expect(AddressFamily.allCases.sorted() == [.ipv4, .ipv6])
    #expect(AddressFamily.ipv4 < .ipv6)
  }
}
