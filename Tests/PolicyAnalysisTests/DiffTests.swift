import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

@Suite struct DiffTests {
  static func policy(_ text: String) throws -> Policy {
    let checked = try checkPolicy(text: text)
    #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
    return checked.policy
  }

  static let before = QueryTests.policy
  static let after = QueryTests.policy
    .replacingOccurrences(
      of: "allow role hmi -> plc-1, plc-2 service modbus", with: "allow role hmi -> plc-1 service modbus, tcp/503"
    )
    .replacingOccurrences(
      of: "allow eng-1 -> plc-* service s7comm, ssh log", with: "allow eng-1 -> plc-* service s7comm, ssh, ping log")

  static func difference(_ old: String, _ new: String) throws -> PolicyDifference {
    var diagnostics = DiagnosticEngine()
    return try Diff.between(try policy(old), try policy(new), diagnostics: &diagnostics)
  }

  static func contains(
    _ parts: [DiffPart], _ source: IPAddress, _ destination: IPAddress, _ kind: MatchKind, _ selector: UInt16
  )
    -> Bool
  {
    parts.contains { part in
      part.kind == kind && part.selectors.contains(selector) && part.sources.first <= source
        && source <= part.sources.last && part.destinations.first <= destination
        && destination <= part.destinations.last
    }
  }

  @Test func aPolicyDiffersFromItselfInNothing() throws {
    #expect(try Self.difference(Self.before, Self.before).isEmpty)
  }

  @Test func swappingThePoliciesSwapsAddedAndRemoved() throws {
    let forward = try Self.difference(Self.before, Self.after)
    let backward = try Self.difference(Self.after, Self.before)
    #expect(!forward.isEmpty)
    #expect(Set(forward.added.map(\.sources)) == Set(backward.removed.map(\.sources)))
    #expect(forward.added.count == backward.removed.count)
    #expect(forward.removed.count == backward.added.count)
    #expect(Set(forward.added.map { Query.describe($0.kind, $0.selectors) }) == ["tcp/503", "icmp/8"])
  }

  /// The new policy allows a flow exactly when the old one did and the diff does not remove it, or the diff adds it.
  @Test func applyingTheDifferenceToTheOldPolicyGivesTheNew() throws {
    let old = try Self.policy(Self.before)
    let new = try Self.policy(Self.after)
    var diagnostics = DiagnosticEngine()
    let difference = try Diff.between(old, new, diagnostics: &diagnostics)
    func allows(_ policy: Policy, _ source: IPAddress, _ destination: IPAddress, _ kind: MatchKind, _ selector: UInt16)
      -> Bool
    {
      policy.flows.contains { flow in
        let (flowKind, selectors) = MatchKind.of(flow.match)
        return flowKind == kind && selectors.contains(selector) && flow.sources.contains(source)
          && flow.destinations.contains(destination)
      }
    }
    let hosts = old.assets.flatMap(\.addresses)
    let probes: [(MatchKind, UInt16)] = [
      (.tcp, 22), (.tcp, 102), (.tcp, 502), (.tcp, 503), (.icmp, 8),
      (.icmpv6, 128),
    ]
    var checked = 0
    for source in hosts {
      for destination in hosts where source.family == destination.family {
        for (kind, selector) in probes {
          let before = allows(old, source, destination, kind, selector)
          let after = allows(new, source, destination, kind, selector)
          let added = Self.contains(difference.added, source, destination, kind, selector)
          let removed = Self.contains(difference.removed, source, destination, kind, selector)
          #expect(after == ((before && !removed) || added), "\(source) -> \(destination) \(kind)/\(selector)")
          #expect(!(added && removed))
          checked += 1
        }
      }
    }
    #expect(checked > 100)
  }

  @Test func partsNameTheirConduitAndRules() throws {
    let difference = try Self.difference(Self.before, Self.after)
    let added = try #require(difference.added.first { $0.kind == .tcp })
    #expect(added.conduit == "ops-ctl")
    #expect(added.rules.first?.range.startLocation.line == 23)
    let removed = try #require(difference.removed.first)
    #expect(Query.describe(removed.kind, removed.selectors) == "tcp/502")
    #expect(removed.destinations.description == "10.40.0.11")
  }

  /// A policy against itself with mitigations active in the new one: exactly the flows they cut are removed.
  @Test(arguments: [
    (["hmi-1-no-writes"], ["10.30.0.31 > 10.40.0.11 tcp/502", "10.30.0.40 > 10.40.0.10/31 tcp/22"]),
    (
      ["cut-plc-2"],
      [
        "10.30.0.31-10.30.0.32 > 10.40.0.11 tcp/502", "10.30.0.40 > 10.40.0.11 tcp/102",
        "10.30.0.40 > 10.40.0.11 tcp/22",
      ]
    ),
    (
      ["cut-plc-2", "hmi-1-no-writes"],
      [
        "10.30.0.31-10.30.0.32 > 10.40.0.11 tcp/502", "10.30.0.40 > 10.40.0.10 tcp/22",
        "10.30.0.40 > 10.40.0.11 tcp/102", "10.30.0.40 > 10.40.0.11 tcp/22",
      ]
    ),
  ])
  func mitigationsInTheNewPolicyRemoveExactlyWhatTheyCut(mitigations: [String], removed: [String]) throws {
    let policy = try Self.policy(Self.before)
    var diagnostics = DiagnosticEngine()
    let difference = try Diff.between(policy, policy, mitigations: mitigations, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    #expect(difference.added.isEmpty)
    #expect(difference.mitigations == mitigations)
    #expect(
      difference.removed.map { "\($0.sources) > \($0.destinations) \(Query.describe($0.kind, $0.selectors))" }.sorted()
        == removed)
    #expect(difference.removed.allSatisfy { $0.conduit == "ops-ctl" && !$0.rules.isEmpty })
    var unmitigated = DiagnosticEngine()
    #expect(try Diff.between(policy, policy, diagnostics: &unmitigated).isEmpty)
  }

  @Test func aMitigationsOwnAllowIsAddedAndAConflictIsReported() throws {
    let text =
      Self.before + """
        mitigation reopen {
          reason "conflicts with cut-plc-2"
          allow eng-1 -> plc-2 service tcp/8080
        }

        """
    let policy = try Self.policy(text)
    var diagnostics = DiagnosticEngine()
    let reopened = try Diff.between(policy, policy, mitigations: ["reopen"], diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    #expect(reopened.removed.isEmpty)
    #expect(reopened.added.map { Query.describe($0.kind, $0.selectors) } == ["tcp/8080"])
    #expect(reopened.added.first?.rules.first?.mitigation == "reopen")
    _ = try Diff.between(policy, policy, mitigations: ["cut-plc-2", "reopen"], diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.map(\.id) == [.mitigationConflict])
    #expect(throws: LoweringError.self) {
      var ignored = DiagnosticEngine()
      _ = try Diff.between(policy, policy, mitigations: ["nope"], diagnostics: &ignored)
    }
  }
}
