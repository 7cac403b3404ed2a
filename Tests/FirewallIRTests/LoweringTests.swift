import FirewallIR
import FlowSpace
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

/// Lowering: gateway selection, enforced conduits, disjoint elements, logging, mitigations.
@Suite struct LoweringTests {
  static let site =
    "site lab\n" + TestSites.operationsAndControl + """
      zone dmz {
        level 3.5; security-level 2
        network 10.20.0.0/24
      }
      asset mirror { address 10.20.0.5 }
      gateway gw {
        interface eth1 ops
        interface eth2 ctl
        interface eth3 dmz
        management service ssh from eng-1
      }
      conduit ops-ctl {
        between ops and ctl
        security-level 3; owner "ot"; justification "polling"
        allow role hmi -> role plc service modbus
        allow hmi-1 -> plc-1 service modbus log
        allow eng-1 -> plc-* service s7comm, ping
      }
      conduit ops-dmz {
        between ops and dmz
        security-level 2; owner "ot"; justification "mirror"
        allow role hmi -> mirror service https
      }

      """

  struct Lab {
    let policy: String

    init(_ policy: String) { self.policy = policy }

    func lower(_ options: LoweringOptions = LoweringOptions()) throws -> (Ruleset, [Diagnostic]) {
      let checked = try checkPolicy(text: policy, mitigationsActive: !options.mitigations.isEmpty)
      var diagnostics = DiagnosticEngine()
      diagnostics.replaceAll(with: checked.diagnostics)
      let ruleset = try Lowering.lower(checked.policy, options: options, diagnostics: &diagnostics)
      return (ruleset, diagnostics.diagnostics)
    }
  }

  static func describe(_ ruleset: Ruleset, _ family: AddressFamily = .ipv4) -> [String] {
    ruleset.elements.filter { $0.family == family }.map { element in
      let selectors =
        element.selectors.lowerBound == element.selectors.upperBound
        ? "\(element.selectors.lowerBound)" : "\(element.selectors.lowerBound)-\(element.selectors.upperBound)"
      return "\(element.sources) > \(element.destinations) \(element.kind)/\(selectors) "
        + "\(ruleset.chains[element.chain].conduit)\(element.log ? " log" : "")"
    }
  }

  @Test func overlappingRulesBecomeDisjointElementsThatRememberTheirRules() throws {
    let (ruleset, diagnostics) = try Lab(Self.site).lower()
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
    #expect(ruleset.gateway == "gw")
    #expect(ruleset.chains.map(\.conduit) == ["ops-ctl", "ops-dmz"])
    #expect(
      Self.describe(ruleset) == [
        "10.30.0.31 > 10.40.0.10 tcp/502 ops-ctl log",
        "10.30.0.31 > 10.40.0.11 tcp/502 ops-ctl",
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.32 > 10.40.0.10/31 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ])
    let logged = try #require(ruleset.elements.first { $0.log })
    #expect(logged.rules.count == 2)
    #expect(logged.rules.map { ruleset.rules[$0].range.startLocation.line }.sorted() == [29, 30])
    #expect(
      Self.describe(ruleset, .ipv6) == [
        "fd00:30::31 > fd00:40::10 tcp/502 ops-ctl log"
      ])
  }

  @Test func interfaceZonesAndManagementComeFromTheGateway() throws {
    let (ruleset, _) = try Lab(Self.site).lower()
    #expect(ruleset.interfaces == ["eth1", "eth2", "eth3"])
    #expect(
      ruleset.interfaceZones.map { "\($0.interface) \($0.addresses)" } == [
        "eth1 10.30.0.0/24", "eth1 fd00:30::/64", "eth2 10.40.0.0/24", "eth2 fd00:40::/64", "eth3 10.20.0.0/24",
      ])
    let management = try #require(ruleset.management)
    #expect(management.map { "\($0.sources) \($0.kind)/\($0.selectors.lowerBound)" } == ["10.30.0.40 tcp/22"])
  }

  @Test func aGatewayEnforcesOnlyConduitsAcrossTwoOfItsInterfaces() throws {
    let policy = Self.site.replacingOccurrences(of: "  interface eth3 dmz\n", with: "")
    let (ruleset, _) = try Lab(policy).lower()
    #expect(ruleset.chains.map(\.conduit) == ["ops-ctl"])
    #expect(!Self.describe(ruleset).contains { $0.contains("ops-dmz") })
  }

  @Test func severalGatewaysNeedOneNamed() throws {
    let policy =
      Self.site + "gateway gw-2 {\n  interface eth0 ops\n  interface eth9 dmz\n  management service ssh from eng-1\n}\n"
    let lab = Lab(policy)
    #expect(throws: LoweringError.self) { try lab.lower() }
    let (ruleset, _) = try lab.lower(LoweringOptions(gateway: "gw-2"))
    #expect(ruleset.chains.map(\.conduit) == ["ops-dmz"])
    #expect(throws: LoweringError.self) { try lab.lower(LoweringOptions(gateway: "gw-9")) }
  }

  @Test func withoutAGatewayEveryConduitIsMatchedByAddressOnly() throws {
    let policy = Self.site.replacingOccurrences(
      of:
        "gateway gw {\n  interface eth1 ops\n  interface eth2 ctl\n  interface eth3 dmz\n  management service ssh from eng-1\n}\n",
      with: "")
    let (ruleset, _) = try Lab(policy).lower()
    #expect(ruleset.gateway == nil && ruleset.interfaces.isEmpty && ruleset.management == nil)
    #expect(ruleset.chains.count == 2)
  }

  static let mitigations = """
    mitigation cut-plc-2 {
      reason "plc-2 compromised"
      isolate plc-2
      allow eng-1 -> plc-2 service s7comm
    }
    mitigation no-modbus {
      reason "modbus worm"
      revoke service modbus to plc-1
    }
    mitigation reopen {
      reason "conflicts with cut-plc-2"
      allow hmi-2 -> plc-2 service modbus
    }

    """

  @Test func isolateRemovesAddressesNotWholeRulesAndItsOwnAllowSurvives() throws {
    let (ruleset, diagnostics) = try Lab(Self.site + Self.mitigations).lower(
      LoweringOptions(mitigations: ["cut-plc-2"]))
    #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(diagnostics.map(\.message))")
    #expect(
      Self.describe(ruleset) == [
        "10.30.0.31 > 10.40.0.10 tcp/502 ops-ctl log",
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.32 > 10.40.0.10 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.11 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10 icmp/8 ops-ctl",
      ])
    let mitigationElement = try #require(
      ruleset.elements.first { $0.destinations.description == "10.40.0.11" && $0.kind == .tcp })
    #expect(mitigationElement.rules.map { ruleset.rules[$0].mitigation } == ["cut-plc-2"])
    #expect(ruleset.mitigations == ["cut-plc-2"])
  }

  @Test func revokeRemovesOnlyItsItemsAndDestinations() throws {
    let (ruleset, _) = try Lab(Self.site + Self.mitigations).lower(LoweringOptions(mitigations: ["no-modbus"]))
    #expect(
      Self.describe(ruleset) == [
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.31-10.30.0.32 > 10.40.0.11 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ])
    #expect(Self.describe(ruleset, .ipv6).isEmpty)
  }

  /// One `revoke` compiled in, and every element that remains (IPv4, then IPv6).
  struct RevokeCase: CustomTestStringConvertible, Sendable {
    var revoke: String
    var v4: [String]
    var v6: [String]

    var testDescription: String { revoke }
  }

  static let unmitigatedV4 = [
    "10.30.0.31 > 10.40.0.10 tcp/502 ops-ctl log",
    "10.30.0.31 > 10.40.0.11 tcp/502 ops-ctl",
    "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
    "10.30.0.32 > 10.40.0.10/31 tcp/502 ops-ctl",
    "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
    "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
  ]

  static let revokeCases = [
    RevokeCase(
      revoke: "revoke service modbus from hmi-1",
      v4: [
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.32 > 10.40.0.10/31 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ], v6: []),
    RevokeCase(
      revoke: "revoke service modbus to plc-1",
      v4: [
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.31-10.30.0.32 > 10.40.0.11 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ], v6: []),
    RevokeCase(
      revoke: "revoke service modbus from hmi-1 to plc-1",
      v4: [
        "10.30.0.31 > 10.40.0.11 tcp/502 ops-ctl",
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.32 > 10.40.0.10/31 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ], v6: []),
    RevokeCase(
      revoke: "revoke service modbus, ping from hmi-2, eng-1",
      v4: [
        "10.30.0.31 > 10.40.0.10 tcp/502 ops-ctl log",
        "10.30.0.31 > 10.40.0.11 tcp/502 ops-ctl",
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
      ], v6: ["fd00:30::31 > fd00:40::10 tcp/502 ops-ctl log"]),
    RevokeCase(
      revoke: "revoke service https, s7comm from zone ops to mirror",
      v4: [
        "10.30.0.31 > 10.40.0.10 tcp/502 ops-ctl log",
        "10.30.0.31 > 10.40.0.11 tcp/502 ops-ctl",
        "10.30.0.32 > 10.40.0.10/31 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ], v6: ["fd00:30::31 > fd00:40::10 tcp/502 ops-ctl log"]),
    RevokeCase(
      revoke: "revoke service modbus from plc-1, plc-2", v4: unmitigatedV4,
      v6: ["fd00:30::31 > fd00:40::10 tcp/502 ops-ctl log"]),
    RevokeCase(
      revoke: "revoke service modbus from hmi-1 to plc-2, mirror",
      v4: [
        "10.30.0.31 > 10.40.0.10 tcp/502 ops-ctl log",
        "10.30.0.31-10.30.0.32 > 10.20.0.5 tcp/443 ops-dmz",
        "10.30.0.32 > 10.40.0.10/31 tcp/502 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 tcp/102 ops-ctl",
        "10.30.0.40 > 10.40.0.10/31 icmp/8 ops-ctl",
      ], v6: ["fd00:30::31 > fd00:40::10 tcp/502 ops-ctl log"]),
  ]

  /// Exactly the flows on the revoke's items whose source lies in its `from` endpoints and whose destination lies in
  /// its `to` endpoints (each whole when absent) go; the rest of every rule stays.
  @Test(arguments: revokeCases)
  func revokeRemovesExactlyTheFlowsFromItsSourcesToItsDestinations(_ testCase: RevokeCase) throws {
    let mitigation = "mitigation cut {\n  reason \"r\"\n  \(testCase.revoke)\n}\n"
    let (ruleset, diagnostics) = try Lab(Self.site + mitigation).lower(LoweringOptions(mitigations: ["cut"]))
    #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(diagnostics.map(\.message))")
    #expect(Self.describe(ruleset) == testCase.v4)
    #expect(Self.describe(ruleset, .ipv6) == testCase.v6)
    let (unmitigated, _) = try Lab(Self.site + mitigation).lower()
    #expect(Self.describe(unmitigated) == Self.unmitigatedV4)
  }

  /// A mitigation `allow` conflicts with another mitigation's `revoke … from …` exactly when it reopens some flow
  /// the revoke removes.
  @Test(arguments: [
    ("revoke service modbus from hmi-1", "allow hmi-1 -> plc-2 service modbus", true),
    ("revoke service modbus from hmi-1", "allow hmi-2 -> plc-2 service modbus", false),
    ("revoke service modbus from hmi-1", "allow hmi-1 -> plc-2 service s7comm", false),
    ("revoke service modbus from hmi-1 to plc-1", "allow role hmi -> plc-1 service modbus", true),
    ("revoke service modbus from hmi-1 to plc-1", "allow hmi-1 -> plc-2 service modbus", false),
    ("revoke service modbus from hmi-1 to plc-1", "allow hmi-2 -> plc-1 service modbus", false),
    ("revoke service modbus to plc-1", "allow hmi-2 -> plc-1 service modbus", true),
  ])
  func anAllowConflictsWithARevokeFromOnlyWhereItReopensIt(revoke: String, allow: String, conflicts: Bool) throws {
    let mitigations =
      "mitigation cut {\n  reason \"r\"\n  \(revoke)\n}\nmitigation reopen {\n  reason \"r\"\n  \(allow)\n}\n"
    let (_, diagnostics) = try Lab(Self.site + mitigations).lower(LoweringOptions(mitigations: ["cut", "reopen"]))
    let found = diagnostics.filter { $0.id == .mitigationConflict }
    #expect(found.count == (conflicts ? 1 : 0), "\(found.map(\.message))")
    if conflicts {
      #expect(found.first?.message.contains("'reopen' reopens what mitigation 'cut'") == true)
      #expect(found.first?.range?.text == "allow")
    }
  }

  @Test func statementOrderDoesNotMatter() throws {
    let reordered = Self.mitigations.replacingOccurrences(
      of: "  isolate plc-2\n  allow eng-1 -> plc-2 service s7comm\n",
      with: "  allow eng-1 -> plc-2 service s7comm\n  isolate plc-2\n")
    let (first, _) = try Lab(Self.site + Self.mitigations).lower(LoweringOptions(mitigations: ["cut-plc-2"]))
    let (second, _) = try Lab(Self.site + reordered).lower(LoweringOptions(mitigations: ["cut-plc-2"]))
    #expect(Self.describe(first) == Self.describe(second))
  }

  @Test func anAllowThatReopensAnotherMitigationsIsolationIsAConflict() throws {
    let (_, diagnostics) = try Lab(Self.site + Self.mitigations).lower(
      LoweringOptions(mitigations: ["cut-plc-2", "reopen"]))
    let conflicts = diagnostics.filter { $0.id == .mitigationConflict }
    #expect(conflicts.count == 1)
    #expect(conflicts.first?.severity == .error)
    #expect(conflicts.first?.range?.startLocation.line == 49)
    #expect(conflicts.first?.message.contains("'reopen' reopens what mitigation 'cut-plc-2'") == true)
  }

  @Test func unknownMitigationIsAUsageError() throws {
    #expect(throws: LoweringError.self) {
      try Lab(Self.site).lower(LoweringOptions(mitigations: ["nope"]))
    }
  }

  @Test func anIsolatedAddressLosesItsManagementAccessToo() throws {
    let site =
      Self.site + """
        mitigation cut-eng {
          reason "engineering workstation compromised"
          isolate eng-1
        }

        """
    let engineering = try #require(IPAddress("10.30.0.40"))
    let (plain, _) = try Lab(site).lower()
    #expect(plain.management?.contains { $0.sources.first == engineering } == true)
    #expect(plain.isolated.isEmpty)
    let (isolating, diagnostics) = try Lab(site).lower(LoweringOptions(mitigations: ["cut-eng"]))
    #expect(!diagnostics.contains { $0.severity == .error }, "\(diagnostics.map(\.message))")
    let management = try #require(isolating.management, "the input chain stays: nothing is admitted")
    #expect(!management.contains { $0.sources.first <= engineering && engineering <= $0.sources.last })
    #expect(isolating.isolated.contains(engineering))
  }

  @Test func anExpiringConduitGetsItsExpiryAndAnExpiredOneAnEmergencyBuildKeepsGetsNone() throws {
    let site =
      Self.site.replacingOccurrences(
        of: "security-level 3; owner \"ot\"; justification \"polling\"",
        with: "security-level 3; owner \"ot\"; justification \"polling\"\n  expires 2026-01-31") + """
        mitigation cut-eng {
          reason "engineering workstation compromised"
          isolate eng-1
        }

        """
    let endOfDay = Int64(try #require(CalendarDay("2026-02-01")).daysSinceEpoch) * 86_400
    let (live, _) = try Lab(site).lower(LoweringOptions(today: CalendarDay("2026-01-31")))
    #expect(live.chains.map(\.expiresAt) == [endOfDay, nil])
    let (kept, _) = try Lab(site).lower(LoweringOptions(mitigations: ["cut-eng"], today: CalendarDay("2026-02-01")))
    #expect(kept.chains.map(\.expiresAt) == [nil, nil], "an emergency build keeps the expired conduit: no expiry")
  }
}
