import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

/// `query` against the kernel: for random policies and random probe tuples, the verdict of `Query.answer` equals
/// what packets sent through a gateway namespace loaded with the compiled ruleset observe, for both backends.
@Suite(.serialized) struct QueryDifferentialTests {
  struct Case: CustomTestStringConvertible, Sendable {
    var seed: UInt64
    var backend: LabBackend
    var testDescription: String { "seed \(seed) \(backend.rawValue)" }
  }

  static var cases: [Case] {
    get throws {
      try TestSeeds.seeds([0x5EED_0001, 0x5EED_0002, 0x5EED_0003, 0x5EED_0004]).flatMap { seed in
        LabBackend.allCases.map { Case(seed: seed, backend: $0) }
      }
    }
  }

  @Test(.kernelTests, arguments: try cases)
  func queryVerdictEqualsWhatPacketsObserve(_ testCase: Case) throws {
    let site = RandomSite(seed: testCase.seed)
    var random = SeededGenerator(seed: ~testCase.seed)
    let policy = try site.checkedPolicy()
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(policy, options: LoweringOptions(gateway: "gw"), diagnostics: &diagnostics)
    let gateway = try #require(policy.gateways.first)
    let world = LabWorld(policy: policy, gateway: gateway, ruleset: ruleset)

    let questions = site.questions(&random, count: 40, near: policy.flows)
    var planned: [(question: RandomSite.Question, probe: Probe, allowed: Bool)] = []
    for question in questions {
      let answer = try ask(policy, question)
      guard let probe = world.probe(question.source, question.destination, question.match) else { continue }
      planned.append((question, probe, answer.isAllowed))
    }
    #expect(planned.count >= 30)
    #expect(planned.contains { $0.allowed } && planned.contains { !$0.allowed })

    let lab = try NetworkLab(interfaces: world.interfaces())
    defer { lab.close() }
    try lab.load(ruleset, through: testCase.backend, diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty)
    let results = try lab.probe(planned.map(\.probe))
    for (plan, result) in zip(planned, results) {
      #expect(
        result.reached == plan.allowed,
        "query says \(plan.allowed ? "allowed" : "denied") for \(plan.question.text), packets \(result.reached ? "arrived" : "did not") — \(result.detail)\n\(site.text)"
      )
    }
  }

  /// Asks the question as `conduit query` does: endpoints and items parsed with the policy's parser.
  func ask(_ policy: Policy, _ question: RandomSite.Question) throws -> QueryAnswer {
    var diagnostics = DiagnosticEngine()
    var parser = Parser(SourceFile(path: "--service", text: question.service))
    let parsed = parser.parseServiceItemList()
    let parsedItems = try #require(parsed)
    let answer = try Query.answer(
      policy, from: AddressSet(question.source), to: AddressSet(question.destination),
      items: policy.matches(of: parsedItems, diagnostics: &diagnostics), mitigations: [], diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.allSatisfy { $0.severity != .error }, "\(diagnostics.diagnostics)")
    return answer
  }
}

/// The site's policy, checked, and questions about it.
extension RandomSite {
  func checkedPolicy() throws -> Policy {
    let checked = try checkPolicy(text: text)
    #expect(!checked.hasErrors, "\(checked.diagnostics.filter { $0.severity == .error }.map(\.message))\n\(text)")
    return checked.policy
  }

  struct Question {
    var source: IPAddress
    var destination: IPAddress
    var service: String
    var match: (MatchKind, UInt16)
    var text: String { "\(source) -> \(destination) \(service)" }
  }

  /// Random probe tuples between hosts of different zones: TCP and UDP to assorted ports, and ping. Half are drawn
  /// near a random flow of the policy (its hosts, a port of it or next to it), so both verdicts are well sampled.
  func questions(_ random: inout SeededGenerator, count: Int, near flows: [Flow]) -> [Question] {
    var result: [Question] = []
    let addresses = assets.flatMap { asset in asset.addresses.map { (address: $0, zone: asset.zone) } }
    while result.count < count {
      var source = addresses.randomElement(using: &random)!
      var destinations = addresses.filter { $0.zone != source.zone && $0.address.family == source.address.family }
      var ports = Self.probePorts
      if Bool.random(using: &random), let flow = flows.randomElement(using: &random) {
        guard let inFlow = addresses.filter({ flow.sources.contains($0.address) }).randomElement(using: &random)
        else { continue }
        source = inFlow
        destinations = addresses.filter { flow.destinations.contains($0.address) }
        if case .ports(_, let selectors) = flow.match, let port = selectors.ranges.first?.upperBound {
          ports = [port, port &+ 1]
        }
      }
      guard let destination = destinations.randomElement(using: &random)?.address else { continue }
      let port = ports.randomElement(using: &random)!
      let (service, match): (String, (MatchKind, UInt16)) =
        switch Int.random(in: 0..<5, using: &random) {
        case 0: ("ping", source.address.family == .ipv4 ? (.icmp, 8) : (.icmpv6, 128))
        case 1, 2: ("udp/\(port)", (.udp, port))
        default: ("tcp/\(port)", (.tcp, port))
        }
      result.append(Question(source: source.address, destination: destination, service: service, match: match))
    }
    return result
  }
}
