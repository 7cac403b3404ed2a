import Testing

@testable import PolicyLanguage
@testable import PolicyModel

/// Service definitions are expanded on an explicit stack, nest at most `Resolver.serviceNestingLimit` levels, and
/// keep an item reached twice through the same port literal once.
@Suite struct ServiceNestingTests {
  /// `service s1 tcp/502` and `service sN sN-1` up to `depth`.
  static func chain(_ depth: Int) -> String {
    var text = "service s1 tcp/502\n"
    for index in stride(from: 2, through: depth, by: 1) { text += "service s\(index) s\(index - 1)\n" }
    return text
  }

  @Test func aChainAsDeepAsTheLimitResolves() throws {
    let limit = Resolver.serviceNestingLimit
    let directory = try PolicyDirectory(["site.conduit": Self.chain(limit)])
    let (policy, diagnostics) = try directory.resolve()
    #expect(diagnostics.filter { $0.severity == .error }.isEmpty, "\(diagnostics.map(\.message))")
    let deepest = try #require(policy.services["s\(limit)"])
    #expect(deepest.items.count == 1)
    #expect(deepest.items[0].viaServices == (1...limit).reversed().map { "s\($0)" })
  }

  @Test func oneLevelMoreIsOneErrorAtTheReferenceAndWhatIsBuiltOnItStaysEmpty() throws {
    let limit = Resolver.serviceNestingLimit
    let directory = try PolicyDirectory(["site.conduit": Self.chain(limit + 5)])
    let (policy, diagnostics) = try directory.resolve()
    let errors = diagnostics.filter { $0.severity == .error }
    #expect(errors.map(\.id) == [.badValue])
    #expect(
      errors.first?.message
        == "service 's\(limit + 1)' would be built from services \(limit + 1) levels deep through 's\(limit)'; "
        + "at most \(limit) levels are allowed")
    #expect(errors.first?.range?.startLocation == SourceLocation(line: limit + 1, column: 11 + "\(limit + 1)".count))
    #expect(policy.services["s\(limit)"]?.items.count == 1)
    #expect(policy.services["s\(limit + 1)"]?.items.isEmpty == true)
    #expect(policy.services["s\(limit + 5)"]?.items.isEmpty == true)
  }

  @Test func servicesBuiltFromTwoCopiesOfTheOneBelowStayAsSmall() throws {
    var text = "service s0 tcp/502, udp/502\n"
    for index in 1...40 { text += "service s\(index) s\(index - 1), s\(index - 1)\n" }
    let directory = try PolicyDirectory(["site.conduit": text])
    let (policy, diagnostics) = try directory.resolve()
    #expect(diagnostics.filter { $0.severity == .error }.isEmpty)
    #expect(policy.services["s40"]?.items.count == 2)
  }

  @Test func aCycleIsReportedOnceAtTheServiceThatClosesIt() throws {
    let directory = try PolicyDirectory(["site.conduit": "service a b, tcp/1\nservice b c\nservice c a, tcp/2\n"])
    let (policy, diagnostics) = try directory.resolve()
    #expect(diagnostics.map(\.id) == [.serviceCycle])
    #expect(diagnostics.first?.message == "service 'a' is defined through itself: a -> b -> c -> a")
    #expect(diagnostics.first?.range?.startLocation == SourceLocation(line: 1, column: 9))
    #expect(policy.services["a"]?.items.map(\.match.description).sorted() == ["tcp/1", "tcp/2"])
  }
}
