/// Parses one policy file into its declarations, reporting every syntax error and recovering at the next statement.
///
/// Each `parse…` function implements the EBNF production named in its `enter(_:)` call (`Grammar/conduit.ebnf`).
public struct Parser {
  private let file: SourceFile
  private let tokens: [Token]
  private var position = 0
  private var diagnostics = DiagnosticEngine()
  /// Set when a block ended without its `}` because the next declaration began.
  private var blockEndedAtDeclaration = false
  private let recordsProductions: Bool
  /// The EBNF productions the parser entered (recorded only when asked for, to keep grammar and parser in step).
  public private(set) var visitedProductions: Set<String> = []

  private struct Recovery: Error {}

  private static let declarationWords = Keyword.allCases.filter(\.startsDeclaration).map(\.rawValue)
  private static let zoneStatements = ["level", "security-level", "network", "assets", "tags", "description"]
  private static let assetStatements = [
    "address", "role", "vendor", "product", "model", "version", "criticality", "security-level", "mac", "tags",
    "shared",
  ]
  private static let gatewayStatements = ["interface", "management"]
  private static let conduitStatements = [
    "between", "security-level", "owner", "justification", "expires", "description", "allow",
  ]
  private static let mitigationStatements = ["reason", "isolate", "revoke", "allow"]
  private static let bareProtocols: Set<String> = ["tcp", "udp", "icmp", "icmpv6", "proto"]

  /// Creates a parser over a file.
  public init(_ file: SourceFile, recordingProductions: Bool = false) {
    self.file = file
    let (tokens, problems) = Lexer(file).scan()
    self.tokens = tokens
    self.recordsProductions = recordingProductions
    for problem in problems {
      diagnostics.error(.syntax, problem.message, at: SourceRange(file: file, problem.range))
    }
  }

  /// Parses a whole file; the syntax errors go to `diagnostics`.
  public static func parse(_ file: SourceFile, diagnostics: inout DiagnosticEngine) -> PolicyFile {
    var parser = Parser(file)
    let result = parser.parsePolicy()
    diagnostics.append(contentsOf: parser.diagnostics)
    return result
  }

  /// Parses the whole file and returns it with the syntax errors found.
  public mutating func parsePolicy() -> PolicyFile {
    enter("policy")
    var declarations: [Declaration] = []
    while true {
      skipSeparators()
      if peek.kind == .endOfFile { break }
      if peek.kind == .rightBrace {
        error("unexpected '}' outside a block", at: peek)
        advance()
        continue
      }
      do {
        blockEndedAtDeclaration = false
        declarations.append(try parseDeclaration())
        if !blockEndedAtDeclaration { try expectStatementEnd() }
      } catch {
        skipStatement()
        if peek.kind == .rightBrace { advance() }
      }
    }
    return PolicyFile(file: file, declarations: declarations)
  }

  /// Parses a whole file as a comma list of endpoints (`conduit query --from`), reporting what does not parse.
  public mutating func parseEndpointList() -> [Endpoint]? {
    let endpoints = try? parseEndpoints()
    skipNewlines()
    if endpoints != nil, peek.kind != .endOfFile {
      error("expected ',' or the end of the endpoints, found \(describe(peek))", at: peek)
      return nil
    }
    return endpoints
  }

  /// Parses a whole file as a comma list of service items (`conduit query --service`).
  public mutating func parseServiceItemList() -> [ServiceItem]? {
    let items = try? parseServiceItems()
    skipNewlines()
    if items != nil, peek.kind != .endOfFile {
      error("expected ',' or the end of the services, found \(describe(peek))", at: peek)
      return nil
    }
    return items
  }

  /// The syntax errors found so far.
  public var syntaxDiagnostics: DiagnosticEngine { diagnostics }

  // MARK: - Declarations

  private mutating func parseDeclaration() throws -> Declaration {
    enter("declaration")
    switch peek.kind {
    case .keyword(.site):
      enter("site_decl")
      let start = advance()
      let name = try expectName("a site name")
      return .site(SiteDeclaration(name: name, range: range(from: start)))
    case .keyword(.baseline):
      enter("baseline_decl")
      let start = advance()
      let path = try expectString("the baseline file's path")
      return .baseline(PathDeclaration(path: path, range: range(from: start)))
    case .keyword(.include):
      enter("include_decl")
      let start = advance()
      let path = try expectString("the included file's path")
      return .include(PathDeclaration(path: path, range: range(from: start)))
    case .keyword(.service):
      enter("service_decl")
      let start = advance()
      let name = try expectName("a service name")
      let items = try parseServiceItems()
      return .service(ServiceDeclaration(name: name, items: items, range: range(from: start)))
    case .keyword(.zone):
      return .zone(
        try parseBlockDeclaration(
          "zone_decl", kind: "zone", statements: Self.zoneStatements,
          make: { ZoneDeclaration(name: $0, range: $1) }, statement: { try $0.parseZoneStatement(&$1, $2) }))
    case .keyword(.asset):
      return .asset(
        try parseBlockDeclaration(
          "asset_decl", kind: "asset", statements: Self.assetStatements,
          make: { AssetDeclaration(name: $0, range: $1) }, statement: { try $0.parseAssetStatement(&$1, $2) }))
    case .keyword(.gateway):
      return .gateway(
        try parseBlockDeclaration(
          "gateway_decl", kind: "gateway", statements: Self.gatewayStatements,
          make: { GatewayDeclaration(name: $0, range: $1) }, statement: { try $0.parseGatewayStatement(&$1, $2) }))
    case .keyword(.conduit):
      return .conduit(
        try parseBlockDeclaration(
          "conduit_decl", kind: "conduit", statements: Self.conduitStatements,
          make: { ConduitDeclaration(name: $0, range: $1) }, statement: { try $0.parseConduitStatement(&$1, $2) }))
    case .keyword(.mitigation):
      return .mitigation(
        try parseBlockDeclaration(
          "mitigation_decl", kind: "mitigation", statements: Self.mitigationStatements,
          make: { MitigationDeclaration(name: $0, range: $1) }, statement: { try $0.parseMitigationStatement(&$1, $2) })
      )
    case .keyword(.acceptRisk):
      return .acceptRisk(try parseAcceptRisk())
    default:
      let token = peek
      var notes: [DiagnosticNote] = []
      if token.kind == .name, let guess = Spelling.closest(to: token.value, in: Self.declarationWords) {
        notes.append(DiagnosticNote("did you mean '\(guess)'?", at: range(of: token)))
      }
      throw fail(
        "expected a declaration (site, baseline, include, service, zone, asset, gateway, conduit, mitigation or accept-risk), found \(describe(token))",
        at: token, notes: notes)
    }
  }

  private mutating func parseZoneStatement(_ zone: inout ZoneDeclaration, _ word: String) throws -> Bool {
    switch word {
    case "level":
      enter("level_stmt")
      advance()
      setOnce(&zone.level, try expectNumeric("a Purdue level"), statement: "level")
    case "security-level":
      enter("security_level_stmt")
      advance()
      setOnce(&zone.securityLevel, try expectNumeric("a security level"), statement: "security-level")
    case "network":
      enter("network_stmt")
      let start = advance()
      skipNewlines()
      if peek.kind == .name, peek.value == "outside" {
        let outside = range(of: advance())
        zone.networks.append(NetworkStatement(prefixes: [], outside: outside, range: range(from: start)))
      } else {
        var prefixes: [Literal] = []
        repeat { prefixes.append(try expectAddress()) } while consumeComma()
        zone.networks.append(NetworkStatement(prefixes: prefixes, outside: nil, range: range(from: start)))
      }
    case "assets":
      enter("assets_stmt")
      advance()
      zone.assets += try parseNameList("an asset name")
    case "tags":
      enter("tags_stmt")
      advance()
      zone.tags += try parseNameList("a tag")
    case "description":
      enter("description_stmt")
      advance()
      setOnce(&zone.description, try expectString("a description"), statement: "description")
    default:
      return false
    }
    return true
  }

  private mutating func parseAssetStatement(_ asset: inout AssetDeclaration, _ word: String) throws -> Bool {
    switch word {
    case "address":
      enter("address_stmt")
      advance()
      repeat { asset.addresses.append(try expectAddress()) } while consumeComma()
    case "role":
      enter("role_stmt")
      advance()
      let role = try expectName("a role")
      if asset.role != nil { duplicateStatement("role", at: role.range) } else { asset.role = role }
    case "vendor", "product", "model", "version":
      enter("attribute_stmt")
      advance()
      let value = try expectString("the \(word)")
      switch word {
      case "vendor": setOnce(&asset.vendor, value, statement: word)
      case "product": setOnce(&asset.product, value, statement: word)
      case "model": setOnce(&asset.model, value, statement: word)
      default: setOnce(&asset.version, value, statement: word)
      }
    case "criticality":
      enter("criticality_stmt")
      advance()
      let value = try expectName("a criticality (low, medium, high or critical)")
      if asset.criticality != nil { duplicateStatement(word, at: value.range) } else { asset.criticality = value }
    case "security-level":
      enter("security_level_stmt")
      advance()
      setOnce(&asset.securityLevel, try expectNumeric("a security level"), statement: word)
    case "mac":
      enter("mac_stmt")
      advance()
      skipNewlines()
      let token = peek
      guard token.kind == .mac else {
        throw fail(
          "expected a MAC address (six groups of two hex digits joined by ':'), found \(describe(token))", at: token,
          id: .badValue)
      }
      advance()
      setOnce(&asset.mac, Literal(text: token.value, range: range(of: token)), statement: word)
    case "tags":
      enter("tags_stmt")
      advance()
      asset.tags += try parseNameList("a tag")
    case "shared":
      enter("shared_stmt")
      let token = advance()
      asset.shared = range(of: token)
    default:
      return false
    }
    return true
  }

  private mutating func parseGatewayStatement(_ gateway: inout GatewayDeclaration, _ word: String) throws -> Bool {
    switch word {
    case "interface":
      enter("interface_stmt")
      let start = advance()
      let interface = try expectName("an interface name")
      let zones = try parseNameList("a zone name")
      gateway.interfaces.append(InterfaceStatement(interface: interface, zones: zones, range: range(from: start)))
    case "management":
      enter("management_stmt")
      let start = advance()
      try expectKeyword(.service)
      let items = try parseServiceItems()
      try expectKeyword(.from)
      let sources = try parseEndpoints()
      gateway.management.append(ManagementStatement(items: items, sources: sources, range: range(from: start)))
    default:
      return false
    }
    return true
  }

  private mutating func parseConduitStatement(_ conduit: inout ConduitDeclaration, _ word: String) throws -> Bool {
    switch word {
    case "between":
      enter("between_stmt")
      let start = advance()
      let first = try expectName("a zone name")
      try expectKeyword(.and)
      let second = try expectName("a zone name")
      let statement = BetweenStatement(first: first, second: second, range: range(from: start))
      if let earlier = conduit.between {
        diagnostics.error(
          .badValue, "'between' given twice", at: statement.range,
          notes: [DiagnosticNote("first given here", at: earlier.range)])
      } else {
        conduit.between = statement
      }
    case "security-level":
      enter("security_level_stmt")
      advance()
      setOnce(&conduit.securityLevel, try expectNumeric("a security level"), statement: word)
    case "owner":
      enter("owner_stmt")
      advance()
      setOnce(&conduit.owner, try expectString("the owner"), statement: word)
    case "justification":
      enter("justification_stmt")
      advance()
      setOnce(&conduit.justification, try expectString("a justification"), statement: word)
    case "expires":
      enter("expires_stmt")
      advance()
      skipNewlines()
      let token = peek
      guard token.kind == .date else {
        throw fail("expected a date (YYYY-MM-DD), found \(describe(token))", at: token, id: .badValue)
      }
      advance()
      setOnce(&conduit.expires, Literal(text: token.value, range: range(of: token)), statement: word)
    case "description":
      enter("description_stmt")
      advance()
      setOnce(&conduit.description, try expectString("a description"), statement: word)
    case "allow":
      conduit.rules.append(try parseAllowRule())
    default:
      return false
    }
    return true
  }

  private mutating func parseMitigationStatement(_ mitigation: inout MitigationDeclaration, _ word: String) throws
    -> Bool
  {
    switch word {
    case "reason":
      enter("reason_stmt")
      advance()
      setOnce(&mitigation.reason, try expectString("a reason"), statement: word)
    case "isolate":
      enter("isolate_stmt")
      let start = advance()
      let endpoints = try parseEndpoints()
      mitigation.isolates.append(IsolateStatement(endpoints: endpoints, range: range(from: start)))
    case "revoke":
      mitigation.revokes.append(try parseRevoke())
    case "allow":
      mitigation.rules.append(try parseAllowRule())
    default:
      return false
    }
    return true
  }

  /// `revoke service ITEMS [from ENDPOINTS] [to ENDPOINTS]`: a clause out of order, or a word after the items that
  /// starts none, is reported where it stands with the clauses that may come there.
  private mutating func parseRevoke() throws -> RevokeStatement {
    enter("revoke_stmt")
    let start = advance()
    try expectKeyword(.service)
    let items = try parseServiceItems()
    var sources: [Endpoint] = []
    var destinations: [Endpoint] = []
    if peek.kind == .keyword(.from) {
      advance()
      sources = try parseEndpoints()
    }
    if peek.kind == .keyword(.to) {
      advance()
      destinations = try parseEndpoints()
      if peek.kind == .keyword(.from) {
        throw fail(
          "'from' comes before 'to' in a revoke: write 'revoke service ITEMS from ENDPOINTS to ENDPOINTS'", at: peek)
      }
    } else if !peek.isStatementEnd {
      let clauses = sources.isEmpty ? "'from', 'to'" : "'to'"
      throw fail(
        "expected \(clauses) or the end of the statement after the revoked \(sources.isEmpty ? "services" : "sources"), "
          + "found \(describe(peek))", at: peek)
    }
    return RevokeStatement(items: items, sources: sources, destinations: destinations, range: range(from: start))
  }

  /// Parses `KEYWORD NAME { statements }`.
  private mutating func parseBlockDeclaration<Block: BlockDeclaration>(
    _ production: String, kind: String, statements: [String], make: (Identifier, SourceRange) -> Block,
    statement: (inout Parser, inout Block, String) throws -> Bool
  ) throws -> Block {
    enter(production)
    let start = advance()
    let name = try expectName(kind.first.map { "aeiou".contains($0) } == true ? "an \(kind) name" : "a \(kind) name")
    var block = make(name, range(from: start))
    try parseBlock(&block, kind: kind, name: name, statements: statements, statement)
    block.range = range(from: start)
    return block
  }

  /// Parses `{ statements }` of a block. `statement` returns false for a word it does not know.
  private mutating func parseBlock<Block>(
    _ block: inout Block, kind: String, name: Identifier, statements: [String],
    _ statement: (inout Parser, inout Block, String) throws -> Bool
  ) throws where Block: BlockDeclaration {
    if peek.kind == .newline, let next = tokens[position...].first(where: { $0.kind != .newline }),
      next.kind == .leftBrace
    {
      error("the '{' of \(kind) '\(name.text)' must stand on its declaration's line", at: next)
      skipNewlines()
    }
    guard peek.kind == .leftBrace else {
      throw fail("expected '{' after \(kind) '\(name.text)' on the same line, found \(describe(peek))", at: peek)
    }
    let open = advance()
    while true {
      skipSeparators()
      let token = peek
      switch token.kind {
      case .rightBrace:
        advance()
        return
      case .endOfFile:
        error(
          "expected '}' to end \(kind) '\(name.text)'", at: token,
          notes: [DiagnosticNote("\(kind) '\(name.text)' starts here", at: range(of: open))])
        return
      case .keyword(let keyword) where keyword.startsDeclaration && keyword != .acceptRisk:
        blockEndedAtDeclaration = true
        error(
          "expected '}' to end \(kind) '\(name.text)' before the next declaration", at: token,
          notes: [DiagnosticNote("\(kind) '\(name.text)' starts here", at: range(of: open))])
        return
      default:
        do {
          if token.kind == .keyword(.acceptRisk) {
            enter("\(kind)_stmt")
            block.acceptRisks.append(try parseAcceptRisk())
          } else {
            let word: String? =
              switch token.kind {
              case .name: token.value
              case .keyword(let keyword): keyword.rawValue
              default: nil
              }
            enter("\(kind)_stmt")
            guard let word, try statement(&self, &block, word) else {
              var notes: [DiagnosticNote] = []
              if let word, let guess = Spelling.closest(to: word, in: statements) {
                notes.append(DiagnosticNote("did you mean '\(guess)'?", at: range(of: token)))
              }
              let expected = statements.map { "'\($0)'" }.joined(separator: ", ")
              throw fail(
                "unknown \(kind) statement \(describe(token)); expected one of \(expected) or 'accept-risk'", at: token,
                notes: notes)
            }
          }
          try expectStatementEnd()
        } catch {
          skipStatement()
        }
      }
    }
  }

  // MARK: - Shared productions

  private mutating func parseAllowRule() throws -> AllowRule {
    enter("allow_rule")
    let start = advance()
    let sources = try parseEndpoints()
    guard peek.kind == .arrow else {
      throw fail("expected '->' between the sources and the destinations, found \(describe(peek))", at: peek)
    }
    advance()
    let destinations = try parseEndpoints()
    try expectKeyword(.service)
    let items = try parseServiceItems()
    var log: SourceRange?
    if peek.kind == .keyword(.log) { log = range(of: advance()) }
    var functions: FunctionsClause?
    if peek.kind == .keyword(.functions) { functions = try parseFunctions() }
    return AllowRule(
      sources: sources, destinations: destinations, items: items, log: log, functions: functions,
      range: range(from: start), keywordRange: range(of: start))
  }

  private mutating func parseFunctions() throws -> FunctionsClause {
    enter("functions_clause")
    let start = advance()
    var items: [Literal] = []
    repeat {
      enter("function_item")
      skipNewlines()
      let token = peek
      switch token.kind {
      case .name where ["read", "write", "diagnostics"].contains(token.value):
        advance()
      case .numeric where Self.isFunctionCodeRange(token.value):
        advance()
      case .name, .numeric:
        throw fail(
          "invalid Modbus function \(describe(token)): expected read, write, diagnostics or a code 0-255 (N or N-M)",
          at: token, id: .badValue)
      default:
        throw fail(
          "expected a Modbus function (read, write, diagnostics or a code), found \(describe(token))", at: token)
      }
      items.append(Literal(text: token.value, range: range(of: token)))
    } while consumeComma()
    return FunctionsClause(items: items, range: range(from: start))
  }

  private static func isFunctionCodeRange(_ text: String) -> Bool {
    let parts = text.split(separator: "-", omittingEmptySubsequences: false)
    guard (1...2).contains(parts.count) else { return false }
    let codes = parts.compactMap { part in part.allSatisfy(\.isASCII) ? Int(part) : nil }
    guard codes.count == parts.count, codes.allSatisfy({ (0...255).contains($0) }) else { return false }
    return codes.count == 1 || codes[0] <= codes[1]
  }

  private mutating func parseAcceptRisk() throws -> AcceptRiskStatement {
    enter("accept_risk")
    let start = advance()
    let id = try expectName("a check id")
    let reason = try expectString("the reason the risk is accepted")
    return AcceptRiskStatement(checkID: id, reason: reason, range: range(from: start))
  }

  private mutating func parseEndpoints() throws -> [Endpoint] {
    enter("endpoints")
    var endpoints: [Endpoint] = []
    repeat { endpoints.append(try parseEndpoint()) } while consumeComma()
    return endpoints
  }

  private mutating func parseEndpoint() throws -> Endpoint {
    enter("endpoint")
    let mark = beginOperand()
    let token = peek
    switch token.kind {
    case .keyword(.role):
      advance()
      let name = try expectName("a role")
      return Endpoint(kind: .role(name), range: range(from: token))
    case .keyword(.zone):
      advance()
      let name = try expectName("a zone name")
      return Endpoint(kind: .zone(name), range: range(from: token))
    case .address:
      advance()
      return Endpoint(kind: .address(Literal(text: token.value, range: range(of: token))), range: range(of: token))
    case .glob:
      advance()
      let name = Identifier(text: token.value, range: range(of: token))
      return Endpoint(kind: .glob(name), range: range(of: token))
    case .name, .string:
      let name = try expectName("an endpoint")
      return Endpoint(kind: .asset(name), range: name.range)
    case .numeric:
      throw fail(
        "'\(token.value)' is not an endpoint: write an address in full, or quote a name that starts with a digit",
        at: token)
    default:
      throw operandFailure(
        { "expected an endpoint (an asset, a glob, 'role NAME', 'zone NAME' or an address), found \($0)" }, mark: mark)
    }
  }

  private mutating func parseServiceItems() throws -> [ServiceItem] {
    enter("service_items")
    var items: [ServiceItem] = []
    repeat {
      enter("service_item")
      let mark = beginOperand()
      let token = peek
      switch token.kind {
      case .portLiteral:
        advance()
        items.append(.port(Literal(text: token.value, range: range(of: token))))
      case .name where Self.bareProtocols.contains(token.value):
        advance()
        items.append(.port(Literal(text: token.value, range: range(of: token))))
      case .name, .string:
        items.append(.service(try expectName("a service")))
      case .numeric:
        if case .port(let previous)? = items.last, previous.text.contains("/") {
          let proto = previous.text.prefix { $0 != "/" }
          throw fail(
            "a list after one protocol does not continue it: write '\(previous.text), \(proto)/\(token.value)' or a range '\(proto)/A-B'",
            at: token, id: .badPort)
        }
        throw fail("expected a service name or a port literal such as 'tcp/\(token.value)'", at: token, id: .badPort)
      default:
        throw operandFailure(
          { "expected a service name or a port literal (tcp/502, udp/2222), found \($0)" }, mark: mark)
      }
    } while consumeComma()
    return items
  }

  private mutating func parseNameList(_ what: String) throws -> [Identifier] {
    enter("name_list")
    var names: [Identifier] = []
    repeat { names.append(try expectName(what)) } while consumeComma()
    return names
  }

  // MARK: - Tokens

  private var peek: Token { tokens[position] }

  @discardableResult
  private mutating func advance() -> Token {
    let token = tokens[position]
    if position < tokens.count - 1 { position += 1 }
    return token
  }

  private mutating func enter(_ production: String) {
    if recordsProductions { visitedProductions.insert(production) }
  }

  private mutating func skipNewlines() {
    while peek.kind == .newline { advance() }
  }

  /// Skips the new lines before a required operand and returns where they began.
  private mutating func beginOperand() -> Int {
    let mark = position
    skipNewlines()
    return mark
  }

  /// Reports a missing operand. When new lines were skipped to look for it, the error points at the end of the
  /// statement's line and parsing resumes there, so the next line is parsed as a statement of its own.
  private mutating func operandFailure(
    _ message: (String) -> String, mark: Int, id: CheckID = .syntax, notes: [DiagnosticNote] = []
  ) -> Recovery {
    if position > mark, tokens[mark].kind == .newline { position = mark }
    return fail(message(describe(peek)), at: peek, id: id, notes: notes)
  }

  private mutating func skipSeparators() {
    while peek.kind == .newline || peek.kind == .semicolon { advance() }
  }

  private mutating func consumeComma() -> Bool {
    guard peek.kind == .comma else { return false }
    advance()
    return true
  }

  private mutating func skipStatement() {
    var depth = 0
    while true {
      switch peek.kind {
      case .endOfFile: return
      case .leftBrace: depth += 1
      case .rightBrace:
        if depth == 0 { return }
        depth -= 1
      case .newline, .semicolon:
        if depth == 0 { return }
      default: break
      }
      advance()
    }
  }

  private mutating func expectStatementEnd() throws {
    guard !peek.isStatementEnd else { return }
    throw fail("expected the end of the statement (a new line or ';'), found \(describe(peek))", at: peek)
  }

  private mutating func expectKeyword(_ keyword: Keyword) throws {
    guard peek.kind == .keyword(keyword) else {
      throw fail("expected '\(keyword.rawValue)', found \(describe(peek))", at: peek)
    }
    advance()
  }

  private mutating func expectName(_ what: String) throws -> Identifier {
    enter("name")
    let mark = beginOperand()
    let token = peek
    switch token.kind {
    case .name:
      advance()
      return Identifier(text: token.value, range: range(of: token))
    case .string:
      advance()
      return Identifier(text: token.value, range: range(of: token), isQuoted: true)
    case .keyword(let keyword) where position == mark || tokens[mark].kind != .newline:
      throw fail(
        "expected \(what), found the reserved word '\(keyword.rawValue)' (quote it to use it as a name: \"\(keyword.rawValue)\")",
        at: token)
    default:
      throw operandFailure({ "expected \(what), found \($0)" }, mark: mark)
    }
  }

  private mutating func expectString(_ what: String) throws -> Literal {
    let mark = beginOperand()
    let token = peek
    guard token.kind == .string else {
      throw operandFailure({ "expected \(what) as a quoted string, found \($0)" }, mark: mark)
    }
    advance()
    return Literal(text: token.value, range: range(of: token))
  }

  private mutating func expectNumeric(_ what: String) throws -> Literal {
    let mark = beginOperand()
    let token = peek
    guard token.kind == .numeric else {
      throw operandFailure({ "expected \(what), found \($0)" }, mark: mark, id: token.isNameLike ? .badValue : .syntax)
    }
    advance()
    return Literal(text: token.value, range: range(of: token))
  }

  private mutating func expectAddress() throws -> Literal {
    let mark = beginOperand()
    let token = peek
    guard token.kind == .address || token.kind == .numeric else {
      throw operandFailure({ "expected an address or prefix, found \($0)" }, mark: mark, id: .badPrefix)
    }
    advance()
    return Literal(text: token.value, range: range(of: token))
  }

  private mutating func setOnce(_ slot: inout Literal?, _ value: Literal, statement: String) {
    if slot != nil { duplicateStatement(statement, at: value.range) } else { slot = value }
  }

  private mutating func duplicateStatement(_ statement: String, at range: SourceRange) {
    diagnostics.error(.badValue, "'\(statement)' given twice; it takes one value", at: range)
  }

  private func describe(_ token: Token) -> String {
    switch token.kind {
    case .name: "'\(token.value)'"
    case .keyword(let keyword): "'\(keyword.rawValue)'"
    case .string: "the string \"\(token.value)\""
    case .numeric: "'\(token.value)'"
    case .address: "the address '\(token.value)'"
    case .mac: "the MAC address '\(token.value)'"
    case .date: "the date '\(token.value)'"
    case .portLiteral: "'\(token.value)'"
    case .glob: "the glob '\(token.value)'"
    case .leftBrace: "'{'"
    case .rightBrace: "'}'"
    case .comma: "','"
    case .semicolon: "';'"
    case .arrow: "'->'"
    case .newline: "the end of the line"
    case .endOfFile: "the end of the file"
    case .invalid: "'\(file.text(in: token.start..<token.end))'"
    }
  }

  private func range(of token: Token) -> SourceRange {
    SourceRange(file: file, start: token.start, end: token.end)
  }

  /// The range from `start` to the end of the last consumed token (newlines excluded).
  private func range(from start: Token) -> SourceRange {
    var index = position - 1
    while index > 0, tokens[index].kind == .newline, tokens[index].start > start.start { index -= 1 }
    let end = index >= 0 ? max(tokens[index].end, start.end) : start.end
    return SourceRange(file: file, start: start.start, end: end)
  }

  private mutating func error(_ message: String, at token: Token, notes: [DiagnosticNote] = []) {
    diagnostics.error(.syntax, message, at: range(of: token), notes: notes)
  }

  private mutating func fail(
    _ message: String, at token: Token, id: CheckID = .syntax, notes: [DiagnosticNote] = []
  ) -> Recovery {
    diagnostics.error(id, token.kind == .invalid ? token.value : message, at: range(of: token), notes: notes)
    return Recovery()
  }
}

/// A declaration with a `{ … }` block, which may hold `accept-risk` statements.
protocol BlockDeclaration {
  var range: SourceRange { get set }
  var acceptRisks: [AcceptRiskStatement] { get set }
}

extension ZoneDeclaration: BlockDeclaration {}
extension AssetDeclaration: BlockDeclaration {}
extension GatewayDeclaration: BlockDeclaration {}
extension ConduitDeclaration: BlockDeclaration {}
extension MitigationDeclaration: BlockDeclaration {}
