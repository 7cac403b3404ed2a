import PolicyLanguage
import Testing

let namesAndSyntaxCases: [CheckCase] = [
  CheckCase(
    "syntax: every parse error is reported, recovering at the next statement",
    policy: """
      1️⃣zome foo
      zone operations {
        level 3
        security-level 2
        network 10.30.0.0/24
        2️⃣colour red
      }
      conduit oc {
        allow hmi-1 3️⃣plc-1 service modbus
      }
      """,
    expect: [
      .error(.syntax, at: "1️⃣", note: "did you mean 'zone'?"), .error(.syntax, at: "2️⃣"), .error(.syntax, at: "3️⃣"),
    ]),
  CheckCase(
    "syntax: a block left open at the end of the file",
    policy: """
      zone operations {
        level 3
      1️⃣
      """,
    expect: [.error(.syntax, at: "1️⃣", note: "zone 'operations' starts here")]),
  CheckCase(
    "unknown-name: assets, services and zones (in interface lines too), with 'did you mean'",
    policy: twoZones + """
      service polling 1️⃣modbsu
      gateway gw {
        interface eth0 operations
        interface eth1 2️⃣contrl
        management service ssh from eng-ws-1
      }
      conduit oc {
        between operations and 3️⃣ctrl-room
        allow hmi-1 -> plc-1 service modbus
      }
      conduit co {
        between operations and control
        allow hmi-1 -> 4️⃣plc-3 service polling
      }
      """,
    expect: [
      .error(.unknownName, at: "1️⃣", note: "did you mean 'modbus'?"),
      .error(.unknownName, at: "2️⃣", note: "did you mean 'control'?"),
      .error(.unknownName, at: "3️⃣"),
      .error(.unknownName, at: "4️⃣", note: "did you mean 'plc-1'?"),
    ]),
  CheckCase(
    "duplicate-definition: zones, services, assets, gateways and conduits, at the second name",
    policy: twoZones + """
      zone 1️⃣control {
        level 1
        security-level 3
        network 10.41.0.0/24
      }
      service web tcp/443
      service 2️⃣web tcp/8443
      asset 3️⃣plc-1 { address 10.40.0.10 }
      gateway gw { interface eth0 operations; interface eth1 control; management service web from hmi-1 }
      gateway 4️⃣gw { interface eth0 operations }
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service web
      }
      conduit 5️⃣oc {
        between operations and control
      }
      """,
    expect: [
      .error(.duplicateDefinition, at: "1️⃣", note: "first defined here"),
      .error(.duplicateDefinition, at: "2️⃣", note: "first defined here"),
      .error(.duplicateDefinition, at: "3️⃣", note: "first defined here"),
      .error(.duplicateDefinition, at: "4️⃣", note: "first defined here"),
      .error(.duplicateDefinition, at: "5️⃣", note: "first defined here"),
    ]),
  CheckCase(
    "empty-glob: a glob or role matching no asset, or none in the conduit's zones",
    policy: twoZones + """
      zone idmz {
        level 3.5
        security-level 2
        network 10.20.0.0/24
      }
      asset mirror-1 { address 10.20.0.5; role historian }
      conduit oc {
        between operations and control
        allow hmi-1 -> 1️⃣plx-* service modbus
        allow 2️⃣role robot -> plc-1 service modbus
        allow hmi-1 -> 3️⃣mirror-* service https
        allow 4️⃣role historian -> plc-1 service modbus
        allow hmi-1 -> plc-?, *-6 service modbus
        allow role HMI -> plc-1 service modbus
      }
      conduit oi {
        between operations and idmz
        allow role hmi -> mirror-* service https
      }
      """,
    checks: [.emptyGlob, .endpointOutsideConduit],
    expect: [
      .error(.emptyGlob, at: "1️⃣"), .error(.emptyGlob, at: "2️⃣"), .error(.emptyGlob, at: "3️⃣"),
      .error(.emptyGlob, at: "4️⃣"),
    ]),
  CheckCase(
    "bad-prefix: host bits set (with the network address), invalid addresses and lengths, a network as an address",
    policy: """
      zone operations {
        level 3
        security-level 2
        network 1️⃣10.30.0.1/24, 2️⃣10.31.300.0/24, 3️⃣fd00:30::/129, fd00:31::/64
      }
      asset plc-9 { address 4️⃣10.30.0.0/28 }
      asset plc-10 { address 5️⃣fd00:31::1/64 }
      asset plc-11 { address 10.30.0.11/32, fd00:31::11/128 }
      """,
    expect: [
      .error(.badPrefix, at: "1️⃣", note: "the network address is '10.30.0.0/24'"), .error(.badPrefix, at: "2️⃣"),
      .error(.badPrefix, at: "3️⃣"), .error(.badPrefix, at: "4️⃣"),
      .error(.badPrefix, at: "5️⃣", note: "the network address is 'fd00:31::/64'"),
    ]),
  CheckCase(
    "bad-port: out of range, empty range, ICMP error types, proto/1|6|17|58, bare icmp",
    policy: """
      service too-high 1️⃣tcp/70000
      service backwards 2️⃣tcp/600-500
      service icmp-error 3️⃣icmp/destination-unreachable
      service icmpv6-error 4️⃣icmpv6/packet-too-big
      service raw-icmp 5️⃣proto/1
      service raw-tcp 6️⃣proto/6
      service raw-udp 7️⃣proto/17
      service raw-icmpv6 8️⃣proto/58
      service bare-icmp 9️⃣icmp
      service fine tcp/0-65535, udp/2222, proto/47, proto/50, icmp/timestamp-request, icmpv6/echo-request, tcp, udp
      """,
    expect: [
      .error(.badPort, at: "1️⃣"), .error(.badPort, at: "2️⃣"), .error(.badPort, at: "3️⃣"),
      .error(.badPort, at: "4️⃣"), .error(.badPort, at: "5️⃣"), .error(.badPort, at: "6️⃣"),
      .error(.badPort, at: "7️⃣"), .error(.badPort, at: "8️⃣"), .error(.badPort, at: "9️⃣"),
    ]),
  CheckCase(
    "bad-port: a list after one protocol does not continue it, in a service and in a rule",
    policy: twoZones + """
      service listed tcp/502, 1️⃣503
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service udp/2222, 2️⃣2223
        allow hmi-1 -> plc-1 service tcp/502, tcp/503, tcp/504-505
      }
      """,
    expect: [.error(.badPort, at: "1️⃣"), .error(.badPort, at: "2️⃣")]),
  CheckCase(
    "bad-value: Purdue level, security levels, date, MAC, criticality, interface name, 'site' and 'between' twice",
    policy: """
      site one
      1️⃣site two
      zone operations {
        level 3
        security-level 2
        network 10.30.0.0/24
      }
      zone control {
        level 2️⃣2.5
        security-level 3️⃣5
        network 10.40.0.0/24
      }
      asset plc-1 { address 10.40.0.10; mac 4️⃣AC:64:17:48:AC; security-level 5️⃣7 }
      asset plc-2 { address 10.40.0.11; mac AC:64:17:48:AC:0A; criticality 6️⃣urgent }
      gateway gw {
        interface 7️⃣enp0s31f6-uplink-a operations
        interface enp0s31f6-uplnk control
      }
      conduit oc {
        between operations and control
        8️⃣between control and operations
        expires 9️⃣2027-02-30
        security-level 0️⃣0
      }
      """,
    expect: [
      .error(.badValue, at: "1️⃣", note: "first given here"), .error(.badValue, at: "2️⃣"),
      .error(.badValue, at: "3️⃣"), .error(.badValue, at: "4️⃣"), .error(.badValue, at: "5️⃣"),
      .error(.badValue, at: "6️⃣"), .error(.badValue, at: "7️⃣"),
      .error(.badValue, at: "8️⃣", note: "first given here"), .error(.badValue, at: "9️⃣"), .error(.badValue, at: "0️⃣"),
    ]),
  CheckCase(
    "missing-statement: 'between' in a conduit, 'reason' in a mitigation, 'address' in an asset, 'network' in a zone",
    policy: twoZones + """
      asset 1️⃣plc-9 { role plc }
      conduit 2️⃣oc {
        owner "ot-engineering"
        allow hmi-1 -> plc-1 service modbus
      }
      mitigation 3️⃣cut-plc {
        isolate plc-1
      }
      zone 4️⃣empty {
        level 1
        security-level 1
      }
      """,
    expect: [
      .error(.missingStatement, at: "1️⃣"), .error(.missingStatement, at: "2️⃣"), .error(.missingStatement, at: "3️⃣"),
      .error(.missingStatement, at: "4️⃣"),
    ]),
  CheckCase(
    "missing-file: an include and a baseline that cannot be read, at their paths",
    policy: """
      include 1️⃣"nope.conduit"
      baseline 2️⃣"nope.csv"
      include "present.conduit"
      """,
    otherFiles: [CaseFile("present.conduit", "include 3️⃣\"sub/missing.conduit\"\n")],
    expect: [.error(.missingFile, at: "1️⃣"), .error(.missingFile, at: "2️⃣"), .error(.missingFile, at: "3️⃣")]),
  CheckCase(
    "unknown-check: accept-risk names no check id, at top level and in a block",
    policy: twoZones + """
      accept-risk 1️⃣missing-justifcation "typo"
      accept-risk missing-justification "known"
      conduit oc {
        between operations and control
        accept-risk 2️⃣no-such-check "made up"
        allow hmi-1 -> plc-1 service modbus
      }
      """,
    expect: [
      .error(.unknownCheck, at: "1️⃣", note: "did you mean 'missing-justification'?"), .error(.unknownCheck, at: "2️⃣"),
    ]),
  CheckCase(
    "include-cycle: two files including each other",
    policy: """
      include "second.conduit"
      zone operations { level 3; security-level 2; network 10.30.0.0/24 }
      """,
    otherFiles: [CaseFile("second.conduit", "include 1️⃣\"policy.conduit\"\n")],
    expect: [.error(.includeCycle, at: "1️⃣")]),
  CheckCase(
    "include-cycle: a file including itself",
    policy: """
      zone operations { level 3; security-level 2; network 10.30.0.0/24 }
      include 1️⃣"./policy.conduit"
      """,
    expect: [.error(.includeCycle, at: "1️⃣")]),
  CheckCase(
    "include-cycle: a file included along two paths is read once and is no cycle",
    policy: """
      include "left.conduit"
      include "right.conduit"
      """,
    otherFiles: [
      CaseFile("left.conduit", "include \"shared.conduit\"\n"),
      CaseFile("right.conduit", "include \"shared.conduit\"\n"),
      CaseFile("shared.conduit", "zone operations { level 3; security-level 2; network 10.30.0.0/24 }\n"),
    ],
    checks: [.includeCycle, .duplicateDefinition],
    expect: []),
  CheckCase(
    "service-cycle: services defined through each other or through themselves",
    policy: """
      service 1️⃣alpha beta, tcp/1
      service beta alpha
      service 2️⃣self self
      service fine alpha, ssh
      """,
    expect: [.error(.serviceCycle, at: "1️⃣"), .error(.serviceCycle, at: "2️⃣")]),
  CheckCase(
    "functions-unsupported: a functions clause is refused, never ignored",
    policy: twoZones + """
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus 1️⃣functions read
        allow hmi-1 -> plc-1 service modbus log 2️⃣functions 1-4, 16
        allow hmi-1 -> plc-1 service modbus
      }
      """,
    expect: [.error(.functionsUnsupported, at: "1️⃣"), .error(.functionsUnsupported, at: "2️⃣")]),
]

@Suite("Checks: names and syntax")
struct NamesAndSyntaxTests {
  @Test(arguments: namesAndSyntaxCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }
}
