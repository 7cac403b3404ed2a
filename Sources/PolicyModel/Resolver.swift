import FlowSpace
import PolicyLanguage

/// Options of the resolve stage.
public struct ResolveOptions: Sendable {
  /// A baseline file that replaces the policy's `baseline` statement (`--baseline`).
  public var baselinePath: String?
  /// The baseline already read, used when the policy's baseline is at its path.
  public var prefetchedBaseline: PrefetchedBaseline?

  /// Creates options.
  public init(baselinePath: String? = nil, prefetchedBaseline: PrefetchedBaseline? = nil) {
    self.baselinePath = baselinePath
    self.prefetchedBaseline = prefetchedBaseline
  }
}

/// The resolve stage: names, values, the baseline and the rules of the parsed files become a `Policy` whose flows
/// keep their origin. Problems are reported and the faulty part is left out; only an unreadable `--baseline` throws.
public struct Resolver: Sendable {
  var diagnostics = DiagnosticEngine()
  let files: [PolicyFile]
  let options: ResolveOptions

  var siteName: String?
  var baselineFile: SourceFile?
  var zones: [Zone] = []
  var zonesByName: [String: Int] = [:]
  var outsideZone: Int?
  var zoneIndex = AddressIndex<Int>()
  var assets: [Asset] = []
  var assetsByName: [String: Int] = [:]
  var assetsByRole: [String: [Int]] = [:]
  var globCache: [String: [Int]] = [:]
  /// Each asset's addresses by zone (indexed by asset id), computed before the first rule is resolved.
  var assetPlacements: [AssetPlacement] = []
  /// Port literals already parsed: large policies repeat the same few hundred.
  var portLiterals: [String: Result<ServiceMatch, PortLiteral.Problem>] = [:]
  var assetNamesSorted: [(name: [UInt8], id: Int)] = []
  var assetNames: [String] = []
  /// How many more unknown names get a "did you mean" note (finding the closest name is costly).
  var suggestionsLeft = 50
  /// The baseline file could not be read: its assets are missing, so references to assets are not reported one by
  /// one (that error says it all).
  var baselineUnreadable = false
  /// How many unknown names were reported, and which findings carry a "did you mean" note (see `resolveRules`).
  var unknownNames = 0
  var suggestions: [Suggestion] = []
  var serviceDeclarations: [String: ServiceDeclaration] = [:]
  var services: [String: ServiceDefinition] = [:]
  /// How many levels of services each defined service is built from (1: port literals only).
  var serviceDepths: [String: Int] = [:]
  var usedServices: Set<String> = []
  var usedZones: Set<Int> = []
  var gateways: [Gateway] = []
  var conduits: [Conduit] = []
  var conduitsByZones: [[Int]: Int] = [:]
  var mitigations: [Mitigation] = []
  var rules: [Rule] = []
  var flows: [Flow] = []
  var siteAcceptRisks: [AcceptRiskStatement] = []

  /// Resolves parsed files (the main file first) into a policy.
  public static func resolve(
    _ files: [PolicyFile], options: ResolveOptions = ResolveOptions(), diagnostics: inout DiagnosticEngine
  ) throws(InputFileError) -> Policy {
    var resolver = Resolver(files: files, options: options)
    let policy = try resolver.run()
    diagnostics.append(contentsOf: resolver.diagnostics)
    return policy
  }

  init(files: [PolicyFile], options: ResolveOptions) {
    self.files = files
    self.options = options
  }

  var declarations: [Declaration] { files.flatMap(\.declarations) }

  mutating func run() throws(InputFileError) -> Policy {
    resolveSiteAndBaselineStatements()
    resolveServices()
    resolveZones()
    try resolveAssets()
    resolveGateways()
    resolveConduits()
    resolveMitigations()
    return Policy(
      siteName: siteName, files: files, baselineFile: baselineFile, zones: zones, assets: assets, services: services,
      gateways: gateways, conduits: conduits, mitigations: mitigations, rules: rules, flows: flows,
      zoneIndex: zoneIndex, outsideZone: outsideZone, siteAcceptRisks: siteAcceptRisks, usedServices: usedServices,
      usedZones: usedZones)
  }

  // MARK: - Site, baseline, services

  private mutating func resolveSiteAndBaselineStatements() {
    var site: SiteDeclaration?
    for declaration in declarations {
      switch declaration {
      case .site(let declaration):
        if let first = site {
          diagnostics.error(
            .badValue, "'site' given twice", at: declaration.range,
            notes: [DiagnosticNote("first given here", at: first.range)])
        } else {
          site = declaration
          siteName = declaration.name.text
        }
      case .acceptRisk(let statement):
        siteAcceptRisks.append(statement)
      default: break
      }
    }
  }

  private mutating func resolveServices() {
    var firstDefinition: [String: SourceRange] = [:]
    for case .service(let declaration) in declarations {
      if let first = firstDefinition[declaration.name.text] {
        duplicate("service", declaration.name, first: first)
        continue
      }
      firstDefinition[declaration.name.text] = declaration.name.range
      serviceDeclarations[declaration.name.text] = declaration
    }
    for name in BuiltinServices.definitions.keys where serviceDeclarations[name] == nil {
      serviceDepths[name] = 1
      services[name] = ServiceDefinition(
        name: name, declaration: nil,
        items: BuiltinServices.matches(of: name)!.map { match in
          ResolvedItem(match: match, range: placeholderRange, literalRange: placeholderRange, viaServices: [name])
        })
    }
    for name in serviceDeclarations.keys.sorted() { defineService(name) }
  }

  /// How many levels of services a service may be built from. Each resolved item carries the services it was
  /// reached through, so the depth multiplies the size of every item; real policies nest two or three levels.
  static let serviceNestingLimit = 64

  /// A service definition being expanded by `defineService`: the items expanded so far and how deep it nests.
  private struct ServiceFrame {
    var declaration: ServiceDeclaration
    var nextItem = 0
    var items: [ResolvedItem] = []
    /// The (match, port literal) pairs already in `items`: a service listed twice adds its items once, so that
    /// services built from two copies of the one below them stay as small as that one.
    var itemKeys: Set<ServiceItemKey> = []
    /// 1 for a service of port literals only; above `serviceNestingLimit` when a nesting error was reported.
    var depth = 1

    init(_ declaration: ServiceDeclaration) { self.declaration = declaration }

    mutating func add(_ expanded: [ResolvedItem]) {
      for item in expanded {
        let key = ServiceItemKey(match: item.match, literal: item.literalRange)
        if itemKeys.insert(key).inserted { items.append(item) }
      }
    }
  }

  private struct ServiceItemKey: Hashable {
    var match: ServiceMatch
    var literal: SourceRange
  }

  /// Defines the declared service `root` and every declared service it is built from, depth first on an explicit
  /// stack: the length of a chain of services is the policy's to choose, the thread's stack is not.
  private mutating func defineService(_ root: String) {
    guard services[root] == nil, let rootDeclaration = serviceDeclarations[root] else { return }
    var stack = [ServiceFrame(rootDeclaration)]
    var stackIndex = [root: 0]
    while let top = stack.indices.last {
      let declaration = stack[top].declaration
      let name = declaration.name.text
      guard stack[top].nextItem < declaration.items.count else {
        let frame = stack.removeLast()
        stackIndex[name] = nil
        serviceDepths[name] = frame.depth
        services[name] = ServiceDefinition(
          name: name, declaration: frame.declaration,
          items: frame.items.map { item in
            var item = item
            item.viaServices.insert(name, at: 0)
            return item
          })
        continue
      }
      let item = declaration.items[stack[top].nextItem]
      if case .service(let used) = item, services[used.text] == nil,
        let usedDeclaration = serviceDeclarations[used.text]
      {
        if let start = stackIndex[used.text] {
          usedServices.insert(used.text)
          let cycle = Self.describeCycle(stack[start...].map(\.declaration.name.text) + [used.text])
          diagnostics.error(
            .serviceCycle, "service '\(used.text)' is defined through itself: \(cycle)",
            at: usedDeclaration.name.range)
          stack[top].nextItem += 1
        } else {
          stackIndex[used.text] = stack.count
          stack.append(ServiceFrame(usedDeclaration))
        }
        continue
      }
      stack[top].nextItem += 1
      guard case .service(let used) = item, let usedDepth = serviceDepths[used.text] else {
        stack[top].add(expand(item))
        continue
      }
      if usedDepth >= Self.serviceNestingLimit {
        usedServices.insert(used.text)
        if usedDepth == Self.serviceNestingLimit {
          let limit = Self.serviceNestingLimit
          diagnostics.error(
            .badValue,
            "service '\(name)' would be built from services \(usedDepth + 1) levels deep through '\(used.text)'; "
              + "at most \(limit) levels are allowed", at: used.range)
        }
        stack[top].depth = Self.serviceNestingLimit + 1
        continue
      }
      stack[top].depth = max(stack[top].depth, usedDepth + 1)
      stack[top].add(expand(item))
    }
  }

  /// `a -> b -> a`; a long cycle shows its first and last five services and how many lie between.
  private static func describeCycle(_ names: [String]) -> String {
    guard names.count > 12 else { return names.joined(separator: " -> ") }
    let between = "(\(names.count - 10) more)"
    return (names.prefix(5) + [between] + names.suffix(5)).joined(separator: " -> ")
  }

  /// A range in no file, for built-in definitions; replaced by the using item's range when expanded.
  private var placeholderRange: SourceRange { SourceRange(file: files[0].file, start: 0, end: 0) }

  /// The matches of one service item as written at `item.range`. Services are looked up among those already
  /// defined: `resolveServices` defines every declared one first.
  mutating func expand(_ item: ServiceItem) -> [ResolvedItem] {
    switch item {
    case .port(let literal):
      let parsed: Result<ServiceMatch, PortLiteral.Problem>
      if let known = portLiterals[literal.text] {
        parsed = known
      } else {
        parsed = PortLiteral.parse(literal.text)
        portLiterals[literal.text] = parsed
      }
      switch parsed {
      case .success(let match):
        return [ResolvedItem(match: match, range: literal.range, literalRange: literal.range, viaServices: [])]
      case .failure(let problem):
        diagnostics.error(.badPort, problem.message, at: literal.range)
        return []
      }
    case .service(let name):
      usedServices.insert(name.text)
      guard let definition = services[name.text] else {
        if serviceDeclarations[name.text] == nil {
          unknown("service", name, candidates: Array(serviceDeclarations.keys) + BuiltinServices.definitions.keys)
        }
        return []
      }
      return definition.items.map { item in
        var item = item
        if item.literalRange.start == 0, item.literalRange.end == 0 { item.literalRange = name.range }
        item.range = name.range
        return item
      }
    }
  }

  mutating func expand(_ items: [ServiceItem]) -> [ResolvedItem] {
    items.flatMap { expand($0) }
  }

  // MARK: - Zones

  private mutating func resolveZones() {
    var entries: [(prefix: IPPrefix, value: Int)] = []
    for case .zone(let declaration) in declarations {
      if let first = zonesByName[declaration.name.text] {
        duplicate("zone", declaration.name, first: zones[first].nameRange)
        continue
      }
      let id = zones.count
      var zone = Zone(
        id: id, name: declaration.name.text, nameRange: declaration.name.range, range: declaration.range,
        level: nil, securityLevel: nil, networks: [], isOutside: false, addresses: AddressSet(),
        listedAssets: declaration.assets, tags: Set(declaration.tags.map(\.text)), declaration: declaration)
      if let level = declaration.level {
        zone.level = PurdueLevel(level.text)
        if zone.level == nil {
          diagnostics.error(
            .badValue, "'\(level.text)' is not a Purdue level: use 0, 1, 2, 3, 3.5 (industrial DMZ), 4 or 5",
            at: level.range)
        }
      }
      zone.securityLevel = checkSecurityLevel(
        declaration.securityLevel, range: 1...4, what: "a zone's security level (SL-T)")
      for network in declaration.networks {
        if let outside = network.outside {
          if outsideZone == id {
            diagnostics.error(.badValue, "'network outside' given twice in zone '\(zone.name)'", at: outside)
          } else if let other = outsideZone {
            diagnostics.error(
              .badValue, "only one zone may be 'network outside'", at: outside,
              notes: [
                DiagnosticNote("zone '\(zones[other].name)' is already the outside zone", at: zones[other].nameRange)
              ])
          } else {
            zone.isOutside = true
            outsideZone = id
          }
        }
        for literal in network.prefixes {
          guard let prefix = parsePrefix(literal) else { continue }
          zone.networks.append(LocatedPrefix(prefix: prefix, range: literal.range))
          zone.addresses.insert(prefix)
          entries.append((prefix, id))
        }
      }
      if declaration.networks.isEmpty {
        diagnostics.error(
          .missingStatement, "zone '\(zone.name)' has no 'network': give its prefixes or 'network outside'",
          at: declaration.name.range)
      }
      if declaration.securityLevel == nil {
        diagnostics.error(
          .missingSecurityLevel, "zone '\(zone.name)' has no 'security-level' (its SL-T, 1 to 4)",
          at: declaration.name.range)
      }
      zonesByName[zone.name] = id
      zones.append(zone)
    }
    zoneIndex = AddressIndex(entries)
    if let outside = outsideZone {
      zones[outside].addresses = zoneIndex.covered.complement()
    }
  }

  mutating func checkSecurityLevel(_ literal: Literal?, range: ClosedRange<Int>, what: String) -> Int? {
    guard let literal else { return nil }
    guard let value = Int(literal.text), range.contains(value) else {
      diagnostics.error(
        .badValue, "'\(literal.text)' is not \(what): use \(range.lowerBound) to \(range.upperBound)", at: literal.range
      )
      return nil
    }
    return value
  }

  /// Parses a prefix literal, reporting `bad-prefix` with the network address when host bits are set.
  mutating func parsePrefix(_ literal: Literal) -> IPPrefix? {
    switch IPPrefix.parse(literal.text) {
    case .success(let prefix): return prefix
    case .failure(.hostBitsSet(let network)):
      diagnostics.error(
        .badPrefix, "'\(literal.text)' has host bits set", at: literal.range,
        notes: [DiagnosticNote("the network address is '\(network)'", at: literal.range)])
    case .failure(.invalidLength):
      diagnostics.error(.badPrefix, "'\(literal.text)' has an invalid prefix length", at: literal.range)
    case .failure(.invalidAddress):
      diagnostics.error(.badPrefix, "'\(literal.text)' is not a valid IPv4 or IPv6 address", at: literal.range)
    }
    return nil
  }

  // MARK: - Names

  mutating func duplicate(_ kind: String, _ name: Identifier, first: SourceRange) {
    diagnostics.error(
      .duplicateDefinition, "\(kind) '\(name.text)' is defined twice", at: name.range,
      notes: [DiagnosticNote("first defined here", at: first)])
  }

  mutating func unknown(
    _ kind: String, _ name: Identifier, candidates: some Sequence<String>, at range: SourceRange? = nil
  ) {
    if kind == "asset", baselineUnreadable { return }
    var notes: [DiagnosticNote] = []
    suggestionsLeft -= 1
    if suggestionsLeft >= 0, let guess = Spelling.closest(to: name.text, in: candidates) {
      notes.append(DiagnosticNote("did you mean '\(guess)'?", at: definitionRange(kind, guess)))
      suggestions.append(Suggestion(diagnostic: diagnostics.diagnostics.count, unknownName: unknownNames))
    }
    unknownNames += 1
    diagnostics.error(.unknownName, "unknown \(kind) '\(name.text)'", at: range ?? name.range, notes: notes)
  }

  private func definitionRange(_ kind: String, _ name: String) -> SourceRange? {
    switch kind {
    case "zone": zonesByName[name].map { zones[$0].nameRange }
    case "asset": assetsByName[name].map { assets[$0].origin.range }
    case "service": serviceDeclarations[name]?.name.range
    case "mitigation": mitigations.first { $0.name == name }?.nameRange
    default: nil
    }
  }

  mutating func zone(named name: Identifier) -> Int? {
    guard let id = zonesByName[name.text] else {
      unknown("zone", name, candidates: zones.map(\.name))
      return nil
    }
    return id
  }
}
