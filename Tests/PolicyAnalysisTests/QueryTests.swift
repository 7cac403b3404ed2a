import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

@Suite struct QueryTests {
  static let policy =
    "site q\n" + TestSites.operationsAndControl + """
      zone ent {
        level 4; security-level 1
        network 10.10.0.0/16
      }
      asset office { address 10.10.0.5 }
      conduit ops-ctl {
        between ops and ctl
        security-level 3; owner "ot"; justification "polling"
        allow role hmi -> plc-1, plc-2 service modbus
        allow eng-1 -> plc-* service s7comm, ssh log
      }
      mitigation cut-plc-2 {
        reason "incident"
        isolate plc-2
      }
      mitigation hmi-1-no-writes {
        reason "hmi-1 compromised"
        revoke service modbus from hmi-1 to plc-2
        revoke service ssh from eng-1
      }

      """

  final class Site {
    let policy: Policy

    init() throws {
      let checked = try checkPolicy(text: QueryTests.policy)
      #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
      policy = checked.policy
    }

    func ask(_ from: String, _ to: String, _ service: String?, mitigations: [String] = []) throws -> QueryAnswer {
      var diagnostics = DiagnosticEngine()
      func endpoints(_ text: String) throws -> AddressSet {
        var parser = Parser(SourceFile(path: "q", text: text))
        let parsed = parser.parseEndpointList()
        let addresses = parsed.flatMap { policy.addresses(of: $0, diagnostics: &diagnostics) }
        return try #require(addresses)
      }
      var items: [ResolvedItem]?
      if let service {
        var parser = Parser(SourceFile(path: "s", text: service))
        let parsed = parser.parseServiceItemList()
        items = policy.matches(of: try #require(parsed), diagnostics: &diagnostics)
      }
      return try Query.answer(
        policy, from: try endpoints(from), to: try endpoints(to), items: items, mitigations: mitigations,
        diagnostics: &diagnostics)
    }
  }

  @Test func allowedTrafficNamesItsRule() throws {
    let answer = try Site().ask("hmi-2", "plc-1", "modbus")
    #expect(answer.isAllowed)
    #expect(answer.allowed.count == 1)
    let rule = answer.rules[try #require(answer.allowed.first?.rules.first)]
    #expect(rule.conduit == "ops-ctl")
    #expect(rule.range.startLocation.line == 23)
  }

  @Test func partlyAllowedSaysWhichPartAndWhatTheConduitOffers() throws {
    let answer = try Site().ask("hmi-1", "plc-1", "modbus, tcp/503")
    #expect(!answer.isAllowed)
    #expect(answer.allowed.map { Query.describe($0.kind, $0.selectors) } == ["tcp/502", "tcp/502"])
    #expect(answer.denied.map { Query.describe($0.kind, $0.selectors) } == ["tcp/503", "tcp/503"])
    #expect(answer.reasons == ["conduit 'ops-ctl' allows from 'ops' to 'ctl' between these endpoints: tcp/502"])
  }

  @Test func noConduitIsTheReason() throws {
    let answer = try Site().ask("office", "plc-1", "modbus")
    #expect(answer.allowed.isEmpty)
    #expect(answer.reasons == ["no conduit joins zone 'ent' and zone 'ctl'"])
  }

  @Test func withoutServiceEveryAllowedItemIsListed() throws {
    let answer = try Site().ask("eng-1", "plc-2", nil)
    #expect(answer.isAllowed)
    #expect(Set(answer.allowed.map { Query.describe($0.kind, $0.selectors) }) == ["tcp/22", "tcp/102"])
  }

  @Test func mitigationsChangeTheAnswer() throws {
    let site = try Site()
    #expect(try site.ask("hmi-1", "plc-2", "modbus").isAllowed)
    let cut = try site.ask("hmi-1", "plc-2", "modbus", mitigations: ["cut-plc-2"])
    #expect(!cut.isAllowed)
    #expect(cut.reasons.first == "mitigation 'cut-plc-2' isolates some of these addresses")
    #expect(cut.reasons.dropFirst().first?.hasPrefix("without mitigations, allowed by ") == true)
    #expect(cut.reasons.dropFirst().first?.hasSuffix("site.conduit:23") == true)
    #expect(try site.ask("hmi-1", "plc-1", "modbus", mitigations: ["cut-plc-2"]).reasons.isEmpty)
  }

  /// Questions under `hmi-1-no-writes`, with whether they are allowed and the reason naming the mitigation (nil:
  /// no reason names it).
  @Test(
    arguments: [
      ("hmi-1", "plc-2", "modbus", false, "revokes services from some of these sources to some of these destinations"),
      (
        "role hmi", "plc-2", "modbus", false,
        "revokes services from some of these sources to some of these destinations"
      ),
      ("hmi-1", "plc-1", "modbus", true, nil),
      ("hmi-2", "plc-2", "modbus", true, nil),
      ("hmi-2", "plc-2", "modbus, tcp/503", false, nil),
      ("eng-1", "plc-*", "ssh", false, "revokes services from some of these sources"),
      ("eng-1", "plc-1", "s7comm", true, nil),
    ] as [(String, String, String, Bool, String?)])
  func aRevokeFromIsAReasonOnlyForItsSources(
    from: String, to: String, service: String, allowed: Bool, reason: String?
  ) throws {
    let answer = try Site().ask(from, to, service, mitigations: ["hmi-1-no-writes"])
    #expect(answer.isAllowed == allowed)
    let named = answer.reasons.filter { $0.hasPrefix("mitigation 'hmi-1-no-writes'") }
    #expect(named == (reason.map { ["mitigation 'hmi-1-no-writes' \($0)"] } ?? []), "\(answer.reasons)")
  }

  /// Every host pair and port, without a packet: under `hmi-1-no-writes` a flow is allowed exactly when the policy's
  /// flows allow it and no revoke of the mitigation names its source, destination and port.
  @Test func answersUnderARevokeFromAgreeWithTheFlowSetMinusTheRevokedFlows() throws {
    let site = try Site()
    let hosts = site.policy.assets.flatMap(\.addresses)
    let hmi1 = Set(site.policy.assets.filter { $0.name == "hmi-1" }.flatMap(\.addresses))
    let plc2 = Set(site.policy.assets.filter { $0.name == "plc-2" }.flatMap(\.addresses))
    let eng1 = Set(site.policy.assets.filter { $0.name == "eng-1" }.flatMap(\.addresses))
    var asked = 0
    for source in hosts {
      for destination in hosts where source.family == destination.family && source != destination {
        for port: UInt16 in [22, 102, 502] {
          let inFlows = site.policy.flows.contains { flow in
            guard case .ports(.tcp, let allowed) = flow.match else { return false }
            return flow.sources.contains(source) && flow.destinations.contains(destination) && allowed.contains(port)
          }
          let revoked =
            (port == 502 && hmi1.contains(source) && plc2.contains(destination))
            || (port == 22 && eng1.contains(source))
          let answer = try site.ask(
            "\(source)", "\(destination)", "tcp/\(port)", mitigations: ["hmi-1-no-writes"])
          #expect(answer.isAllowed == (inFlows && !revoked), "\(source) -> \(destination) tcp/\(port)")
          asked += 1
        }
      }
    }
    #expect(asked > 50)
  }

  /// Random tuples: the answer agrees with membership in the resolver's flow set.
  @Test(arguments: try TestSeeds.seeds([1, 2, 3]))
  func answersAgreeWithTheFlowSet(seed: UInt64) throws {
    let site = try Site()
    var random = seed &* 0x9E37_79B9_7F4A_7C15
    func next(_ bound: Int) -> Int {
      random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(random >> 33) % bound
    }
    let hosts = site.policy.assets.flatMap(\.addresses)
    let ports: [UInt16] = [22, 80, 102, 502, 503]
    for _ in 0..<40 {
      let source = hosts[next(hosts.count)]
      let destination = hosts[next(hosts.count)]
      let port = ports[next(ports.count)]
      guard source.family == destination.family else { continue }
      let expected = site.policy.flows.contains { flow in
        guard case .ports(.tcp, let allowed) = flow.match else { return false }
        return flow.sources.contains(source) && flow.destinations.contains(destination) && allowed.contains(port)
      }
      let answer = try site.ask("\(source)", "\(destination)", "tcp/\(port)")
      #expect(answer.isAllowed == expected, "\(source) -> \(destination) tcp/\(port)")
    }
  }
}
