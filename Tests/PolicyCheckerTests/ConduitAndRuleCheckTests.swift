import PolicyLanguage
import Testing

/// `twoZones` plus an industrial DMZ (level 3.5, SL-T 2) holding the dual-stack asset mirror-1.
let threeZones =
  twoZones + """
    zone idmz {
      level 3.5
      security-level 2
      network 10.20.0.0/24, fd00:20::/64
    }
    asset mirror-1 { address 10.20.0.5, fd00:20::5; role historian }

    """

let conduitAndRuleCases: [CheckCase] = [
  CheckCase(
    "redundant-rule: the later of identical rules, a rule covered by a union, not a logged rule covered by an unlogged one",
    policy: twoZones + """
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
        1️⃣allow hmi-1 -> plc-1 service modbus
        allow hmi-1 -> plc-1 service tcp/102
        allow hmi-1 -> plc-2 service tcp/102
        2️⃣allow hmi-1 -> plc-1, plc-2 service s7comm
        3️⃣allow eng-ws-1 -> plc-1 service ssh
        4️⃣allow eng-ws-1 -> plc-1 service ssh log
        allow eng-ws-1 -> zone control service tcp/22-23
        allow eng-ws-1 -> plc-1 service tcp/22-23 log
      }
      """,
    expect: [
      .warning(.redundantRule, at: "1️⃣", note: "covered by this rule"),
      .warning(.redundantRule, at: "2️⃣", note: "covered by this rule"),
      .warning(.redundantRule, at: "3️⃣", note: "covered by this rule"),
      .warning(.redundantRule, at: "4️⃣", note: "covered by this rule"),
    ]),
  CheckCase(
    "duplicate-conduit: a second conduit for the same pair of zones, at its 'between'",
    policy: twoZones + """
      conduit oc {
        between operations and control
      }
      conduit co {
        1️⃣between control and operations
      }
      """,
    expect: [.error(.duplicateConduit, at: "1️⃣", note: "conduit 'oc' is declared here")]),
  CheckCase(
    "endpoint-outside-conduit: an asset, a zone and a prefix partly outside the conduit's zones",
    policy: threeZones + """
      conduit oc {
        between operations and control
        allow hmi-1 -> 1️⃣mirror-1 service https
        allow 2️⃣10.30.0.0/23 -> plc-1 service modbus
        allow 3️⃣zone idmz -> plc-1 service modbus
        allow hmi-1 -> 4️⃣10.20.0.0/16 service modbus
        allow 10.30.0.0/25 -> 10.40.0.0/28, fd00:40::10 service modbus
      }
      """,
    expect: [
      .error(.endpointOutsideConduit, at: "1️⃣", note: "conduit 'oc' joins 'operations' and 'control'"),
      .error(.endpointOutsideConduit, at: "2️⃣"), .error(.endpointOutsideConduit, at: "3️⃣"),
      .error(.endpointOutsideConduit, at: "4️⃣"),
    ]),
  CheckCase(
    "empty-rule: IPv4-only sources with IPv6-only destinations, or items of neither family",
    policy: twoZones + """
      conduit oc {
        between operations and control
        1️⃣allow hmi-1 -> plc-6 service modbus
        2️⃣allow eng-ws-6 -> plc-2 service modbus, ping
        3️⃣allow hmi-1 -> plc-1 service icmpv6/echo-request
        allow eng-ws-6 -> plc-1 service icmpv6/echo-request
      }
      """,
    expect: [.error(.emptyRule, at: "1️⃣"), .error(.emptyRule, at: "2️⃣"), .error(.emptyRule, at: "3️⃣")]),
  CheckCase(
    "family-mismatch: an endpoint no address of the other side shares a family with; never for ping",
    policy: twoZones + """
      conduit oc {
        between operations and control
        allow hmi-1, 1️⃣eng-ws-6 -> plc-2 service modbus
        allow hmi-1 -> plc-2, 2️⃣plc-6 service modbus
        allow hmi-1, 3️⃣fd00:30::46 -> plc-2 service modbus
        allow eng-ws-1 -> plc-1 service ping
        allow hmi-1 -> plc-2 service ping
        allow eng-ws-6 -> plc-6 service ping
        allow hmi-1, eng-ws-6 -> plc-2, plc-6 service ping, modbus
      }
      """,
    expect: [
      .warning(.familyMismatch, at: "1️⃣"), .warning(.familyMismatch, at: "2️⃣"), .warning(.familyMismatch, at: "3️⃣"),
    ]),
  CheckCase(
    "family-mismatch: an item of one family is no endpoint's fault",
    policy: twoZones + """
      conduit oc {
        between operations and control
        allow hmi-1, eng-ws-6 -> plc-2, plc-6 service icmp/echo-request
      }
      """,
    checks: [.familyMismatch, .emptyRule],
    expect: []),
  CheckCase(
    "purdue-skip: error from level 4 or 5 to 0-2, warning from 3.5 to 0 or 1",
    policy: """
      zone enterprise { level 4; security-level 1; network 10.1.0.0/16 }
      zone internet-dmz { level 5; security-level 1; network 10.2.0.0/16 }
      zone idmz { level 3.5; security-level 2; network 10.20.0.0/24 }
      zone operations { level 3; security-level 2; network 10.30.0.0/24 }
      zone cell { level 2; security-level 2; network 10.35.0.0/24 }
      zone control { level 1; security-level 3; network 10.40.0.0/24 }
      zone field { level 0; security-level 3; network 10.45.0.0/24 }
      zone unlevelled { security-level 3; network 10.46.0.0/24 }
      conduit enterprise-control { 1️⃣between enterprise and control }
      conduit cell-internet { 2️⃣between cell and internet-dmz }
      conduit idmz-control { 3️⃣between idmz and control }
      conduit field-idmz { 4️⃣between field and idmz }
      conduit enterprise-idmz { between enterprise and idmz }
      conduit idmz-cell { between idmz and cell }
      conduit operations-field { between operations and field }
      conduit enterprise-unlevelled { between enterprise and unlevelled }
      """,
    expect: [
      .error(.purdueSkip, at: "1️⃣", note: "zone 'enterprise' is level 4"), .error(.purdueSkip, at: "2️⃣"),
      .warning(.purdueSkip, at: "3️⃣", note: "zone 'control' is level 1"), .warning(.purdueSkip, at: "4️⃣"),
    ]),
  CheckCase(
    "sl-step-up: a zone initiates into a zone of SL-T two or more levels higher, at 'allow'",
    policy: """
      zone office { level 3; security-level 1; network 10.30.0.0/24 }
      zone cell { level 2; security-level 3; network 10.40.0.0/24 }
      zone safety { level 2; security-level 4; network 10.41.0.0/24 }
      asset ws-1 { address 10.30.0.5 }
      asset plc-1 { address 10.40.0.10 }
      asset sis-1 { address 10.41.0.10 }
      conduit office-cell {
        between office and cell
        1️⃣allow ws-1 -> plc-1 service modbus
        allow plc-1 -> ws-1 service syslog
      }
      conduit cell-safety {
        between cell and safety
        allow plc-1 -> sis-1 service modbus
      }
      """,
    expect: [.warning(.slStepUp, at: "1️⃣")]),
  CheckCase(
    "conduit-sl-below-zone: a conduit's SL-T below the higher SL-T of its zones",
    policy: threeZones + """
      conduit oc {
        between operations and control
        security-level 1️⃣2
      }
      conduit io {
        between idmz and operations
        security-level 2
      }
      conduit ic {
        between idmz and control
      }
      """,
    expect: [.warning(.conduitSLBelowZone, at: "1️⃣", note: "zone 'control' is declared here")]),
  CheckCase(
    "broad-source: a whole zone or a wide prefix as source, an error into SL-T 3",
    policy: """
      zone operations { level 3; security-level 2; network 10.30.0.0/16, fd00:30::/48 }
      zone control { level 1; security-level 3; network 10.40.0.0/24 }
      zone idmz { level 3.5; security-level 2; network 10.20.0.0/24, fd00:20::/64 }
      asset plc-1 { address 10.40.0.10 }
      asset mirror-1 { address 10.20.0.5, fd00:20::5 }
      conduit oc {
        between operations and control
        allow 1️⃣zone operations -> plc-1 service modbus
        allow 2️⃣10.30.0.0/20 -> plc-1 service modbus
        allow 10.30.0.0/24 -> plc-1 service modbus
        allow plc-1 -> zone operations service syslog
      }
      conduit oi {
        between operations and idmz
        allow 3️⃣zone operations -> mirror-1 service https
        allow 4️⃣fd00:30::/56 -> mirror-1 service https
        allow fd00:30::/64, 10.30.1.0/24 -> mirror-1 service https
      }
      """,
    expect: [
      .error(.broadSource, at: "1️⃣"), .error(.broadSource, at: "2️⃣"), .warning(.broadSource, at: "3️⃣"),
      .warning(.broadSource, at: "4️⃣"),
    ]),
  CheckCase(
    "all-ports: an item without port restriction or a range wider than 1024 ports, an error into SL-T 3",
    policy: threeZones + """
      service wide tcp/10000-20000
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service 1️⃣tcp
        allow hmi-1 -> plc-1 service 2️⃣udp/1024-2048
        allow hmi-1 -> plc-1 service tcp/1024-2047, proto/47
        allow hmi-1 -> plc-1 service 3️⃣wide
      }
      conduit oi {
        between operations and idmz
        allow hmi-1 -> mirror-1 service 4️⃣udp
        allow hmi-1 -> mirror-1 service 5️⃣tcp/0-65535
        allow hmi-1 -> mirror-1 service 6️⃣tcp/40000-41100
      }
      """,
    expect: [
      .error(.allPorts, at: "1️⃣"), .error(.allPorts, at: "2️⃣"), .error(.allPorts, at: "3️⃣", note: "defined here"),
      .warning(.allPorts, at: "4️⃣"), .warning(.allPorts, at: "5️⃣"), .warning(.allPorts, at: "6️⃣"),
    ]),
  CheckCase(
    "unknown-device: a literal address or prefix that holds no known asset, in rules and management lines",
    policy: twoZones + """
      gateway gw {
        interface eth0 operations
        interface eth1 control
        management service ssh from eng-ws-1, 1️⃣10.30.0.99, 10.30.0.31
      }
      conduit oc {
        between operations and control
        allow hmi-1 -> 2️⃣10.40.0.99 service modbus
        allow hmi-1 -> 10.40.0.10 service modbus
        allow hmi-1 -> 3️⃣10.40.0.128/25 service modbus
        allow hmi-1 -> 10.40.0.0/28 service modbus
        allow eng-ws-1 -> 4️⃣fd00:40::99, fd00:40::6 service modbus
      }
      """,
    expect: [
      .warning(.unknownDevice, at: "1️⃣"), .warning(.unknownDevice, at: "2️⃣"), .warning(.unknownDevice, at: "3️⃣"),
      .warning(.unknownDevice, at: "4️⃣"),
    ]),
  CheckCase(
    "general-purpose-service: IT services into a zone of SL-T 3 or 4, not into SL-T 2",
    policy: twoZones + """
      service remote-desktop rdp
      conduit oc {
        between operations and control
        allow eng-ws-1 -> plc-1 service 1️⃣http
        allow eng-ws-1 -> plc-1 service 2️⃣tcp/23
        allow eng-ws-1 -> plc-1 service 3️⃣remote-desktop, ssh, 4️⃣tcp/440-450
        allow eng-ws-1 -> plc-1 service udp/445, https, tcp
        allow plc-1 -> hmi-1 service http, tcp/23
      }
      """,
    checks: [.generalPurposeService],
    expect: [
      .warning(.generalPurposeService, at: "1️⃣"), .warning(.generalPurposeService, at: "2️⃣"),
      .warning(.generalPurposeService, at: "3️⃣"), .warning(.generalPurposeService, at: "4️⃣"),
    ]),
  CheckCase(
    "expired-conduit and expiring-conduit: past is an error, within 30 days a warning",
    policy: threeZones + """
      zone enterprise { level 4; security-level 1; network 10.1.0.0/16 }
      conduit expired {
        between operations and control
        expires 1️⃣2026-11-27
      }
      conduit last-day {
        between idmz and operations
        expires 2️⃣2026-11-28
      }
      conduit in-thirty-days {
        between enterprise and idmz
        expires 3️⃣2026-12-28
      }
      conduit in-thirty-one-days {
        between enterprise and operations
        expires 2026-12-29
      }
      """,
    expect: [
      .error(.expiredConduit, at: "1️⃣"), .warning(.expiringConduit, at: "2️⃣"), .warning(.expiringConduit, at: "3️⃣"),
    ]),
  CheckCase(
    "expired-conduit: a warning when compiling with mitigations",
    policy: twoZones + """
      conduit expired {
        between operations and control
        expires 1️⃣2025-12-31
      }
      """,
    checks: [.expiredConduit, .expiringConduit],
    mitigationsActive: true,
    expect: [.warning(.expiredConduit, at: "1️⃣")]),
  CheckCase(
    "missing-justification and missing-owner: at the conduit's name",
    policy: threeZones + """
      conduit 1️⃣neither {
        between operations and control
      }
      conduit 2️⃣owned {
        between idmz and operations
        owner "ot-engineering"
      }
      conduit 3️⃣justified {
        between idmz and control
        justification "CHG-1"
      }
      """,
    expect: [
      .warning(.missingJustification, at: "1️⃣"), .warning(.missingOwner, at: "1️⃣"),
      .warning(.missingJustification, at: "2️⃣"), .warning(.missingOwner, at: "3️⃣"),
    ]),
  CheckCase(
    "empty-conduit: a conduit with no rules",
    policy: threeZones + """
      conduit 1️⃣oc {
        between operations and control
        owner "ot-engineering"
      }
      conduit io {
        between idmz and operations
        allow mirror-1 -> hmi-1 service https
      }
      """,
    expect: [.warning(.emptyConduit, at: "1️⃣")]),
  CheckCase(
    "unused-service: a defined service nothing uses; built-ins are exempt",
    policy: twoZones + """
      service 1️⃣unused tcp/9999
      service used-by-rule tcp/8080
      service used-by-service tcp/8081
      service wrapper used-by-service, modbus
      service used-by-management tcp/8443
      service 2️⃣unused-wrapper wrapper
      gateway gw {
        interface eth0 operations
        interface eth1 control
        management service used-by-management from eng-ws-1
      }
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service used-by-rule, wrapper
      }
      """,
    expect: [.warning(.unusedService, at: "1️⃣"), .warning(.unusedService, at: "2️⃣")]),
  CheckCase(
    "mitigation-outside-conduit: a mitigation allow whose zones have no conduit, at 'allow'",
    policy: threeZones + """
      conduit oc {
        between operations and control
        allow hmi-1 -> plc-1 service modbus
      }
      mitigation reroute {
        reason "emergency mirror of the PLC"
        1️⃣allow plc-1 -> mirror-1 service https
        allow eng-ws-1 -> plc-2 service s7comm
      }
      """,
    expect: [.error(.mitigationOutsideConduit, at: "1️⃣")]),
]

@Suite("Checks: conduits and rules")
struct ConduitAndRuleCheckTests {
  @Test(arguments: conduitAndRuleCases)
  func findings(_ testCase: CheckCase) throws {
    try verify(testCase)
  }
}
