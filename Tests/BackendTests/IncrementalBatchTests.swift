import FirewallIR
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyTestSupport
import Testing

@testable import NftablesBackend

/// The difference batch of an incremental apply, without a kernel: identical artifacts give a difference that only
/// re-adds the identity, an edited port deletes and adds exactly its elements, and a changed set declaration or table
/// is no difference (a full replace).
@Suite struct IncrementalBatchTests {
  static func site(port: Int, extra: String = "") -> String {
    """
    site inc
    zone ops { level 3; security-level 2; network 10.30.0.0/16 }
    zone ctl { level 2; security-level 2; network 10.40.0.0/16 }
    gateway gw {
      interface eth1 ops
      interface eth2 ctl
    }
    conduit alpha {
      between ops and ctl
      security-level 2
      owner "ot"; justification "test"
      allow 10.30.0.1 -> 10.40.0.1 service tcp/\(port)
      allow 10.30.0.2 -> 10.40.0.1 service tcp/502
    \(extra)}

    """
  }

  static func batch(_ text: String) throws -> NftablesBatch {
    let checked = try checkPolicy(text: text)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(), diagnostics: &diagnostics)
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let identity = NftablesIdentity(
      ruleset, context: RenderContext(effectiveDate: "2026-11-28", compiler: "conduit tests"),
      policyDigest: String(repeating: "0", count: 64))
    return NetlinkLinearizer().batch(ruleset, names: names, identity: identity)
  }

  static func difference(_ old: NftablesBatch, _ new: NftablesBatch) -> IncrementalBatch? {
    if case .difference(let batch) = IncrementalBatch.between(old, new, generation: 7) { return batch }
    return nil
  }

  @Test func theSameArtifactGivesNoElementOrChainChange() throws {
    let old = try Self.batch(Self.site(port: 503))
    let difference = try #require(Self.difference(old, old))
    #expect(difference.elementsRemoved == 0 && difference.elementsAdded == 0 && difference.chainsReplaced == 0)
    try IncrementalBatch.validate(
      difference.bytes, table: difference.table, acknowledged: difference.acknowledgedSequences)
  }

  @Test func anEditedPortDeletesAndAddsExactlyItsElements() throws {
    let old = try Self.batch(Self.site(port: 503))
    let new = try Self.batch(Self.site(port: 504))
    let difference = try #require(Self.difference(old, new))
    #expect(difference.elementsRemoved == 1 && difference.elementsAdded == 1, "\(difference.elementsRemoved)")
    #expect(difference.chainsReplaced == 0)
    #expect(difference.table == "conduit_inc")
    try IncrementalBatch.validate(
      difference.bytes, table: difference.table, acknowledged: difference.acknowledgedSequences)
    #expect(throws: NetlinkBatchError.self) {
      try IncrementalBatch.validate(
        difference.bytes, table: "conduit_other", acknowledged: difference.acknowledgedSequences)
    }
  }

  @Test func anotherTableIsNoDifference() throws {
    let old = try Self.batch(Self.site(port: 503))
    let new = try Self.batch(Self.site(port: 503).replacingOccurrences(of: "site inc", with: "site other"))
    guard case .inexpressible(let reason) = IncrementalBatch.between(old, new, generation: nil) else {
      Issue.record("a renamed table was taken as a difference")
      return
    }
    #expect(reason.contains("changes name"), "\(reason)")
  }

  /// A set of `elements` laid out one after another behind a few bytes of something else, with their hashes.
  static func set(_ elements: [[UInt8]]) -> (SetEntry, [UInt8]) {
    var bytes: [UInt8] = [9, 9, 9]
    var set = SetEntry(name: "s", declaration: [], sequence: 1)
    for (ordinal, element) in elements.enumerated() {
      set.elements.append(ElementEntry(range: bytes.count..<(bytes.count + element.count), ordinal: ordinal))
      bytes += element + [7]
    }
    set.elementHashes = ElementDifference.hashes(of: set.elements, in: bytes)
    return (set, bytes)
  }

  @Test(arguments: 0..<40)
  func theElementDifferenceIsTheOneOfSetsOfTheirBytes(_ seed: Int) {
    var random = SeededGenerator(seed: UInt64(seed))
    // Few distinct values of a few lengths: elements repeat within a set and between the two.
    func elements() -> [[UInt8]] {
      (0..<Int.random(in: 0...60, using: &random)).map { _ in
        (0..<Int.random(in: 1...3, using: &random)).map { _ in UInt8.random(in: 0...3, using: &random) }
      }
    }
    let oldElements = elements()
    let newElements = elements()
    let (old, oldBytes) = Self.set(oldElements)
    let (new, newBytes) = Self.set(newElements)
    let difference = ElementDifference(old, in: oldBytes, new, in: newBytes)
    #expect(difference.deleted.map(\.ordinal) == oldElements.indices.filter { !newElements.contains(oldElements[$0]) })
    #expect(difference.inserted.map(\.ordinal) == newElements.indices.filter { !oldElements.contains(newElements[$0]) })
  }
}
