import Testing

@testable import PolicyAnalysis

/// Strings from the input in Graphviz DOT: HTML-like labels, double-quoted strings and `//` comments.
@Suite struct DOTEscapingTests {
  let renderer = ZoneDiagramDOTRenderer()

  @Test func htmlLabelsEscapeMarkupAndShowControlCharacters() {
    #expect(renderer.html("a<b>&\"c\"") == "a&lt;b&gt;&amp;&quot;c&quot;")
    #expect(renderer.html("line\nbreak\u{1B}") == "line\\u{A}break\\u{1B}")
    #expect(renderer.html("<\u{301}/TD>") == "&lt;\u{301}/TD&gt;")
  }

  @Test func quotedStringsEscapeQuotesBackslashesAndControlCharacters() {
    #expect(renderer.quoted("a \"b\" \\") == "a \\\"b\\\" \\\\")
    #expect(renderer.quoted("x\ny") == "x\\\\u{A}y")
    #expect(renderer.quoted("\"\u{301}]; evil [") == "\\\"\u{301}]; evil [")
  }

  @Test func commentsCannotEndTheirLine() {
    #expect(renderer.comment("zone\nevil -> x") == "zone\\u{A}evil -> x")
    #expect(renderer.comment("a\r\u{2028}b") == "a\\u{D}\\u{2028}b")
  }
}
