import PolicyLanguage
import Testing

let zoneAndGatewayCases: [CheckCase] = [
  CheckCase(
    "overlapping-zones: at the later network, with a note at the earlier",
    policy: """
      zone operations { level 3; security-level 2; network 10.30.0.0/24, fd00:30::/64 }
      zone plant {
        level 3
        security-level 2
        network 10.20.0.0/24, 1️⃣10.30.0.128/25, 2️⃣fd00:30::/48
      }
      zone lab { level 3; security-level 2; network 10.30.1.0/24, fd00:31::/64 }
      """,
    expect: [
      .error(.overlappingZones, at: "1️⃣", note: "10.30.0.0/24 is declared here"),
      .error(.overlappingZones, at: "2️⃣", note: "fd00:30::/64 is declared here"),
    ]),
  CheckCase(
    "missing-security-level: a zone without SL-T",
    policy: """
      zone 1️⃣plant { level 2; network 10.50.0.0/24 }
      zone lab { level 2; security-level 1; network 10.51.0.0/24 }
      """,
    expect: [.error(.missingSecurityLevel, at: "1️⃣")]),
  CheckCase(
    "missing-level: a zone without a Purdue level",
    policy: """
      zone 1️⃣plant { security-level 2; network 10.50.0.0/24 }
      zone lab { level 0; security-level 1; network 10.51.0.0/24 }
      """,
    expect: [.warning(.missingLevel, at: "1️⃣")]),
  CheckCase(
    "unused-zone: named by no conduit, interface or management line",
    policy: twoZones + """
      zone 1️⃣lab { level 3; security-level 1; network 10.50.0.0/24 }
      zone office { level 4; security-level 1; network 10.1.0.0/16 }
      zone dmz { level 3.5; security-level 2; network 10.20.0.0/24 }
      gateway gw {
        interface eth0 operations
        interface eth1 control
        interface eth2 dmz
        management service ssh from zone office
      }
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
      }
      """,
    expect: [.warning(.unusedZone, at: "1️⃣")]),
  CheckCase(
    "unenforced-conduit: no gateway has both zones behind its interfaces",
    policy: twoZones + """
      zone dmz { level 3.5; security-level 2; network 10.20.0.0/24 }
      gateway gw {
        interface eth0 operations
        interface eth1 dmz
        management service ssh from eng-ws-1
      }
      conduit 1️⃣oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
      }
      conduit od {
        between operations and dmz
      }
      """,
    checks: [.unenforcedConduit, .hairpinConduit],
    expect: [.warning(.unenforcedConduit, at: "1️⃣")]),
  CheckCase(
    "unenforced-conduit: none without gateways",
    policy: twoZones + """
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
      }
      """,
    checks: [.unenforcedConduit, .hairpinConduit],
    expect: []),
  CheckCase(
    "hairpin-conduit: both zones behind one interface only, at the interface line",
    policy: twoZones + """
      zone dmz { level 3.5; security-level 2; network 10.20.0.0/24 }
      gateway gw {
        1️⃣interface eth0 operations, control
        interface eth1 dmz
        management service ssh from eng-ws-1
      }
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
      }
      conduit dc {
        between dmz and control
      }
      """,
    checks: [.unenforcedConduit, .hairpinConduit],
    expect: [.error(.hairpinConduit, at: "1️⃣", note: "conduit 'oc' is declared here")]),
  CheckCase(
    "no-management: a gateway without management lines",
    policy: twoZones + """
      gateway 1️⃣gw-a {
        interface eth0 operations
        interface eth1 control
      }
      gateway gw-b {
        interface eth0 operations
        interface eth1 control
        management service ssh from eng-ws-1
      }
      """,
    expect: [.warning(.noManagement, at: "1️⃣")]),
]

@Suite("Checks: zones and gateways")
struct ZoneAndGatewayCheckTests {
  @Test(arguments: zoneAndGatewayCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }
}
