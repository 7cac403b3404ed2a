import PolicyLanguage
import PolicyModel
import Testing

@testable import IptablesBackend
@testable import NftablesBackend

/// The escaping layers of the backends and the shortening of generated names, on hostile text.
@Suite struct OutputEscapingTests {
  static let hostile = "a\"b$c\\d;e\nf\u{1B}[31m\u{202E}g\u{85}h"

  @Test func nftStringsCarryNoQuoteVariableBackslashOrControlCharacter() {
    #expect(NftablesString.sanitized(Self.hostile) == "a_b_c_d;e_f_[31m_g_h")
    #expect(NftablesString.quoted("eth0") == "\"eth0\"")
    #expect(NftablesString.quoted("x\" ; flush ruleset ; \"") == "\"x_ ; flush ruleset ; _\"")
    #expect(NftablesString.sanitized("Pumpe Süd") == "Pumpe Süd")
  }

  @Test func nftLogPrefixesStayWithinTheKernelsLimitAndApart() {
    #expect(NftablesString.logPrefix("conduit", naming: "ops-ctl") == "conduit ops-ctl ")
    let first = NftablesString.logPrefix("conduit", naming: String(repeating: "é", count: 200) + "1")
    let second = NftablesString.logPrefix("conduit", naming: String(repeating: "é", count: 200) + "2")
    for prefix in [first, second] {
      #expect(prefix.utf8.count <= NftablesString.maximumLogPrefixBytes)
      #expect(prefix.hasPrefix("conduit éé"))
      #expect(!prefix.contains("\u{FFFD}"))
    }
    #expect(first != second)
    let exact = String(repeating: "x", count: 127 - "conduit  ".utf8.count)
    #expect(NftablesString.logPrefix("conduit", naming: exact) == "conduit \(exact) ")
  }

  @Test func iptablesCommentsAndLogPrefixesAreQuotedSanitizedAndWithinLimits() {
    #expect(IptablesArgument.comment(Self.hostile) == "\"a_b_c_d;e_f_[31m_g_h\"")
    let long = IptablesArgument.comment(String(repeating: "ü", count: 200))
    #expect(long.utf8.count <= IptablesArgument.maximumCommentBytes + 2)
    #expect(long.hasSuffix("...\""))
    #expect(!long.contains("\u{FFFD}"))
    #expect(
      IptablesArgument.logPrefix("conduit", naming: "operations-analyzers") == "\"conduit operations-analyzers \"")
    let shortened = IptablesArgument.logPrefix("conduit", naming: "operations-analyzers-2")
    #expect(shortened.utf8.count == IptablesArgument.maximumLogPrefixBytes + 2)
    #expect(shortened.contains(#/^"conduit operations--[0-9a-f]{8} "$/#))
  }

  @Test func iptablesWordsAreWrittenAsTheyAreOnlyWhenTheTokenizerReadsNothingInThem() {
    #expect(IptablesArgument.word("eth0.40") == "eth0.40")
    #expect(IptablesArgument.word("x -p tcp") == "\"x -p tcp\"")
    #expect(IptablesArgument.word("a\"b") == "\"a_b\"")
    #expect(IptablesArgument.word("") == "\"\"")
  }

  @Test func generatedNamesReplaceWhatBackendsCannotWrite() {
    #expect(GeneratedName.nftablesIdentifier("ops-ctl.2 \"x\"") == "ops_ctl_2__x_")
    #expect(GeneratedName.iptablesWord("ops-ctl.2 \"x\" $;") == "ops-ctl.2__x____")
    #expect(GeneratedName.nftablesIdentifier("Süd") == "S_d")
  }

  @Test func longNamesAreShortenedDeterministicallyWithAHashOfTheWholeName() {
    #expect(GeneratedName.shortened("short", toBytes: 8) == "short")
    let name = "c-enterprise-to-operations-historian-a"
    #expect(GeneratedName.shortened(name, toBytes: 28, separator: "-") == "c-enterprise-to-ope-5864c32d")
    let multibyte = String(repeating: "€", count: 10)
    let cut = GeneratedName.shortened(multibyte, toBytes: 20)
    #expect(cut.utf8.count <= 20)
    #expect(cut.hasPrefix("€€€_"))
    #expect(GeneratedName.utf8Prefix("a€b", maximumBytes: 3) == "a")
    #expect(GeneratedName.utf8Prefix("a€b", maximumBytes: 4) == "a€")
  }
}
