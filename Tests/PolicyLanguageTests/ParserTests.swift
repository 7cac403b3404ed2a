import Testing

@testable import PolicyLanguage

/// A syntax case: marked source, and the id and message fragment of the diagnostic at each marker, in order.
struct SyntaxCase: CustomTestStringConvertible, Sendable {
  var name: String
  var source: String
  var expected: [(marker: String, id: CheckID, message: String)]

  var testDescription: String { name }
}

@Suite struct ParserTests {
  static let syntaxCases: [SyntaxCase] = [
    SyntaxCase(
      name: "misspelt declaration keyword", source: "1️⃣zome control {\n}\n",
      expected: [("1️⃣", .syntax, "expected a declaration")]),
    SyntaxCase(
      name: "reserved word as a name", source: "zone 1️⃣service {\n}\n",
      expected: [("1️⃣", .syntax, "reserved word 'service'")]),
    SyntaxCase(
      name: "brace on the next line", source: "zone control\n1️⃣{\n}\n",
      expected: [("1️⃣", .syntax, "must stand on its declaration's line")]),
    SyntaxCase(
      name: "missing arrow", source: "conduit c {\n  allow hmi-1 1️⃣plc-1 service modbus\n}\n",
      expected: [("1️⃣", .syntax, "expected '->'")]),
    SyntaxCase(
      name: "unknown statement with suggestion", source: "zone z {\n  1️⃣levle 3\n}\n",
      expected: [("1️⃣", .syntax, "unknown zone statement 'levle'")]),
    SyntaxCase(
      name: "trailing tokens", source: "site a 1️⃣b\n",
      expected: [("1️⃣", .syntax, "expected the end of the statement")]),
    SyntaxCase(
      name: "unterminated string", source: "site 1️⃣\"abc\n",
      expected: [("1️⃣", .syntax, "unterminated string")]),
    SyntaxCase(
      name: "name starting with a digit", source: "conduit c {\n  allow 1️⃣10-PLC -> plc-1 service modbus\n}\n",
      expected: [("1️⃣", .syntax, "must be quoted")]),
    SyntaxCase(
      name: "list after one protocol", source: "service s tcp/502, 1️⃣503\n",
      expected: [("1️⃣", .badPort, "write 'tcp/502, tcp/503'")]),
    SyntaxCase(
      name: "missing closing brace at end of file", source: "zone z {\n  level 1\n1️⃣",
      expected: [("1️⃣", .syntax, "expected '}' to end zone 'z'")]),
    SyntaxCase(
      name: "missing closing brace before the next declaration",
      source: "zone a {\n  level 1\n1️⃣zone b {\n  2️⃣colour red\n}\n",
      expected: [("1️⃣", .syntax, "expected '}' to end zone 'a'"), ("2️⃣", .syntax, "unknown zone statement")]),
    SyntaxCase(
      name: "singleton given twice", source: "zone z {\n  level 1\n  level 1️⃣2\n}\n",
      expected: [("1️⃣", .badValue, "'level' given twice")]),
    SyntaxCase(
      name: "between given twice",
      source: "conduit c {\n  between a and b\n  1️⃣between a and b\n}\n",
      expected: [("1️⃣", .badValue, "'between' given twice")]),
    SyntaxCase(
      name: "bad date", source: "conduit c {\n  expires 1️⃣2027/06/30\n}\n",
      expected: [("1️⃣", .badValue, "expected a date")]),
    SyntaxCase(
      name: "bad MAC", source: "asset a {\n  address 10.0.0.1\n  mac 1️⃣AC-64\n}\n",
      expected: [("1️⃣", .badValue, "expected a MAC address")]),
    SyntaxCase(
      name: "bad Modbus function", source: "conduit c {\n  allow a -> b service modbus functions 1️⃣erase\n}\n",
      expected: [("1️⃣", .badValue, "invalid Modbus function")]),
    SyntaxCase(
      name: "stray closing brace", source: "1️⃣}\nsite s\n",
      expected: [("1️⃣", .syntax, "unexpected '}'")]),
    SyntaxCase(
      name: "invalid character", source: "site s\n1️⃣@home\n",
      expected: [("1️⃣", .syntax, "unexpected character '@'")]),
    SyntaxCase(
      name: "name ending in a dash", source: "site 1️⃣plant-\n",
      expected: [("1️⃣", .syntax, "cannot end with '-'")]),
    SyntaxCase(
      name: "revoke with 'to' before 'from'",
      source: "mitigation m {\n  revoke service modbus to plc-1 1️⃣from hmi-1\n}\n",
      expected: [("1️⃣", .syntax, "'from' comes before 'to' in a revoke")]),
    SyntaxCase(
      name: "revoke with a word after its services",
      source: "mitigation m {\n  revoke service modbus 1️⃣hmi-1\n}\n",
      expected: [("1️⃣", .syntax, "expected 'from', 'to' or the end of the statement after the revoked services")]),
    SyntaxCase(
      name: "revoke with a word after its sources",
      source: "mitigation m {\n  revoke service modbus from hmi-1 1️⃣plc-1\n}\n",
      expected: [("1️⃣", .syntax, "expected 'to' or the end of the statement after the revoked sources")]),
    SyntaxCase(
      name: "revoke with 'from' twice",
      source: "mitigation m {\n  revoke service modbus from hmi-1 1️⃣from hmi-2\n}\n",
      expected: [("1️⃣", .syntax, "expected 'to' or the end of the statement after the revoked sources, found 'from'")]),
    SyntaxCase(
      name: "revoke 'from' without endpoints",
      source: "mitigation m {\n  revoke service modbus from1️⃣\n  revoke service ssh from 2️⃣-> plc-1\n}\n",
      expected: [("1️⃣", .syntax, "expected an endpoint"), ("2️⃣", .syntax, "expected an endpoint")]),
    SyntaxCase(
      name: "every error of a file in one run",
      source: """
        1️⃣zome a {}
        zone b {
          level 2️⃣x
          network 10.0.0.0/8
        }
        conduit c {
          between b and 3️⃣
          allow 4️⃣-> plc service modbus
        }
        service s 5️⃣{
        """,
      expected: [
        ("1️⃣", .syntax, "expected a declaration"), ("2️⃣", .badValue, "expected a Purdue level"),
        ("3️⃣", .syntax, "expected a zone name, found the end of the line"), ("4️⃣", .syntax, "expected an endpoint"),
        ("5️⃣", .syntax, "expected a service name or a port literal"),
      ]),
  ]

  @Test(arguments: syntaxCases)
  func reportsSyntaxErrorAtMarker(_ testCase: SyntaxCase) {
    let source = MarkedSource(testCase.source)
    let (_, diagnostics) = source.parse()
    #expect(diagnostics.count == testCase.expected.count, "\(diagnostics.map(\.message))")
    for (diagnostic, expected) in zip(diagnostics, testCase.expected) {
      #expect(diagnostic.id == expected.id)
      #expect(diagnostic.severity == .error)
      #expect(diagnostic.message.contains(expected.message), "\(diagnostic.message)")
      #expect(diagnostic.range?.startLocation == source.locations[expected.marker], "\(diagnostic.message)")
    }
  }

  /// A revoke as written, and the items, `from` endpoints and `to` endpoints its statement must hold.
  struct RevokeCase: CustomTestStringConvertible, Sendable {
    var source: String
    var items: [String]
    var sources: [String] = []
    var destinations: [String] = []

    var testDescription: String { source }
  }

  static let revokeCases = [
    RevokeCase(source: "revoke service modbus", items: ["modbus"]),
    RevokeCase(source: "revoke service modbus from hmi-1", items: ["modbus"], sources: ["hmi-1"]),
    RevokeCase(source: "revoke service modbus to plc-1", items: ["modbus"], destinations: ["plc-1"]),
    RevokeCase(
      source: "revoke service modbus, tcp/503 from role hmi, 10.30.0.0/28 to zone control, \"PLC 2\"",
      items: ["modbus", "tcp/503"], sources: ["role hmi", "10.30.0.0/28"], destinations: ["zone control", "\"PLC 2\""]),
    RevokeCase(
      source: "revoke service ssh from\n    eng-*,\n    hmi-1 to\n    plc-1", items: ["ssh"],
      sources: ["eng-*", "hmi-1"], destinations: ["plc-1"]),
  ]

  @Test(arguments: revokeCases)
  func parsesTheClausesOfARevoke(_ testCase: RevokeCase) throws {
    let (file, diagnostics) = MarkedSource("mitigation m {\n  reason \"r\"\n  \(testCase.source)\n}\n").parse()
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
    guard case .mitigation(let mitigation)? = file.declarations.first else {
      Issue.record("not a mitigation")
      return
    }
    #expect(mitigation.revokes.count == 1)
    let revoke = try #require(mitigation.revokes.first)
    #expect(revoke.items.map(\.range.text) == testCase.items)
    #expect(revoke.sources.map(\.range.text) == testCase.sources)
    #expect(revoke.destinations.map(\.range.text) == testCase.destinations)
    #expect(revoke.range.text == testCase.source)
  }

  @Test func aBrokenRevokeIsSkippedAndTheNextStatementParsed() throws {
    let (file, diagnostics) = MarkedSource(
      """
      mitigation m {
        revoke service modbus to plc-1 from hmi-1
        revoke service ssh from eng-1; revoke service https hmi-1
        isolate plc-2
      }
      """
    ).parse()
    #expect(diagnostics.map(\.range?.startLocation.line) == [2, 3])
    guard case .mitigation(let mitigation)? = file.declarations.first else {
      Issue.record("not a mitigation")
      return
    }
    #expect(mitigation.revokes.map { $0.sources.map(\.range.text) } == [["eng-1"]])
    #expect(mitigation.isolates.count == 1)
  }

  @Test func suggestsTheClosestStatement() {
    let (_, diagnostics) = MarkedSource("zone z {\n  levle 3\n}\n").parse()
    #expect(diagnostics.first?.notes.first?.message == "did you mean 'level'?")
  }

  @Test func parsesARuleWithAllItsParts() throws {
    let (file, diagnostics) = MarkedSource(
      """
      conduit operations-control {
        between operations and control
        allow role hmi, eng-ws-1,
          10.30.0.0/28 -> plc-*, "PLC 2", zone control service modbus, tcp/502-503, ping log functions read, 1-4
      }
      """
    ).parse()
    #expect(diagnostics.isEmpty)
    guard case .conduit(let conduit) = try #require(file.declarations.first) else {
      Issue.record("not a conduit")
      return
    }
    #expect(conduit.between?.first.text == "operations")
    let rule = try #require(conduit.rules.first)
    #expect(rule.sources.map(\.range.text) == ["role hmi", "eng-ws-1", "10.30.0.0/28"])
    #expect(rule.destinations.map(\.range.text) == ["plc-*", "\"PLC 2\"", "zone control"])
    #expect(rule.items.map(\.range.text) == ["modbus", "tcp/502-503", "ping"])
    #expect(rule.log != nil)
    #expect(rule.functions?.items.map(\.text) == ["read", "1-4"])
    guard case .glob = rule.destinations[0].kind, case .asset(let quoted) = rule.destinations[1].kind,
      case .role = rule.sources[0].kind, case .address = rule.sources[2].kind
    else {
      Issue.record("endpoint kinds")
      return
    }
    #expect(quoted.text == "PLC 2" && quoted.isQuoted)
  }

  @Test func arrowIsOneTokenInsideNames() {
    let tokens = Lexer(SourceFile(path: "t", text: "hmi-1->plc-1")).tokenize()
    #expect(tokens.map(\.kind) == [.name, .arrow, .name, .endOfFile])
    #expect(tokens.map(\.value).prefix(3) == ["hmi-1", "->", "plc-1"])
  }

  @Test(arguments: [
    ("AC:64:17:48:AC:0A", TokenKind.mac), ("fd00:40::/64", .address), ("10.1.0.0/16", .address),
    ("10.40.0.7", .address), ("3.5", .numeric), ("2027-06-30", .date), ("tcp/502", .portLiteral),
    ("icmp/echo-request", .portLiteral), ("plc-*", .glob), ("*-hmi", .glob), ("security-level", .name),
    ("accept-risk", .keyword(.acceptRisk)), ("\"HMI 2\"", .string), ("1-4", .numeric), ("::1", .address),
  ])
  func classifiesWords(_ text: String, _ kind: TokenKind) {
    let tokens = Lexer(SourceFile(path: "t", text: text)).tokenize()
    #expect(tokens.count == 2)
    #expect(tokens.first?.kind == kind)
  }

  @Test func statementsContinueAfterCommaArrowAndOperandWords() {
    let (file, diagnostics) = MarkedSource(
      "conduit c {\n  between\n    a and b\n  allow x,\n    y ->\n    z service\n    ssh\n}\n"
    ).parse()
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
    guard case .conduit(let conduit)? = file.declarations.first else {
      Issue.record("not a conduit")
      return
    }
    #expect(conduit.rules.first?.sources.count == 2)
  }

  @Test func semicolonsSeparateStatementsOnOneLine() {
    let (file, diagnostics) = MarkedSource(
      "asset hist { address 10.20.0.5; role historian; criticality medium }\n"
    ).parse()
    #expect(diagnostics.isEmpty)
    guard case .asset(let asset)? = file.declarations.first else {
      Issue.record("not an asset")
      return
    }
    #expect(asset.addresses.map(\.text) == ["10.20.0.5"])
    #expect(asset.role?.text == "historian")
    #expect(asset.criticality?.text == "medium")
  }

  @Test func stringEscapes() {
    let tokens = Lexer(SourceFile(path: "t", text: #""a \"b\" \\ c""#)).tokenize()
    #expect(tokens.first?.kind == .string)
    #expect(tokens.first?.value == #"a "b" \ c"#)
  }
}
