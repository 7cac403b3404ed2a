import PolicyLanguage
import Testing

@testable import PolicyChecker

/// Names that reach the backends, checked against what every target and the kernel accept.
let hostileNameCases: [CheckCase] = [
  CheckCase(
    "bad-value: interface names that no backend writes literally (whitespace, '/', ':', '\"', '\\', '*', '+' at the end)",
    policy: twoZones + """
      gateway gw {
        interface 1️⃣"x -p tcp" operations
        interface 2️⃣"eth+" control
        interface 3️⃣"a/b" operations
        interface 4️⃣"a\\"b" operations
        interface 5️⃣"eth*" operations
        interface 6️⃣".." operations
        interface 7️⃣"" operations
        interface eth0.40 operations
        interface br-ctl_2 control
        interface "eth+0" control
      }
      """,
    checks: [.badValue],
    expect: [
      .error(.badValue, at: "1️⃣"), .error(.badValue, at: "2️⃣"), .error(.badValue, at: "3️⃣"),
      .error(.badValue, at: "4️⃣"), .error(.badValue, at: "5️⃣"), .error(.badValue, at: "6️⃣"),
      .error(.badValue, at: "7️⃣"),
    ]),
  CheckCase(
    "name-collision: conduits whose chains coincide once punctuation is replaced; long names never collide",
    policy: twoZones + """
      zone dmz {
        level 3
        security-level 2
        network 10.50.0.0/24
      }
      conduit ops-ctl {
        between operations and control
      }
      conduit 1️⃣"ops ctl" {
        between operations and dmz
      }
      conduit \(String(repeating: "long-", count: 60))a {
        between control and dmz
      }
      conduit \(String(repeating: "long-", count: 60))b {
        between dmz and control
      }
      """,
    checks: [.nameCollision],
    expect: [
      .error(.nameCollision, at: "1️⃣", note: "conduit 'ops-ctl' is declared here"),
      .error(.nameCollision, at: "1️⃣", note: "conduit 'ops-ctl' is declared here"),
    ]),
  CheckCase(
    "name-collision: zone pairs whose iptables chains coincide",
    policy: """
      zone "a-b" { level 3; security-level 2; network 10.60.0.0/24 }
      zone c { level 3; security-level 2; network 10.70.0.0/24 }
      zone a { level 3; security-level 2; network 10.80.0.0/24 }
      zone "b-c" { level 3; security-level 2; network 10.90.0.0/24 }
      conduit ab-c {
        between "a-b" and c
      }
      conduit 1️⃣a-bc {
        between a and "b-c"
      }
      """,
    checks: [.nameCollision],
    expect: [.error(.nameCollision, at: "1️⃣", note: "conduit 'ab-c' is declared here")]),
]

@Suite("Checks: hostile names")
struct HostileNameCheckTests {
  @Test(arguments: hostileNameCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }

  @Test(
    arguments: [
      ("eth0", nil), ("ens2f0.40", nil), ("br-ctl_2", nil), ("wlan+x", nil), ("fifteen-bytes-1", nil),
      ("sixteen-bytes-12", "is longer than 15 bytes, the kernel's limit"), ("", "is empty"),
      ("eth 0", "contains whitespace, which no interface name holds"),
      ("eth\u{A0}0", "contains whitespace, which no interface name holds"),
      ("eth\u{1B}", "contains a control character, which no interface name holds"),
      ("eth\u{202E}0", "contains a control character, which no interface name holds"),
      ("eth+", "ends with '+', the interface wildcard of iptables"), (".", "is not a Linux interface name"),
      ("a:b", "contains ':': interface names hold no '/', ':', '\"', '\\' or '*'"),
    ] as [(String, String?)])
  func interfaceNames(_ name: String, _ problem: String?) {
    #expect(NameChecks.interfaceNameProblem(name) == problem)
  }
}
