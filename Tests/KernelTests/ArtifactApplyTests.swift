import FirewallIR
import FlowSpace
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyModel
import PolicyTestSupport
import Testing

@testable import NftablesBackend

/// `conduit apply` of the nft artifact: the same ruleset as the nft-text backend, one transaction, only conduit's
/// table, and nothing sent when the artifact is damaged or its interfaces are missing.
@Suite(.serialized) struct ArtifactApplyTests {
  static var cases: [SamplePacketTests.Case] {
    get throws { try SamplePacketTests.cases.filter { $0.backend == .nftables } }
  }

  /// The lowered ruleset of a sample gateway.
  static func compiledRuleset(_ testCase: SamplePacketTests.Case) throws -> Ruleset {
    let checked = try SamplePacketTests.checked(testCase.policy)
    var diagnostics = DiagnosticEngine()
    return try Lowering.lower(
      checked.policy, options: LoweringOptions(gateway: testCase.gateway), diagnostics: &diagnostics)
  }

  /// The nft text and the artifact of a sample gateway's lowered ruleset.
  static func compiled(_ testCase: SamplePacketTests.Case) throws -> (text: String, artifact: NftablesArtifact) {
    let ruleset = try compiledRuleset(testCase)
    var diagnostics = DiagnosticEngine()
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let artifact = try NftablesArtifact.compiled(ruleset, names: names)
    return (
      NftablesTextRenderer().render(ruleset, names: names, identity: NftablesArtifact.testIdentity(ruleset)), artifact
    )
  }

  final class ArtifactFile {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-\(UUID().uuidString).nftb")
    init(_ bytes: [UInt8]) throws { try Data(bytes).write(to: url) }
    deinit { try? FileManager.default.removeItem(at: url) }
  }

  static func lab(for testCase: SamplePacketTests.Case) throws -> NetworkLab {
    let interfaces = try compiled(testCase).artifact.interfaces
    return try NetworkLab(interfaces: interfaces.enumerated().map { LabInterface($1, hosts: ["192.0.2.\($0 + 1)"]) })
  }

  static func apply(_ bytes: [UInt8], in lab: NetworkLab, _ extra: [String] = []) throws -> CommandOutput {
    let file = try ArtifactFile(bytes)
    return try ConduitExecutable.run(["apply", file.url.path, "--netns", lab.gatewayNamespace] + extra)
  }

  @Test(.kernelTests, arguments: try cases)
  func appliedArtifactListsExactlyLikeTheTextBackend(_ testCase: SamplePacketTests.Case) throws {
    let (text, artifact) = try Self.compiled(testCase)
    let byText = try Self.lab(for: testCase)
    defer { byText.close() }
    try byText.loadNftables(script: text)
    let byArtifact = try Self.lab(for: testCase)
    defer { byArtifact.close() }
    let result = try Self.apply(artifact.encoded(), in: byArtifact)
    #expect(result.status == 0, "\(result.standardError)")
    #expect(try byArtifact.nftListRulesetWithSortedElements() == byText.nftListRulesetWithSortedElements())
  }

  /// A conduit of `count` host-to-host rules, each its own element of the flow map.
  static func manyRulesSite(count: Int) -> String {
    var text = """
      zone ops { level 3; security-level 2; network 10.30.0.0/16 }
      zone ctl { level 1; security-level 2; network 10.40.0.0/16 }
      gateway gw {
        interface o ops
        interface c ctl
      }
      conduit ops-ctl {
        between ops and ctl
        security-level 2

      """
    for rule in 0..<count {
      text += "  allow 10.30.\(rule / 200).\(rule % 200 + 1) -> 10.40.\(rule % 50).\(rule / 50 % 200 + 1)"
      text += " service tcp/\(1024 + rule * 2)\n"
    }
    return text + "}\n"
  }

  @Test(.kernelTests) func aMapOfSeveralGroupsOfElementMessagesListsLikeTheTextBackend() throws {
    let count = NetlinkBatchWriter.elementsPerChunk * 2 + 100
    let checked = try checkPolicy(text: Self.manyRulesSite(count: count))
    #expect(!checked.hasErrors, "\(checked.diagnostics)")
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(), diagnostics: &diagnostics)
    #expect(ruleset.elements.count == count)
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    let artifact = try NftablesArtifact.compiled(ruleset, names: names)
    let interfaces = artifact.interfaces.enumerated().map { LabInterface($1, hosts: ["192.0.2.\($0 + 1)"]) }
    let byText = try NetworkLab(interfaces: interfaces)
    defer { byText.close() }
    try byText.loadNftables(
      script: NftablesTextRenderer().render(ruleset, names: names, identity: NftablesArtifact.testIdentity(ruleset)))
    let byArtifact = try NetworkLab(interfaces: interfaces)
    defer { byArtifact.close() }
    let result = try Self.apply(artifact.encoded(), in: byArtifact)
    #expect(result.status == 0, "\(result.standardError)")
    let listed = try byArtifact.nftListRulesetWithSortedElements()
    #expect(listed == (try byText.nftListRulesetWithSortedElements()))
    #expect(listed.components(separatedBy: ": jump ").count - 1 == count)
  }

  @Test(.kernelTests) func applyingTwiceEqualsOnceAndOtherTablesSurvive() throws {
    let testCase = try #require(try Self.cases.first)
    let (_, artifact) = try Self.compiled(testCase)
    let lab = try Self.lab(for: testCase)
    defer { lab.close() }
    try lab.loadNftables(script: "table ip keep_me {\n  chain c {\n    counter\n  }\n}\n")
    let foreign = try lab.runInGateway("nft", ["list", "table", "ip", "keep_me"]).standardOutput
    #expect(foreign.contains("chain c"))
    #expect(try Self.apply(artifact.encoded(), in: lab).status == 0)
    let once = try lab.nftListRulesetWithSortedElements()
    #expect(try Self.apply(artifact.encoded(), in: lab).status == 0)
    #expect(try lab.nftListRulesetWithSortedElements() == once)
    #expect(try lab.runInGateway("nft", ["list", "table", "ip", "keep_me"]).standardOutput == foreign)
  }

  @Test(.kernelTests) func aBatchThatFailsMidwayChangesNothing() throws {
    let testCase = try #require(try Self.cases.first)
    let (_, artifact) = try Self.compiled(testCase)
    let lab = try Self.lab(for: testCase)
    defer { lab.close() }
    #expect(try Self.apply(artifact.encoded(), in: lab).status == 0)
    let before = try lab.nftListRulesetWithSortedElements()

    var payload = artifact.batch.bytes
    let chainName = Array("forward".utf8) + [0]
    let broken = Array("forwarX".utf8) + [0]
    let position = try #require(Self.lastRange(of: chainName, in: payload))
    payload.replaceSubrange(position, with: broken)
    let damaged = try NftablesArtifact(
      batch: NftablesBatch(bytes: payload, origins: artifact.batch.origins), flowTable: artifact.flowTable,
      compiler: "conduit tests", site: artifact.header.site, gateway: artifact.header.gateway, mitigations: [],
      effectiveDate: artifact.header.effectiveDate, policyDigest: artifact.header.policyDigest, sources: [])
    let result = try Self.apply(damaged.encoded(), in: lab)
    #expect(result.status == 1)
    #expect(result.standardError.contains("the kernel rejected message"))
    #expect(result.standardError.contains("which comes from"), "\(result.standardError)")
    #expect(result.standardError.contains("nothing was changed"))
    #expect(try lab.nftListRulesetWithSortedElements() == before)
  }

  @Test(.kernelTests) func damagedOrForeignArtifactsAreRefusedBeforeAnythingIsSent() throws {
    let testCase = try #require(try Self.cases.first)
    let bytes = try Self.compiled(testCase).artifact.encoded()
    let lab = try Self.lab(for: testCase)
    defer { lab.close() }
    var variants: [[UInt8]] = [Array("#!/bin/sh\necho not an artifact\n".utf8), [], Array(bytes.prefix(7))]
    variants += stride(from: 8, to: bytes.count, by: max(1, bytes.count / 23)).map { Array(bytes.prefix($0)) }
    for position in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 31)) {
      var flipped = bytes
      flipped[position] ^= 0x5A
      variants.append(flipped)
    }
    var wrongVersion = bytes
    wrongVersion[NftablesArtifact.magic.count + 1] = 9
    variants.append(wrongVersion)
    for variant in variants {
      let result = try Self.apply(variant, in: lab)
      #expect(result.status == 2, "\(variant.count) bytes: \(result.standardError)")
    }
    #expect(try !lab.nftListRuleset().contains("conduit_"))
  }

  @Test(.kernelTests) func missingInterfacesAreRefusedUnlessForced() throws {
    let testCase = try #require(try Self.cases.first)
    let bytes = try Self.compiled(testCase).artifact.encoded()
    let lab = try NetworkLab(interfaces: [LabInterface("wrong0", hosts: ["192.0.2.1"])])
    defer { lab.close() }
    let refused = try Self.apply(bytes, in: lab)
    #expect(refused.status == 2)
    #expect(refused.standardError.contains("do not exist here; nothing was applied"))
    #expect(try !lab.nftListRuleset().contains("conduit_"))
    let forced = try Self.apply(bytes, in: lab, ["--force"])
    #expect(forced.status == 0, "\(forced.standardError)")
    #expect(try lab.nftListRuleset().contains("conduit_"))
  }

  @Test(.kernelTests) func noSuchNamespaceIsExitTwo() throws {
    let testCase = try #require(try Self.cases.first)
    let file = try ArtifactFile(try Self.compiled(testCase).artifact.encoded())
    let result = try ConduitExecutable.run(["apply", file.url.path, "--netns", "cdt-does-not-exist"])
    #expect(result.status == 2)
    #expect(result.standardError.contains("no network namespace 'cdt-does-not-exist'"))
  }

  /// Runs `conduit apply` as `nobody` from a fresh world-readable directory holding copies of the executable and the
  /// artifact, so that it does not depend on whether `nobody` may read the checkout (a clone under /root may not).
  @Test(.kernelTests) func withoutPermissionNothingIsAppliedAndTheMessageSaysWhy() throws {
    let testCase = try #require(try Self.cases.first)
    let directory = try WorldReadableDirectory()
    defer { directory.remove() }
    let executable = directory.url.appendingPathComponent("conduit")
    try FileManager.default.copyItem(at: ConduitExecutable.url, to: executable)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
    let artifact = directory.url.appendingPathComponent("artifact.nftb")
    try Data(try Self.compiled(testCase).artifact.encoded()).write(to: artifact)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: artifact.path)
    let command = "cd '\(directory.url.path)' && ./conduit apply artifact.nftb --force"
    let result = try Command.run("/usr/sbin/runuser", ["-u", "nobody", "--", "/bin/sh", "-c", command])
    #expect(result.status == 2, "\(result.standardError)")
    #expect(result.standardError.contains("permission denied: applying a ruleset needs CAP_NET_ADMIN"))
  }

  /// A new directory under /tmp (not `TMPDIR`, which may be private to root) that every user may read and enter.
  final class WorldReadableDirectory {
    let url: URL

    init() throws {
      var template = Array("/tmp/conduit-unprivileged-XXXXXX".utf8CString)
      guard let created = mkdtemp(&template) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "/tmp/conduit-unprivileged-XXXXXX"])
      }
      url = URL(fileURLWithPath: String(cString: created))
      try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
  }

  static func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
    guard haystack.count >= needle.count else { return nil }
    for start in stride(from: haystack.count - needle.count, through: 0, by: -1)
    where haystack[start..<(start + needle.count)].elementsEqual(needle) {
      return start..<(start + needle.count)
    }
    return nil
  }
}
