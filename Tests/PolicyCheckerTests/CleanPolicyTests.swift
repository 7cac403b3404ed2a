import PolicyChecker
import PolicyLanguage
import Testing

@Suite("The clean policy")
struct CleanPolicyTests {
  @Test("produces no findings at all")
  func noFindings() throws {
    let checked = try checkFiles(cleanFiles)
    #expect(checked.diagnostics.isEmpty, "unexpected findings:\n\(describe(checked.diagnostics))")
    #expect(!checked.hasErrors)
    #expect(!checked.hasWarnings)
  }

  @Test("resolves every zone, asset, conduit and rule it declares")
  func resolvesEverything() throws {
    let policy = try checkFiles(cleanFiles).policy
    #expect(policy.zones.map(\.name) == ["enterprise", "idmz", "operations", "control"])
    #expect(policy.assets.count == 9)
    #expect(policy.conduits.map { $0.rules.count } == [1, 2, 4])
    #expect(policy.gateways.map { $0.management.count } == [1])
    #expect(policy.mitigations.map(\.name) == ["isolate-plc-2"])
    #expect(!policy.flows.isEmpty)
  }

  @Test("stays quiet for each check", arguments: CheckID.allCases)
  func quiet(_ id: CheckID) throws {
    let findings = try checkFiles(cleanFiles).diagnostics.filter { $0.id == id }
    #expect(findings.isEmpty, "[\(id)] fires on the clean policy:\n\(describe(findings))")
  }
}
