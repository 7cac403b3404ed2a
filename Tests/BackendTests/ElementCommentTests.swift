import FirewallIR
import Foundation
import PolicyChecker
import PolicyLanguage
import PolicyTestSupport
import Testing

@testable import NftablesBackend

/// Element comments name the policy lines behind each element, in the nft text and in the batch alike, within
/// nft's 127 bytes; the batch reader refuses element user data that is not one printable comment.
@Suite struct ElementCommentTests {
  /// A site whose one flow is allowed by `count` identical rules (the later ones redundant).
  static func site(rules count: Int) -> String {
    """
    site comments
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

    """ + String(repeating: "  allow 10.30.0.1 -> 10.40.0.1 service tcp/502\n", count: count) + "}\n"
  }

  static func program(_ text: String) throws -> (program: NftablesProgram, batch: NftablesBatch, text: String) {
    let checked = try checkPolicy(text: text)
    var diagnostics = DiagnosticEngine()
    let ruleset = try Lowering.lower(checked.policy, options: LoweringOptions(), diagnostics: &diagnostics)
    let names = NftablesNames(ruleset, diagnostics: &diagnostics)
    return (
      NftablesProgram(ruleset, names: names, identity: nil), NetlinkLinearizer().batch(ruleset, names: names),
      NftablesTextRenderer().render(ruleset, names: names)
    )
  }

  @Test func aFlowElementNamesEveryRuleBehindItWithinTheLimit() throws {
    let (one, _, _) = try Self.program(Self.site(rules: 1))
    let flow = try #require(one.sets.first { $0.name == "exact_flows_v4" }?.elements.first)
    #expect(flow.comment == "site.conduit:12")
    let zones = try #require(one.sets.first { $0.name == "zones_v4" })
    #expect(zones.elements.map(\.comment) == ["site.conduit:5", "site.conduit:6"])

    let (many, batch, text) = try Self.program(Self.site(rules: 60))
    let comment = try #require(many.sets.first { $0.name == "exact_flows_v4" }?.elements.first?.comment)
    #expect(comment.utf8.count <= 127, "\(comment)")
    #expect(comment.hasPrefix("site.conduit:12,13,14,"))
    let shown = comment.split(separator: " ")[0].split(separator: ",").count
    #expect(comment.hasSuffix(" +\(60 - shown)"), "\(comment)")
    let layout = try NetlinkBatchLayout(validating: batch.bytes)
    #expect(layout.elementCount > 0)
    #expect(text.contains("comment \"\(comment)\""))
  }

  @Test(arguments: [
    [UInt8(0), 4] + Array("a\u{1B}c".utf8) + [0], [0, 3, 0x22, 0x61, 0], [1, 3, 0x61, 0x62, 0],
    [0, 4, 0x61, 0x62, 0x63], [0, 3, 0x5C, 0x61, 0], [0, 3, 0x7F, 0x61, 0], [0, 3, 0xFF, 0x61, 0],
    [0, 5] + Array("a\u{202E}".utf8) + [0], [0, 3] + Array("\u{85}".utf8) + [0],
  ])
  func elementUserDataThatIsNotOnePrintableCommentIsRefused(_ userData: [UInt8]) {
    var bytes = [UInt8](repeating: 0, count: 4) + userData
    #expect(throws: NetlinkBatchError.self) {
      try NetlinkBatchLayout.checkElementComment(bytes, 4..<bytes.count, message: 1)
    }
    bytes = [0, 0, 0, 0] + NftSetElement.commentUserData("site.conduit:12")
    #expect(throws: Never.self) { try NetlinkBatchLayout.checkElementComment(bytes, 4..<bytes.count, message: 1) }
  }

  @Test func elementUserDataOfPrintableTextBeyondASCIIIsAccepted() {
    let bytes = [0, 0, 0, 0] + NftSetElement.commentUserData("zürich/halle-3.conduit:12")
    #expect(throws: Never.self) { try NetlinkBatchLayout.checkElementComment(bytes, 4..<bytes.count, message: 1) }
  }
}
