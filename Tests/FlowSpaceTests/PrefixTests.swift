import FlowSpace
import Testing

@Suite struct PrefixTests {
  private func outcome(_ result: Result<IPPrefix, IPPrefix.ParseError>) -> String {
    switch result {
    case .success(let prefix): prefix.description
    case .failure(.invalidAddress): "invalidAddress"
    case .failure(.invalidLength): "invalidLength"
    case .failure(.hostBitsSet(let network)): "hostBitsSet(\(network))"
    }
  }

  @Test(arguments: [
    ("10.1.0.0/16", "10.1.0.0/16"),
    ("fd00:40::/64", "fd00:40::/64"),
    ("FD00:0040::/64", "fd00:40::/64"),
    ("10.1.0.7", "10.1.0.7/32"),
    ("::1", "::1/128"),
    ("0.0.0.0/0", "0.0.0.0/0"),
    ("::/0", "::/0"),
    ("255.255.255.255/32", "255.255.255.255/32"),
    ("10.1.0.1/16", "hostBitsSet(10.1.0.0/16)"),
    ("fd00::1/64", "hostBitsSet(fd00::/64)"),
    ("1.2.3.4/0", "hostBitsSet(0.0.0.0/0)"),
    ("10.0.0.128/24", "hostBitsSet(10.0.0.0/24)"),
    ("1.2.3.4/33", "invalidLength"),
    ("::/129", "invalidLength"),
    ("10.0.0.0/08", "invalidLength"),
    ("10.0.0.0/", "invalidLength"),
    ("10.0.0.0/-1", "invalidLength"),
    ("10.0.0.0/+8", "invalidLength"),
    ("10.0.0.0/8/8", "invalidLength"),
    ("10.0.0.0/ 8", "invalidLength"),
    ("::/0128", "invalidLength"),
    ("10.0.0.0/1000", "invalidLength"),
    ("1.2.3/24", "invalidAddress"),
    ("/24", "invalidAddress"),
    ("fe80::1%eth0/64", "invalidAddress"),
    ("", "invalidAddress"),
    ("256.0.0.0/8", "invalidAddress"),
    ("[::1]/128", "invalidAddress"),
    ("01.2.3.4/32", "invalidAddress"),
  ])
  func parsesPrefixes(text: String, expected: String) {
    #expect(outcome(IPPrefix.parse(text)) == expected)
    #expect(IPPrefix(text)?.description == (expected.contains("/") && !expected.contains("(") ? expected : nil))
  }

  @Test func reportsTheNetworkWhenHostBitsAreSet() {
    #expect(IPPrefix.parse("10.1.0.1/16") == .failure(.hostBitsSet(network: prefix("10.1.0.0/16"))))
  }

  @Test(
    arguments: [
      ("10.0.0.0", 8, "10.0.0.0/8"),
      ("10.0.0.1", 8, nil),
      ("10.0.0.0", 33, nil),
      ("10.0.0.0", -1, nil),
      ("::", 0, "::/0"),
      ("::1", 128, "::1/128"),
      ("::1", 127, nil),
      ("::", 129, nil),
    ] as [(String, Int, String?)])
  func validatesAddressAndLength(text: String, length: Int, expected: String?) {
    #expect(IPPrefix(address: address(text), length: length)?.description == expected)
  }

  @Test func truncatesHostBits() {
    #expect(IPPrefix(truncating: address("10.1.2.3"), length: 16) == prefix("10.1.0.0/16"))
    #expect(IPPrefix(truncating: address("fd00::ffff"), length: 0) == prefix("::/0"))
    #expect(IPPrefix(truncating: address("10.1.2.3"), length: 40) == nil)
  }

  @Test(arguments: [
    ("10.1.0.0/16", "10.1.0.0", "10.1.255.255", false),
    ("0.0.0.0/0", "0.0.0.0", "255.255.255.255", false),
    ("10.1.0.7/32", "10.1.0.7", "10.1.0.7", true),
    ("::/0", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
    ("fd00:40::/64", "fd00:40::", "fd00:40::ffff:ffff:ffff:ffff", false),
    ("::1/128", "::1", "::1", true),
    ("8000::/1", "8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
  ])
  func computesBounds(text: String, first: String, last: String, isHost: Bool) {
    let parsed = prefix(text)
    #expect(parsed.first == address(first))
    #expect(parsed.last == address(last))
    #expect(parsed.isHost == isHost)
  }

  @Test func printsHostPrefixesWithAndWithoutLength() {
    #expect(IPPrefix(host: address("10.1.0.7")).description == "10.1.0.7/32")
    #expect(IPPrefix(host: address("10.1.0.7")).addressDescription == "10.1.0.7")
    #expect(IPPrefix(host: address("fd00::7")).description == "fd00::7/128")
    #expect(IPPrefix(host: address("fd00::7")).addressDescription == "fd00::7")
    #expect(prefix("10.1.0.0/16").addressDescription == "10.1.0.0/16")
    #expect(prefix("fd00::/8").family == .ipv6)
  }

  @Test(arguments: [
    ("10.0.0.0/8", "10.1.0.0/16", true, true),
    ("10.1.0.0/16", "10.0.0.0/8", false, true),
    ("10.0.0.0/8", "10.0.0.0/8", true, true),
    ("10.0.0.0/8", "11.0.0.0/8", false, false),
    ("10.0.0.0/24", "10.0.1.0/24", false, false),
    ("0.0.0.0/0", "::/0", false, false),
    ("::/0", "10.0.0.0/8", false, false),
    ("::/0", "fd00::/8", true, true),
    ("::ffff:0:0/96", "10.0.0.0/8", false, false),
    ("fd00::/8", "fd00::1/128", true, true),
  ])
  func comparesPrefixes(outer: String, inner: String, contains: Bool, overlaps: Bool) {
    #expect(prefix(outer).contains(prefix(inner)) == contains)
    #expect(prefix(outer).overlaps(prefix(inner)) == overlaps)
    #expect(prefix(inner).overlaps(prefix(outer)) == overlaps)
  }

  @Test(arguments: [
    ("10.0.0.0/8", "10.255.255.255", true),
    ("10.0.0.0/8", "11.0.0.0", false),
    ("10.0.0.0/8", "9.255.255.255", false),
    ("0.0.0.0/0", "255.255.255.255", true),
    ("0.0.0.0/0", "::", false),
    ("::/0", "0.0.0.0", false),
    ("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
    ("fd00:40::/64", "fd00:40::1:2", true),
    ("fd00:40::/64", "fd00:41::", false),
  ])
  func containsAddresses(text: String, candidate: String, expected: Bool) {
    #expect(prefix(text).contains(address(candidate)) == expected)
  }

  @Test func ordersByAddressThenLength() {
    let texts = ["fd00::/8", "10.1.0.0/16", "10.0.0.0/8", "::/0", "10.0.0.0/16", "0.0.0.0/0"]
    #expect(
      texts.map(prefix).sorted().map(\.description) == [
        "0.0.0.0/0", "10.0.0.0/8", "10.0.0.0/16", "10.1.0.0/16", "::/0", "fd00::/8",
      ])
  }
}
