import FlowSpace
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

/// The baseline read while the policy is parsed is used only when the policy's baseline is at its path.
@Suite struct BaselinePrefetchTests {
  static let assets = "name,ip\nplc-1,10.40.0.10\n"
  static let other = "name,ip\nplc-9,10.40.0.99\n"

  @Test func theStatementIsFoundInThePolicyFile() throws {
    let directory = try PolicyDirectory([
      "site.conduit": "# baseline \"nope.csv\" in a comment\nsite s\n  baseline \"assets.csv\"\n",
      "assets.csv": Self.assets,
    ])
    #expect(
      PrefetchedBaseline.path(forPolicyAt: directory.path("site.conduit"), options: ResolveOptions())
        == directory.path("assets.csv"))
    #expect(
      PrefetchedBaseline.path(forPolicyAt: directory.path("site.conduit"), options: ResolveOptions(baselinePath: "x"))
        == "x")
    let included = try PolicyDirectory(["site.conduit": "site s\ninclude \"more.conduit\"\n"])
    #expect(PrefetchedBaseline.path(forPolicyAt: included.path("site.conduit"), options: ResolveOptions()) == nil)
  }

  @Test(arguments: [false, true])
  func theResultIsTheSameWithOrWithoutIt(prefetchTheRightFile: Bool) throws {
    let directory = try PolicyDirectory([
      "site.conduit": "site s\nbaseline \"assets.csv\"\n" + operationsAndControlZones,
      "assets.csv": Self.assets, "other.csv": Self.other,
    ])
    let prefetched = PrefetchedBaseline(
      path: directory.path(prefetchTheRightFile ? "assets.csv" : "other.csv"))
    var diagnostics = DiagnosticEngine()
    let files = try PolicyLoader.load(directory.path("site.conduit"), diagnostics: &diagnostics)
    let policy = try Resolver.resolve(
      files, options: ResolveOptions(prefetchedBaseline: prefetched), diagnostics: &diagnostics)
    #expect(diagnostics.diagnostics.isEmpty, "\(diagnostics.diagnostics.map(\.message))")
    #expect(policy.assets.map(\.name) == ["plc-1"])
    #expect((policy.baselineFile === prefetched.file) == prefetchTheRightFile)
  }
}
