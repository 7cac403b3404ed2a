import FlowSpace
import PolicyLanguage

extension Resolver {
  mutating func resolveAssets() throws(InputFileError) {
    var rows = BaselineRows()
    if let file = try loadBaselineFile() {
      baselineFile = file
      if let prefetched = options.prefetchedBaseline, prefetched.file === file,
        let prefetchedRows = prefetched.takeRows()
      {
        rows = prefetchedRows
        diagnostics.append(contentsOf: prefetched.diagnostics)
      } else {
        rows = BaselineRows(BaselineInterpreter(file: file).interpret(diagnostics: &diagnostics), &diagnostics)
      }
    }
    var drafts = rows.drafts
    var draftsByName = rows.indexByName
    rows = BaselineRows()
    var origins = drafts.map { AssetOrigin.baseline($0.range) }
    var declaredInPolicy: [String: SourceRange] = [:]
    for case .asset(let declaration) in declarations {
      let draft = draft(from: declaration)
      if let first = declaredInPolicy[draft.name.text] {
        duplicate("asset", declaration.name, first: first)
        continue
      }
      declaredInPolicy[draft.name.text] = declaration.name.range
      if let index = draftsByName[draft.name.text] {
        let row = drafts[index]
        drafts[index] = merge(policy: draft, baseline: row)
        origins[index] = .both(baseline: row.range, policy: declaration.range)
      } else {
        draftsByName[draft.name.text] = drafts.count
        drafts.append(draft)
        origins.append(.policy(declaration.range))
      }
    }

    let kept = drafts.indices.filter { !drafts[$0].addresses.isEmpty }
    assets = makeAssets(drafts, origins, kept)
    if kept.count == drafts.count {
      assetsByName = draftsByName
    } else {
      assetsByName.reserveCapacity(assets.count)
      for asset in assets { assetsByName[asset.name] = asset.id }
    }
    assetNames = assets.map(\.name)
    var lowercasedRoles: [String: String] = [:]
    for asset in assets {
      guard let role = asset.role else { continue }
      let key = lowercasedRoles[role] ?? role.lowercased()
      lowercasedRoles[role] = key
      assetsByRole[key, default: []].append(asset.id)
    }
  }

  /// The assets of the drafts `kept` (ids in their order), built in parallel.
  private func makeAssets(_ drafts: [AssetDraft], _ origins: [AssetOrigin], _ kept: [Int]) -> [Asset] {
    concurrentMap(count: kept.count, chunkSize: 1024) { id in
      makeAsset(id: id, drafts[kept[id]], origin: origins[kept[id]])
    }
  }

  private func makeAsset(id: Int, _ draft: AssetDraft, origin: AssetOrigin) -> Asset {
    let addresses = draft.addresses.map(\.address)
    return Asset(
      id: id, name: draft.name.text, addresses: addresses, role: draft.role?.text, vendor: draft.vendor?.text,
      product: draft.product?.text, model: draft.model?.text, version: draft.version?.text,
      criticality: draft.criticality?.value, securityLevel: draft.securityLevel?.value, mac: draft.mac?.text,
      tags: draft.tags, isShared: draft.isShared, baselineZone: draft.zone, attributes: draft.attributes,
      origin: origin, addressZones: addresses.map { zoneIndex.value(at: $0) ?? outsideZone })
  }

  private mutating func loadBaselineFile() throws(InputFileError) -> SourceFile? {
    if let path = options.baselinePath {
      if let prefetched = options.prefetchedBaseline, prefetched.path == path, let file = prefetched.file {
        return file
      }
      return try FileReader.readSource(path).get()
    }
    var statement: (PathDeclaration, SourceFile)?
    for policyFile in files {
      for case .baseline(let declaration) in policyFile.declarations {
        if let first = statement {
          diagnostics.error(
            .badValue, "'baseline' given twice", at: declaration.range,
            notes: [DiagnosticNote("first given here", at: first.0.range)])
        } else {
          statement = (declaration, policyFile.file)
        }
      }
    }
    guard let (declaration, file) = statement else { return nil }
    let path = FileReader.path(declaration.path.text, relativeTo: file.path)
    if let prefetched = options.prefetchedBaseline, prefetched.path == path, let file = prefetched.file {
      return file
    }
    switch FileReader.readSource(path) {
    case .success(let source):
      return source
    case .failure(let error):
      diagnostics.error(
        .missingFile, "cannot read baseline '\(declaration.path.text)': \(error.reason)", at: declaration.path.range)
      baselineUnreadable = true
      return nil
    }
  }

  private mutating func draft(from declaration: AssetDeclaration) -> AssetDraft {
    var draft = AssetDraft(
      name: Literal(text: declaration.name.text, range: declaration.name.range), range: declaration.range)
    for literal in declaration.addresses {
      guard let prefix = parsePrefix(literal) else { continue }
      guard prefix.isHost else {
        diagnostics.error(
          .badPrefix, "an asset address is a single host, not the network '\(literal.text)'", at: literal.range)
        continue
      }
      draft.addresses.append((prefix.address, literal.range))
    }
    if declaration.addresses.isEmpty {
      diagnostics.error(
        .missingStatement, "asset '\(declaration.name.text)' has no 'address'", at: declaration.name.range)
    }
    draft.role = declaration.role.map { Literal(text: $0.text, range: $0.range) }
    draft.vendor = declaration.vendor
    draft.product = declaration.product
    draft.model = declaration.model
    draft.version = declaration.version
    if let criticality = declaration.criticality {
      if let value = Criticality(criticality.text), !criticality.text.allSatisfy(\.isNumber) {
        draft.criticality = (value, criticality.range)
      } else {
        diagnostics.error(
          .badValue, "'\(criticality.text)' is not a criticality: use low, medium, high or critical",
          at: criticality.range)
      }
    }
    if let literal = declaration.securityLevel,
      let value = checkSecurityLevel(literal, range: 0...4, what: "an asset's security level (SL-C)")
    {
      draft.securityLevel = (value, literal.range)
    }
    draft.mac = declaration.mac
    draft.tags = Set(declaration.tags.map(\.text))
    draft.isShared = declaration.shared != nil
    return draft
  }

  /// The policy's values win; every value both give must agree, or it is an `asset-clash`.
  private mutating func merge(policy: AssetDraft, baseline: AssetDraft) -> AssetDraft {
    func clash(
      _ what: String, _ policyValue: String, _ policyRange: SourceRange, _ rowValue: String, _ rowRange: SourceRange
    ) {
      diagnostics.error(
        .assetClash,
        "asset '\(policy.name.text)' has \(what) '\(policyValue)' here but '\(rowValue)' in the baseline",
        at: policyRange, notes: [DiagnosticNote("the baseline row says '\(rowValue)'", at: rowRange)])
    }
    func compare(_ what: String, _ left: Literal?, _ right: Literal?, ignoringCase: Bool = false) {
      guard let left, let right else { return }
      let equal = ignoringCase ? left.text.lowercased() == right.text.lowercased() : left.text == right.text
      if !equal { clash(what, left.text, left.range, right.text, right.range) }
    }
    if !policy.addresses.isEmpty {
      let mine = Set(policy.addresses.map(\.address))
      let theirs = Set(baseline.addresses.map(\.address))
      if mine != theirs {
        clash(
          "address", policy.addresses.map { "\($0.address)" }.joined(separator: ", "), policy.addresses[0].range,
          baseline.addresses.map { "\($0.address)" }.joined(separator: ", "), baseline.addresses[0].range)
      }
    }
    compare("role", policy.role, baseline.role, ignoringCase: true)
    compare("vendor", policy.vendor, baseline.vendor)
    compare("product", policy.product, baseline.product)
    compare("model", policy.model, baseline.model)
    compare("version", policy.version, baseline.version)
    compare("MAC address", policy.mac, baseline.mac, ignoringCase: true)
    if let mine = policy.criticality, let theirs = baseline.criticality, mine.value != theirs.value {
      clash("criticality", "\(mine.value)", mine.range, "\(theirs.value)", theirs.range)
    }
    if let mine = policy.securityLevel, let theirs = baseline.securityLevel, mine.value != theirs.value {
      clash("security level", "\(mine.value)", mine.range, "\(theirs.value)", theirs.range)
    }
    var result = baseline
    result.name = policy.name
    if !policy.addresses.isEmpty { result.addresses = policy.addresses }
    result.role = policy.role ?? baseline.role
    result.vendor = policy.vendor ?? baseline.vendor
    result.product = policy.product ?? baseline.product
    result.model = policy.model ?? baseline.model
    result.version = policy.version ?? baseline.version
    result.criticality = policy.criticality ?? baseline.criticality
    result.securityLevel = policy.securityLevel ?? baseline.securityLevel
    result.mac = policy.mac ?? baseline.mac
    result.tags = policy.tags.union(baseline.tags)
    result.isShared = policy.isShared || baseline.isShared
    result.range = policy.range
    return result
  }
}

/// The rows of a baseline, the first of each name kept (later ones are reported as `duplicate-definition`).
struct BaselineRows: Sendable {
  private(set) var drafts: [AssetDraft] = []
  /// Index in `drafts` by asset name.
  private(set) var indexByName: [String: Int] = [:]

  init() {}

  /// Keeps the rows in place (no second copy of a large inventory) unless some names repeat.
  init(_ rows: [AssetDraft], _ diagnostics: inout DiagnosticEngine) {
    indexByName.reserveCapacity(rows.count)
    var repeated: [Int] = []
    for (index, draft) in rows.enumerated() {
      if let first = indexByName[draft.name.text] {
        diagnostics.error(
          .duplicateDefinition, "asset '\(draft.name.text)' appears twice in the baseline", at: draft.name.range,
          notes: [DiagnosticNote("first defined here", at: rows[first].name.range)])
        repeated.append(index)
        continue
      }
      indexByName[draft.name.text] = index
    }
    if repeated.isEmpty {
      drafts = rows
    } else {
      var next = 0
      drafts.reserveCapacity(rows.count - repeated.count)
      for (index, draft) in rows.enumerated() {
        if next < repeated.count, repeated[next] == index {
          next += 1
        } else {
          indexByName[draft.name.text] = drafts.count
          drafts.append(draft)
        }
      }
    }
  }
}
