import PolicyLanguage
import Testing

/// Zones for the baseline cases: `operations` 10.30.0.0/24 and `control` 10.40.0.0/24.
let baselineZones = """
  zone operations { level 3; security-level 2; network 10.30.0.0/24, fd00:30::/64 }
  zone control { level 1; security-level 3; network 10.40.0.0/24, fd00:40::/64 }

  """

let baselineCases: [CheckCase] = [
  CheckCase(
    "baseline-row (CSV): rows without name or address at the row, bad values at the cell",
    policy: "baseline \"assets.csv\"\n" + baselineZones,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip,role,criticality
      plc-1,10.40.0.10,plc,critical
      1️⃣,10.40.0.12,plc,high
      2️⃣no-address,,plc,high
      bad-address,3️⃣10.40.0.300,plc,high
      bad-criticality,10.40.0.13,plc,4️⃣urgent
      numeric-criticality,10.40.0.14,plc,4
      several,10.40.0.15;fd00:40::15,plc,low

      """),
    expect: [
      .error(.baselineRow, at: "1️⃣"), .error(.baselineRow, at: "2️⃣"), .error(.baselineRow, at: "3️⃣"),
      .error(.baselineRow, at: "4️⃣"),
    ]),
  CheckCase(
    "baseline-row (semicolon CSV): a network where an address belongs",
    policy: "baseline \"assets.csv\"\n" + baselineZones,
    baseline: CaseFile(
      "assets.csv",
      """
      Device Name;IP Address;Type
      plc-1;10.40.0.10;plc
      plc-2;1️⃣10.40.0.0/24;plc
      "plc 3";10.40.0.13 fd00:40::13;plc

      """),
    expect: [.error(.baselineRow, at: "1️⃣")]),
  CheckCase(
    "baseline-row (JSON): every problem at the line of its object, bad values with a note at the value",
    policy: "baseline \"assets.json\"\n" + baselineZones,
    baseline: CaseFile(
      "assets.json",
      """
      [
        {"name": "plc-1", "ip": "10.40.0.10", "criticality": "critical"},
        1️⃣{"ip": "10.40.0.12", "role": "plc"},
        2️⃣{
          "name": "no-address",
          "role": "plc"
        },
        3️⃣{"name": "bad-address", "ip": "10.40.0.300"},
        4️⃣{"name": "bad-criticality", "ip": "10.40.0.13", "criticality": 7},
        {"name": "listed", "addresses": ["10.40.0.14", "fd00:40::14"], "criticality": 2}
      ]
      """),
    expect: [
      .error(.baselineRow, at: "1️⃣"), .error(.baselineRow, at: "2️⃣"), .error(.baselineRow, at: "3️⃣"),
      .error(.baselineRow, at: "4️⃣"),
    ]),
  CheckCase(
    "duplicate-address: at the later row or asset, unless both are shared",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      3️⃣asset gw-vip { address 10.30.0.1 }
      asset vip-c { address 10.40.0.100; shared }

      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip,shared
      plc-1,10.40.0.10,
      1️⃣plc-1-copy,10.40.0.10,
      vip-a,10.40.0.100,yes
      vip-b,10.40.0.100,yes
      half-a,10.40.0.200,yes
      2️⃣half-b,10.40.0.200,no
      router,10.30.0.1,

      """),
    expect: [
      .error(.duplicateAddress, at: "1️⃣", note: "asset 'plc-1' is defined here"),
      .error(.duplicateAddress, at: "2️⃣", note: "asset 'half-a' is defined here"),
      .error(.duplicateAddress, at: "3️⃣", note: "asset 'router' is defined here"),
    ]),
  CheckCase(
    "duplicate-address: none when both assets are shared",
    policy: baselineZones + """
      asset plc-a { address 10.40.0.10, 10.40.0.100; shared }
      asset plc-b { address 10.40.0.11, 10.40.0.100; shared }
      """,
    expect: []),
  CheckCase(
    "asset-clash: a policy asset disagrees with its baseline row",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      asset plc-1 { address 1️⃣10.40.0.11; role PLC; criticality 2️⃣low; vendor 3️⃣"Schneider" }
      asset plc-2 { address 10.40.0.12; role plc; criticality critical; vendor "Siemens" }
      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip,role,criticality,vendor
      plc-1,10.40.0.10,plc,critical,Siemens
      plc-2,10.40.0.12,plc,4,Siemens

      """),
    expect: [.error(.assetClash, at: "1️⃣"), .error(.assetClash, at: "2️⃣"), .error(.assetClash, at: "3️⃣")]),
  CheckCase(
    "baseline-zone-mismatch: the zone column names another zone than the address lies in",
    policy: "baseline \"assets.csv\"\n" + baselineZones,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip,zone
      plc-1,10.40.0.10,control
      hmi-1,10.40.0.31,1️⃣operations
      stray,10.99.0.1,2️⃣control
      quiet,10.30.0.5,

      """),
    expect: [.error(.baselineZoneMismatch, at: "1️⃣"), .error(.baselineZoneMismatch, at: "2️⃣")]),
  CheckCase(
    "unzoned-asset: an address in no zone",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      1️⃣asset laptop { address 10.30.0.77, 192.168.1.7 }

      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip
      plc-1,10.40.0.10
      2️⃣plc-typo,10.4.0.10

      """),
    expect: [.warning(.unzonedAsset, at: "1️⃣"), .warning(.unzonedAsset, at: "2️⃣")]),
  CheckCase(
    "unzoned-asset: an asset in the outside zone that its 'assets' line does not list",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      zone internet {
        security-level 1
        network outside
        assets vendor-vpn
      }
      asset vendor-vpn { address 198.51.100.7 }
      1️⃣asset plc-typo { address 10.4.0.10 }

      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip
      plc-1,10.40.0.10
      2️⃣cloud-relay,203.0.113.9

      """),
    expect: [
      .warning(.unzonedAsset, at: "1️⃣", note: "zone 'internet' is declared here"),
      .warning(.unzonedAsset, at: "2️⃣"),
    ]),
  CheckCase(
    "dual-homed-asset: an asset with addresses in two zones",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      1️⃣asset historian { address 10.30.0.50, 10.40.0.50 }
      asset plc-1 { address 10.40.0.10, fd00:40::10 }

      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip
      2️⃣jump-host,10.30.0.60 fd00:40::60

      """),
    expect: [.warning(.dualHomedAsset, at: "1️⃣"), .warning(.dualHomedAsset, at: "2️⃣")]),
  CheckCase(
    "zone-membership: an asset listed in a zone it does not lie in",
    policy: """
      zone operations { level 3; security-level 2; network 10.30.0.0/24 }
      zone control {
        level 1
        security-level 3
        network 10.40.0.0/24
        assets plc-1, 1️⃣hmi-1
      }
      asset plc-1 { address 10.40.0.10 }
      asset hmi-1 { address 10.30.0.31 }
      """,
    expect: [.error(.zoneMembership, at: "1️⃣", note: "asset 'hmi-1' is defined here")]),
  CheckCase(
    "sl-capability-gap: an asset's SL-C below its zone's SL-T, at the asset or the row",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      1️⃣asset plc-9 { address 10.40.0.9; security-level 1 }
      asset plc-8 { address 10.40.0.8; security-level 3 }
      asset hmi-9 { address 10.30.0.9; security-level 2 }
      asset hmi-8 { address 10.30.0.8 }

      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip,sl-c
      2️⃣plc-7,10.40.0.7,2
      plc-6,10.40.0.6,4
      hmi-7,10.30.0.7,2
      hmi-6,10.30.0.6,

      """),
    expect: [.warning(.slCapabilityGap, at: "1️⃣"), .warning(.slCapabilityGap, at: "2️⃣")]),
  CheckCase(
    "dedicated-zone: an asset tagged sis, wireless or temporary in a zone not tagged the same",
    policy: "baseline \"assets.csv\"\n" + baselineZones + """
      zone safety { level 1; security-level 4; network 10.41.0.0/24; tags sis }
      1️⃣asset sis-1 { address 10.40.0.50; tags sis }
      asset sis-2 { address 10.41.0.5; tags sis }
      2️⃣asset temp-laptop { address 10.30.0.99; tags temporary }

      """,
    baseline: CaseFile(
      "assets.csv",
      """
      name,ip,tags
      3️⃣ap-1,10.40.0.60,wireless spare
      plc-1,10.40.0.10,critical-path

      """),
    expect: [
      .warning(.dedicatedZone, at: "1️⃣", note: "zone 'control' is declared here"),
      .warning(.dedicatedZone, at: "2️⃣"), .warning(.dedicatedZone, at: "3️⃣"),
    ]),
]

@Suite("Checks: baseline")
struct BaselineCheckTests {
  @Test(arguments: baselineCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }
}
