import Foundation
import Testing

@testable import PolicyLanguage

/// Keeps `Grammar/conduit.ebnf` and the parser in step: every production of the grammar is entered by the parser
/// on the test corpus, every production the parser enters is in the grammar, and every quoted word of the grammar
/// appears in the corpus.
@Suite struct GrammarTests {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  struct Grammar {
    var productions: Set<String>
    var terminals: Set<String>
  }

  static func readGrammar() throws -> Grammar {
    let text = try String(contentsOf: packageRoot.appendingPathComponent("Grammar/conduit.ebnf"), encoding: .utf8)
    let withoutComments = text.replacing(/\(\*[\s\S]*?\*\)/, with: "")
    let productions = withoutComments.matches(of: /(?m)^([a-z_]+)\s*=/).map { String($0.output.1) }
    let terminals = withoutComments.matches(of: /"([^"]+)"/).map { String($0.output.1) }
    return Grammar(productions: Set(productions), terminals: Set(terminals))
  }

  static func corpus() throws -> [SourceFile] {
    var urls: [URL] = []
    let fixtures = try #require(Bundle.module.url(forResource: "Fixtures/grammar", withExtension: nil))
    urls += try FileManager.default.contentsOfDirectory(at: fixtures, includingPropertiesForKeys: nil)
    urls += try samplePolicies()
    return try urls.filter { $0.pathExtension == "conduit" }.map {
      SourceFile(path: $0.path, text: try String(contentsOf: $0, encoding: .utf8))
    }
  }

  static func samplePolicies() throws -> [URL] {
    let policies = packageRoot.appendingPathComponent("Policies")
    return try FileManager.default.subpathsOfDirectory(atPath: policies.path).filter { $0.hasSuffix(".conduit") }
      .map { policies.appendingPathComponent($0) }
  }

  @Test func grammarDefinesTheProductionsThePolicyStartsFrom() throws {
    let grammar = try Self.readGrammar()
    #expect(grammar.productions.contains("policy"))
    #expect(grammar.productions.count >= 40)
  }

  @Test func everyProductionIsExercisedAndNoOtherExists() throws {
    let grammar = try Self.readGrammar()
    var visited: Set<String> = []
    for file in try Self.corpus() {
      var parser = Parser(file, recordingProductions: true)
      _ = parser.parsePolicy()
      visited.formUnion(parser.visitedProductions)
    }
    #expect(grammar.productions.subtracting(visited).sorted() == [], "productions no test exercises")
    #expect(visited.subtracting(grammar.productions).sorted() == [], "productions the grammar does not define")
  }

  @Test func everyQuotedWordOfTheGrammarAppearsInTheCorpus() throws {
    let grammar = try Self.readGrammar()
    var words: Set<String> = []
    for file in try Self.corpus() {
      for token in Lexer(file).tokenize() {
        switch token.kind {
        case .keyword(let keyword): words.insert(keyword.rawValue)
        case .name: words.insert(token.value)
        case .leftBrace, .rightBrace, .comma, .semicolon, .arrow: words.insert(token.value)
        default: break
        }
      }
    }
    #expect(grammar.terminals.subtracting(words).sorted() == [], "grammar words no test uses")
  }

  @Test func reservedWordsOfTheGrammarAreTheLexersKeywords() throws {
    let text = try String(
      contentsOf: Self.packageRoot.appendingPathComponent("Grammar/conduit.ebnf"), encoding: .utf8)
    let reservedLine = try #require(text.firstMatch(of: /not a reserved word:\s+([\s\S]*?)\*\)/))
    let reserved = Set(reservedLine.output.1.split(whereSeparator: \.isWhitespace).map(String.init))
    #expect(reserved == Set(Keyword.allCases.map(\.rawValue)))
  }

  @Test func corpusParsesWithoutSyntaxErrors() throws {
    let files = try Self.corpus()
    #expect(files.count >= 2)
    for file in files {
      var diagnostics = DiagnosticEngine()
      _ = Parser.parse(file, diagnostics: &diagnostics)
      let rendered = TextDiagnosticRenderer().render(diagnostics.diagnostics)
      #expect(diagnostics.diagnostics.isEmpty, "\(file.path):\n\(rendered)")
    }
  }
}
