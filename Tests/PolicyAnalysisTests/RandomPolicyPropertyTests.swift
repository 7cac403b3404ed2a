import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

/// Properties of `query` and `diff` on random small policies (the generator of the kernel's differential test).
@Suite struct RandomPolicyPropertyTests {
  /// The points probed: every pair of hosts of one family, on these protocols and selectors.
  static let selectors: [(MatchKind, UInt16)] =
    RandomSite.probePorts.map { (.tcp, $0) } + [161, 162, 2222].map { (.udp, $0) } + [
      (.icmp, 8), (.icmpv6, 128),
    ]

  static func allows(_ policy: Policy, _ source: IPAddress, _ destination: IPAddress, _ match: (MatchKind, UInt16))
    -> Bool
  {
    policy.flows.contains { flow in
      let (kind, selectors) = MatchKind.of(flow.match)
      return kind == match.0 && selectors.contains(match.1) && flow.sources.contains(source)
        && flow.destinations.contains(destination)
    }
  }

  static func service(_ match: (MatchKind, UInt16)) -> String {
    switch match.0 {
    case .icmp, .icmpv6: "ping"
    default: "\(match.0)/\(match.1)"
    }
  }

  static func hostPairs(_ site: RandomSite) -> [(IPAddress, IPAddress)] {
    let hosts = site.assets.flatMap(\.addresses)
    return hosts.flatMap { source in
      hosts.filter { $0.family == source.family && $0 != source }.map { (source, $0) }
    }
  }

  @Test(arguments: try TestSeeds.seeds(Array(1...6)))
  func queryAgreesWithMembershipInTheFlowSet(seed: UInt64) throws {
    let site = RandomSite(seed: seed)
    let policy = try DiffTests.policy(site.text)
    var random = SeededGenerator(seed: seed &* 31)
    let points = Self.hostPairs(site).flatMap { pair in
      Self.selectors.filter { $0.0 != (pair.0.family == .ipv4 ? .icmpv6 : .icmp) }.map { (pair.0, pair.1, $0) }
    }
    let allowedPoints = points.filter { Self.allows(policy, $0.0, $0.1, $0.2) }
    let deniedPoints = points.filter { !Self.allows(policy, $0.0, $0.1, $0.2) }
    #expect(!allowedPoints.isEmpty && !deniedPoints.isEmpty, "\(site.text)")
    let sample = allowedPoints.shuffled(using: &random).prefix(30) + deniedPoints.shuffled(using: &random).prefix(30)
    for (source, destination, match) in sample {
      var diagnostics = DiagnosticEngine()
      var parser = Parser(SourceFile(path: "--service", text: Self.service(match)))
      let parsed = parser.parseServiceItemList()
      let items = policy.matches(of: try #require(parsed), diagnostics: &diagnostics)
      let answer = try Query.answer(
        policy, from: AddressSet(source), to: AddressSet(destination), items: items, diagnostics: &diagnostics)
      let expected = Self.allows(policy, source, destination, match)
      #expect(answer.isAllowed == expected, "\(source) -> \(destination) \(Self.service(match))\n\(site.text)")
    }
  }

  @Test(arguments: try TestSeeds.seeds(Array(1...6)))
  func diffIsExactSymmetricAndTurnsTheOldPolicyIntoTheNew(seed: UInt64) throws {
    var layout = SeededGenerator(seed: seed)
    var oldConduits = SeededGenerator(seed: seed &+ 100)
    let oldSite = RandomSite(layout: &layout, conduits: &oldConduits)
    layout = SeededGenerator(seed: seed)
    var newConduits = SeededGenerator(seed: seed &+ 200)
    let newSite = RandomSite(layout: &layout, conduits: &newConduits)
    let old = try DiffTests.policy(oldSite.text)
    let new = try DiffTests.policy(newSite.text)
    var diagnostics = DiagnosticEngine()
    #expect(try Diff.between(old, old, diagnostics: &diagnostics).isEmpty)
    let forward = try Diff.between(old, new, diagnostics: &diagnostics)
    let backward = try Diff.between(new, old, diagnostics: &diagnostics)
    var changed = 0
    for (source, destination) in Self.hostPairs(oldSite) {
      for match in Self.selectors {
        let before = Self.allows(old, source, destination, match)
        let after = Self.allows(new, source, destination, match)
        let added = DiffTests.contains(forward.added, source, destination, match.0, match.1)
        let removed = DiffTests.contains(forward.removed, source, destination, match.0, match.1)
        let point = "\(source) -> \(destination) \(match.0)/\(match.1)"
        #expect(after == ((before && !removed) || added), "\(point)\n\(oldSite.text)\n\(newSite.text)")
        #expect(added == (after && !before) && removed == (before && !after), "\(point)")
        #expect(added == DiffTests.contains(backward.removed, source, destination, match.0, match.1), "\(point)")
        #expect(removed == DiffTests.contains(backward.added, source, destination, match.0, match.1), "\(point)")
        if added || removed { changed += 1 }
      }
    }
    #expect(changed > 0)
  }
}
