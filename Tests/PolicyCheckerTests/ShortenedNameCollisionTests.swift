import PolicyLanguage
import PolicyModel
import Testing

@testable import PolicyChecker

/// Names that become one only once the backends shorten them: a conduit named like the shortened chain of another.
/// The checker compares the names the backends generate, so such a policy is refused at check rather than at compile.
let shortenedNameCases: [CheckCase] = {
  let long = String(repeating: "abcdefghij", count: 30)
  let nftablesShortened = GeneratedName.shortened("c_" + long, toBytes: 251)
  let iptablesLong = "abcdefghijklmnopqrstuvwxyz0123"
  let iptablesShortened = GeneratedName.shortened("c-" + iptablesLong, toBytes: 28, separator: "-")
  let zones = """
    zone ops { level 3; security-level 2; network 10.30.0.0/24 }
    zone ctl { level 3; security-level 2; network 10.40.0.0/24 }
    zone dmz { level 3; security-level 2; network 10.50.0.0/24 }

    """
  return [
    CheckCase(
      "name-collision: a conduit named like another's nftables chain shortened to the kernel's limit",
      policy: zones + """
        conduit \(long) {
          between ops and ctl
        }
        conduit 1️⃣\(nftablesShortened.dropFirst(2)) {
          between ops and dmz
        }
        """,
      checks: [.nameCollision],
      expect: [
        .error(.nameCollision, at: "1️⃣", note: "conduit '\(long)' is declared here"),
        .error(.nameCollision, at: "1️⃣", note: "conduit '\(long)' is declared here"),
      ]),
    CheckCase(
      "name-collision: a conduit named like another's iptables chain shortened to 28 characters",
      policy: zones + """
        conduit \(iptablesLong) {
          between ops and ctl
        }
        conduit 1️⃣\(iptablesShortened.dropFirst(2)) {
          between ops and dmz
        }
        """,
      checks: [.nameCollision],
      expect: [.error(.nameCollision, at: "1️⃣", note: "conduit '\(iptablesLong)' is declared here")]),
  ]
}()

@Suite("Checks: names that coincide once shortened")
struct ShortenedNameCollisionTests {
  @Test(arguments: shortenedNameCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }
}
