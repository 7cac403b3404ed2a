import FlowSpace
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

@Suite struct ResolverTests {
  static let site = """
    zone operations {
      level 3; security-level 2
      network 10.30.0.0/24, fd00:30::/64
    }
    zone control {
      level 1; security-level 3
      network 10.40.0.0/24, fd00:40::/64
    }
    asset hmi-1 { address 10.30.0.31, fd00:30::31; role hmi }
    asset hmi-2 { address 10.30.0.32; role HMI }
    asset plc-1 { address 10.40.0.10, fd00:40::10; role plc }
    asset plc-2 { address 10.40.0.11; role plc }
    service engineering s7comm, ssh

    """

  /// Conduits' rules are resolved in runs on several cores and joined: rules keep the order of the policy, every
  /// rule's flows point back at it, and a finding anywhere gives the same result as one pass.
  @Test(arguments: [false, true])
  func rulesOfManyConduitsKeepTheirOrderAndFlows(withFinding: Bool) throws {
    var text = Self.site + "zone dmz { level 3.5; security-level 2; network 10.20.0.0/24 }\n"
    text += "asset jump-1 { address 10.20.0.5 }\n"
    text += "conduit a {\n  between operations and control\n"
    for port in 1...40 { text += "  allow hmi-1 -> plc-1 service tcp/\(1000 + port)\n" }
    text += "}\nconduit b {\n  between dmz and operations\n"
    for port in 1...40 { text += "  allow jump-1 -> hmi-2 service tcp/\(2000 + port)\n" }
    if withFinding { text += "  allow jump-1 -> hmi-9 service ssh\n" }
    text += "}\nconduit c {\n  between dmz and control\n  allow jump-1 -> plc-2 service ssh, tcp/3000\n}\n"
    let (policy, diagnostics) = try PolicyDirectory(["site.conduit": text]).resolve()
    #expect(diagnostics.map(\.message) == (withFinding ? ["unknown asset 'hmi-9'"] : []))
    #expect(policy.rules.count == 81)
    #expect(policy.conduits.map(\.rules) == [Array(0..<40), Array(40..<80), [80]])
    let lines = policy.rules.map { $0.declaration.range.startLocation.line }
    #expect(lines == lines.sorted())
    #expect(policy.rules.map(\.conduit) == Array(repeating: 0, count: 40) + Array(repeating: 1, count: 40) + [2])
    for (index, rule) in policy.rules.enumerated() {
      #expect(!rule.flows.isEmpty)
      #expect(rule.flows.allSatisfy { policy.flows[$0].rule == index && policy.flows[$0].conduit == rule.conduit })
    }
    #expect(policy.flows.count == 40 * 2 + 40 + 2)
    #expect(Set(policy.flows.map(\.rule)) == Set(0..<81))
  }

  @Test func rulesBecomeFlowsPerFamilyAndItemKeepingTheirOrigin() throws {
    let directory = try PolicyDirectory([
      "site.conduit": Self.site + """
        conduit operations-control {
          between control and operations
          allow role hmi -> plc-* service modbus, ping log
          allow plc-1 -> hmi-1 service engineering
        }
        """
    ])
    let (policy, diagnostics) = try directory.resolve()
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
    #expect(policy.rules.count == 2)
    let polling = policy.rules[0]
    #expect(policy.zones[polling.sourceZone].name == "operations")
    #expect(policy.zones[polling.destinationZone].name == "control")
    let flows = polling.flows.map { policy.flows[$0] }
    #expect(flows.map(\.match.description) == ["tcp/502", "icmp/echo-request", "tcp/502", "icmpv6/echo-request"])
    #expect(flows.map(\.family) == [.ipv4, .ipv4, .ipv6, .ipv6])
    #expect(flows.allSatisfy { $0.log })
    #expect(flows[0].sources == AddressSet([IPPrefix("10.30.0.31")!, IPPrefix("10.30.0.32")!]))
    #expect(flows[2].sources == AddressSet(IPPrefix("fd00:30::31")!))
    let engineering = policy.rules[1]
    #expect(policy.zones[engineering.sourceZone].name == "control")
    #expect(engineering.items.map(\.viaServices) == [["engineering", "s7comm"], ["engineering", "ssh"]])
    #expect(engineering.items.allSatisfy { $0.range.text == "engineering" })
    #expect(engineering.flows.count == 4)
  }

  @Test func includesAreReadOnceRelativeToTheIncludingFile() throws {
    let directory = try PolicyDirectory([
      "site.conduit": "include \"zones.conduit\"\ninclude \"zones.conduit\"\n",
      "zones.conduit": Self.site + "include \"site.conduit\"\n",
    ])
    let (policy, diagnostics) = try directory.resolve()
    #expect(policy.files.count == 2)
    #expect(policy.zones.count == 2)
    #expect(diagnostics.map(\.id) == [.includeCycle])
    #expect(diagnostics.first?.range?.file.path.hasSuffix("zones.conduit") == true)
  }

  @Test func missingIncludeIsReportedAtTheStatement() throws {
    let directory = try PolicyDirectory(["site.conduit": "site s\ninclude \"absent.conduit\"\n"])
    let (_, diagnostics) = try directory.resolve()
    #expect(diagnostics.map(\.id) == [.missingFile])
    #expect(diagnostics.first?.range?.startLocation == SourceLocation(line: 2, column: 9))
  }

  @Test func missingMainFileThrows() throws {
    var diagnostics = DiagnosticEngine()
    #expect(throws: InputFileError.self) {
      _ = try PolicyLoader.load("/nonexistent/site.conduit", diagnostics: &diagnostics)
    }
  }

  @Test func serviceCyclesAreFoundAndDoNotLoop() throws {
    let directory = try PolicyDirectory([
      "site.conduit": "service a b, tcp/1\nservice b c\nservice c a\n"
    ])
    let (_, diagnostics) = try directory.resolve()
    #expect(diagnostics.map(\.id).contains(.serviceCycle))
  }

  @Test func outsideZoneHoldsEveryAddressOfNoOtherZone() throws {
    let directory = try PolicyDirectory([
      "site.conduit": Self.site + """
        zone internet {
          level 5; security-level 1
          network outside
        }
        """
    ])
    let (policy, _) = try directory.resolve()
    let internet = try #require(policy.zones.first { $0.name == "internet" })
    #expect(internet.addresses.contains(IPAddress("8.8.8.8")!))
    #expect(!internet.addresses.contains(IPAddress("10.30.0.5")!))
    #expect(policy.zone(of: IPAddress("2001:db8::1")!) == internet.id)
  }

  @Test(arguments: [
    ("tcp/502", "tcp/502"), ("udp/2222", "udp/2222"), ("tcp/49152-65535", "tcp/49152-65535"), ("tcp", "tcp"),
    ("icmp/echo-request", "icmp/echo-request"), ("icmpv6/echo-request", "icmpv6/echo-request"),
    ("proto/47", "proto/47"),
  ])
  func portLiteralsRoundTrip(_ literal: String, _ printed: String) throws {
    let match = try PortLiteral.parse(literal).get()
    #expect(match.description == printed)
  }

  @Test(arguments: [
    "tcp/65536", "tcp/10-5", "icmp", "icmp/destination-unreachable", "icmpv6/packet-too-big", "proto/1", "proto/6",
    "proto/17", "proto/58", "proto/256", "sctp/5", "tcp/", "tcp/a",
  ])
  func badPortLiteralsAreRefused(_ literal: String) {
    #expect(throws: PortLiteral.Problem.self) { try PortLiteral.parse(literal).get() }
  }

  /// A revoke's `from` and `to` endpoints resolve like an isolate's, whatever their zones; an absent clause is nil
  /// (every address) and an unknown name is reported where it stands.
  @Test func revokeResolvesItsSourcesAndDestinations() throws {
    let directory = try PolicyDirectory([
      "site.conduit": Self.site + """
        mitigation m {
          reason "r"
          revoke service modbus from role hmi to plc-1, 10.40.0.0/30
          revoke service engineering from zone control
          revoke service ssh to hmi-1
          revoke service modbus from hmi-9
        }
        """
    ])
    let (policy, diagnostics) = try directory.resolve()
    #expect(diagnostics.map(\.message) == ["unknown asset 'hmi-9'"])
    #expect(diagnostics.first?.range?.startLocation.line == 19)
    let revocations = try #require(policy.mitigations.first?.revocations)
    #expect(revocations.count == 4)
    #expect(
      revocations[0].sources
        == AddressSet(["10.30.0.31", "fd00:30::31", "10.30.0.32"].map { IPPrefix($0)! }))
    #expect(
      revocations[0].destinations == AddressSet(["10.40.0.10", "fd00:40::10", "10.40.0.0/30"].map { IPPrefix($0)! }))
    #expect(revocations[0].items.map(\.match.description) == ["tcp/502"])
    #expect(revocations[1].sources == AddressSet(["10.40.0.0/24", "fd00:40::/64"].map { IPPrefix($0)! }))
    #expect(revocations[1].destinations == nil)
    #expect(revocations[1].items.map(\.match.description) == ["tcp/102", "tcp/22"])
    #expect(revocations[2].sources == nil)
    #expect(revocations[2].destinations == AddressSet(["10.30.0.31", "fd00:30::31"].map { IPPrefix($0)! }))
    #expect(revocations[3].sources == AddressSet())
    #expect(policy.usedServices.contains("engineering"))
  }
}

/// Rules are resolved in runs of conduits on several cores; the result must be that of one pass in conduit order.
@Suite struct ParallelRuleResolutionTests {
  /// 80 conduits, each with a rule that resolves, one naming an unknown asset, and another that resolves: rule and
  /// flow numbers close over the rules that did not resolve, and only the first 50 unknown names (in conduit order)
  /// get a "did you mean" note, however the conduits were split between cores.
  @Test func findingsAndNumbersAreThoseOfOnePass() throws {
    var text = "site s\n"
    for zone in 0..<81 {
      text += "zone z\(zone) { level 3; security-level 2; network 10.\(zone).0.0/16 }\n"
      text += "asset host-\(zone) { address 10.\(zone).0.1 }\n"
    }
    for conduit in 0..<80 {
      text += """
        conduit c\(conduit) {
          between z\(conduit) and z\(conduit + 1)
          security-level 2
          allow host-\(conduit) -> host-\(conduit + 1) service tcp/502
          allow host-\(conduit) -> hots-\(conduit + 1) service tcp/503
          allow host-\(conduit) -> host-\(conduit + 1) service tcp/504
        }

        """
    }
    let directory = try PolicyDirectory(["site.conduit": text])
    let (policy, diagnostics) = try directory.resolve()
    let unknown = diagnostics.filter { $0.id == .unknownName }
    #expect(unknown.count == 80)
    #expect(unknown.map { $0.message } == (0..<80).map { "unknown asset 'hots-\($0 + 1)'" })
    #expect(unknown.prefix(50).allSatisfy { $0.notes.first?.message.hasPrefix("did you mean") == true })
    #expect(unknown.dropFirst(50).allSatisfy { $0.notes.isEmpty })
    #expect(policy.rules.count == 160)
    for (index, conduit) in policy.conduits.enumerated() {
      #expect(conduit.rules.count == 2)
      for rule in conduit.rules { #expect(policy.rules[rule].conduit == index) }
    }
    for (index, rule) in policy.rules.enumerated() {
      for flow in rule.flows { #expect(policy.flows[flow].rule == index) }
    }
    #expect(policy.flows.map(\.rule) == policy.flows.map(\.rule).sorted())
  }
}
