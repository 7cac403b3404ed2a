import Foundation

/// What the baseline says an asset is, as matching reads it (the baseline's `vendor`, `product`/`device_family`,
/// `model`/`order_number` and `version`/`firmware` columns).
public struct AssetIdentity: Sendable, Equatable {
  public var name: String
  public var vendor: String?
  public var product: String?
  public var model: String?
  public var version: String?
  /// Its CPE (`cpe:2.3:h:siemens:s7-1500:…`), when the baseline has a `cpe` column.
  public var cpe: String?

  /// An asset's identity.
  public init(
    name: String, vendor: String?, product: String?, model: String?, version: String?, cpe: String? = nil
  ) {
    self.name = name
    self.vendor = vendor
    self.product = product
    self.model = model
    self.version = version
    self.cpe = cpe
  }
}

/// An asset an advisory's product hits, with why and how sure (ADVISORIES.md, Matching the baseline).
public struct AdvisoryMatch: Sendable, Equatable {
  /// How the product was recognised, most specific first, and whether the version was proven in range.
  public enum Evidence: String, Sendable, Comparable {
    case modelAndVersion = "model+version"
    case nameAndVersion = "name+version"
    case model
    case name

    /// Model evidence before name evidence, a version claim before none.
    var rank: Int {
      switch self {
      case .modelAndVersion: 0
      case .nameAndVersion: 1
      case .model: 2
      case .name: 3
      }
    }

    public static func < (lhs: Evidence, rhs: Evidence) -> Bool { lhs.rank < rhs.rank }
  }

  /// The asset's index among those matched against.
  public var asset: Int
  public var advisory: String
  public var productID: String
  public var product: String
  public var evidence: Evidence
  /// The CVEs of the vulnerabilities that list the product as known affected (or under no status).
  public var cves: [String]
  /// Why, in words: what agreed, and what the version claim rests on.
  public var reason: String
}

/// Matches advisories' products against a baseline's assets: the vendor must agree, then the product by model
/// number, else by name (a `BMXP34*`-style part number in the name matching the model by prefix); then the version
/// must lie in the product's range. A product listed as fixed or known not affected never matches; a range that
/// cannot be read gives a match without a version claim, never a version claim.
///
/// The baseline is indexed once: assets that say the same of themselves (vendor, product, model, version) are one
/// identity, found from a product by its model numbers (a hash lookup), its part-number wildcards (a binary search
/// in the sorted models) and its name words (an inverted index), so an advisory costs its products' size, not the
/// baseline's.
public struct AdvisoryMatcher: Sendable {
  /// Assets that say the same of themselves, matched once for all of them.
  struct Identity: Sendable {
    var asset: AssetIdentity
    var assets: [Int]
    var model: String?
    var version: ProductVersion?
    var words: [String]
  }

  /// One vendor's identities, indexed.
  struct VendorIndex: Sendable {
    var identities: [Int] = []
    var byModel: [String: [Int]] = [:]
    /// By the part, vendor and product fields of their CPE.
    var byCPE: [String: [Int]] = [:]
    var sortedModels: [(model: String, identity: Int)] = []
    /// Distinct product word sets, each filed under its rarest word among the vendor's sets: a product can name a
    /// set only if it holds that word, so a product looks at the sets of its own words and checks each once.
    var wordSets: [(words: [String], identities: [Int])] = []
    var wordSetsByRarestWord: [String: [Int]] = [:]
    var wordSetNumbers: [[String]: Int] = [:]
  }

  let identities: [Identity]
  let vendors: [String: VendorIndex]

  /// Indexes `assets` for matching.
  public init(assets: [AssetIdentity]) {
    var identities: [Identity] = []
    var byKey: [[String?]: Int] = [:]
    var vendors: [String: VendorIndex] = [:]
    var vendorNames: [String: String] = [:]
    for (index, asset) in assets.enumerated() {
      guard let written = asset.vendor else { continue }
      let vendor = vendorNames[written] ?? Self.normalizedVendor(written)
      vendorNames[written] = vendor
      guard !vendor.isEmpty else { continue }
      let key = [vendor, asset.product, asset.model, asset.version, asset.cpe]
      if let known = byKey[key] {
        identities[known].assets.append(index)
        continue
      }
      let model = asset.model.map(Self.normalizedModel).flatMap { $0.isEmpty ? nil : $0 }
      let words = Array(Set(asset.product.map(Self.tokens) ?? [])).sorted()
      let identity = identities.count
      byKey[key] = identity
      identities.append(
        Identity(
          asset: asset, assets: [index], model: model, version: asset.version.flatMap(ProductVersion.init),
          words: words))
      vendors[vendor, default: VendorIndex()].add(identities[identity], as: identity)
    }
    for vendor in vendors.keys {
      vendors[vendor]!.sortedModels.sort { $0.model < $1.model }
      vendors[vendor]!.fileWordSets()
    }
    self.identities = identities
    self.vendors = vendors
  }

  /// The matches of `advisory` among `assets`: for each asset its best product (most specific evidence).
  public static func matches(_ advisory: Advisory, assets: [AssetIdentity]) -> [AdvisoryMatch] {
    AdvisoryMatcher(assets: assets).matches(advisory)
  }

  /// The matches of `advisory` among the indexed assets, in asset order: for each asset its best product (most
  /// specific evidence; the first product in product-id order among equals).
  public func matches(_ advisory: Advisory) -> [AdvisoryMatch] {
    var notAffected: Set<String> = []
    var affectedBy: [String: [String]] = [:]
    for vulnerability in advisory.vulnerabilities {
      notAffected.formUnion(vulnerability.fixed)
      notAffected.formUnion(vulnerability.knownNotAffected)
      let cve = vulnerability.cve ?? vulnerability.title ?? "unnamed vulnerability"
      for product in vulnerability.knownAffected.subtracting(vulnerability.fixed).subtracting(
        vulnerability.knownNotAffected)
      {
        affectedBy[product, default: []].append(cve)
      }
    }
    var best: [Int: Candidate] = [:]
    for (productIndex, product) in advisory.products.enumerated() {
      guard let vendor = product.vendor.map(Self.normalizedVendor), let index = vendors[vendor] else { continue }
      let cves = affectedBy[product.productID] ?? []
      if cves.isEmpty, notAffected.contains(product.productID) { continue }
      for (identity, recognition) in recognitions(by: product, in: index) {
        guard let claim = versionClaim(identities[identity], product) else { continue }
        let candidate = Candidate(product: productIndex, recognition: recognition, claim: claim)
        if best[identity].map({ candidate.evidence < $0.evidence }) ?? true { best[identity] = candidate }
      }
    }
    var result: [AdvisoryMatch] = []
    for (identity, candidate) in best {
      let product = advisory.products[candidate.product]
      let match = AdvisoryMatch(
        asset: 0, advisory: advisory.id, productID: product.productID, product: product.fullName,
        evidence: candidate.evidence, cves: (affectedBy[product.productID] ?? []).sorted(),
        reason: reason(identities[identity], product, candidate))
      for asset in identities[identity].assets {
        var assetMatch = match
        assetMatch.asset = asset
        result.append(assetMatch)
      }
    }
    return result.sorted { $0.asset < $1.asset }
  }

  /// How a product recognises an identity.
  enum Recognition {
    /// One of its model numbers is the identity's.
    case listedModel
    /// The identity's model begins with this part number the product's name writes with a wildcard.
    case partNumber(String)
    /// Its CPE names the identity's CPE product (part, vendor and product agree).
    case cpe
    /// The identity's product words all occur in the product's names.
    case name
  }

  /// What the version says: in range, or why it was not compared.
  enum VersionClaim {
    case inRange
    case notCompared
    case unreadableRange
    case unknownVersion
  }

  /// One product's recognition of one identity, before its words are written.
  struct Candidate {
    var product: Int
    var recognition: Recognition
    var claim: VersionClaim

    var evidence: AdvisoryMatch.Evidence {
      let byModel = if case .name = recognition { false } else { true }
      switch (byModel, claim) {
      case (true, .inRange): return .modelAndVersion
      case (false, .inRange): return .nameAndVersion
      case (true, _): return .model
      case (false, _): return .name
      }
    }
  }

  /// The identities of `index` that `product` recognises, each with how (by model, else by name), in identity order.
  func recognitions(by product: Advisory.Product, in index: VendorIndex) -> [(Int, Recognition)] {
    var found: [Int: Recognition] = [:]
    for number in product.modelNumbers {
      for identity in index.byModel[Self.normalizedModel(number)] ?? [] where found[identity] == nil {
        found[identity] = .listedModel
      }
    }
    if let cpe = product.cpe.flatMap(Self.cpeProduct) {
      for identity in index.byCPE[cpe] ?? [] where found[identity] == nil { found[identity] = .cpe }
    }
    for pattern in Self.wildcardPartNumbers(product) {
      var low = 0
      var high = index.sortedModels.count
      while low < high {
        let middle = (low + high) / 2
        if index.sortedModels[middle].model < pattern { low = middle + 1 } else { high = middle }
      }
      for entry in index.sortedModels[low...].prefix(while: { $0.model.hasPrefix(pattern) })
      where found[entry.identity] == nil {
        found[entry.identity] = .partNumber(pattern)
      }
    }
    if !index.wordSets.isEmpty {
      let words = Self.nameWords(product)
      for word in words {
        for set in index.wordSetsByRarestWord[word] ?? [] where index.wordSets[set].words.allSatisfy(words.contains) {
          for identity in index.wordSets[set].identities where found[identity] == nil {
            if identities[identity].model != nil, !product.modelNumbers.isEmpty { continue }
            found[identity] = .name
          }
        }
      }
    }
    return found.sorted { $0.key < $1.key }
  }

  /// What the identity's version says against the product's range; nil when it lies outside.
  func versionClaim(_ identity: Identity, _ product: Advisory.Product) -> VersionClaim? {
    guard let range = product.versions else { return .notCompared }
    guard let version = identity.version else { return .unknownVersion }
    switch range.contains(version) {
    case false?: return nil
    case true?: return .inRange
    case nil: return .unreadableRange
    }
  }

  /// Why, in words: what agreed, and what the version claim rests on.
  func reason(_ identity: Identity, _ product: Advisory.Product, _ candidate: Candidate) -> String {
    let named = product.name ?? product.fullName
    let recognised =
      switch candidate.recognition {
      case .listedModel: "model number \(identity.asset.model ?? "") is listed"
      case .partNumber(let pattern):
        "model \(identity.asset.model ?? "") matches the part number \(pattern)* of '\(named)'"
      case .cpe: "the CPE product \(product.cpe.flatMap(Self.cpeProduct) ?? "") is the asset's"
      case .name: "product '\(identity.asset.product ?? "")' is named in '\(named)'"
      }
    let range = product.versions.map { "\($0)" } ?? ""
    let version =
      switch candidate.claim {
      case .inRange: "version \(identity.version.map { "\($0)" } ?? "") in \(range)"
      case .notCompared: "version not compared"
      case .unreadableRange: "the advisory's range (\(range)) cannot be read"
      case .unknownVersion: "the asset's version '\(identity.asset.version ?? "")' is unknown or unreadable"
      }
    return recognised + "; " + version
  }

  /// The part numbers a product's names write with a wildcard (`BMXP34*`), upper-cased without the `*`.
  static func wildcardPartNumbers(_ product: Advisory.Product) -> [String] {
    let names = [product.name, product.family, Optional(product.fullName)].compactMap { $0 }
    var result: [String] = []
    for name in names {
      for word in name.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == ")" || $0 == "," })
      where word.hasSuffix("*") {
        let stem = normalizedModel(String(word.dropLast()))
        if stem.count >= 3, !result.contains(stem) { result.append(stem) }
      }
    }
    return result
  }

  /// The words of a product's vendor-free names (name, family, full name), lower-cased.
  static func nameWords(_ product: Advisory.Product) -> Set<String> {
    Set([product.name, product.family, Optional(product.fullName)].compactMap { $0 }.flatMap(tokens))
  }

  /// Lower-cased words, split on spaces and punctuation.
  static func tokens(_ text: String) -> [String] {
    guard text.utf8.allSatisfy({ $0 < 0x80 }) else {
      return text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
    }
    var words: [String] = []
    var word: [UInt8] = []
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(byte | 0x20)
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): word.append(byte)
      default:
        if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
        word.removeAll(keepingCapacity: true)
      }
    }
    if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
    return words
  }

  /// The part, vendor and product of a CPE 2.3 name (`cpe:2.3:h:siemens:s7-1500`), lower-cased; nil for text that
  /// is no CPE 2.3 name or leaves them open (`*`, `-`).
  static func cpeProduct(_ cpe: String) -> String? {
    let fields = cpe.lowercased().split(separator: ":", omittingEmptySubsequences: false)
    guard fields.count >= 5, fields[0] == "cpe", fields[1] == "2.3" else { return nil }
    let named = fields[2...4]
    guard named.allSatisfy({ !$0.isEmpty && $0 != "*" && $0 != "-" }) else { return nil }
    return named.joined(separator: ":")
  }

  /// A vendor name without case, spaces, punctuation and legal suffixes (`Siemens AG` = `siemens`).
  static func normalizedVendor(_ vendor: String) -> String {
    var words = tokens(vendor)
    while let last = words.last, legalSuffixes.contains(last), words.count > 1 { words.removeLast() }
    return words.joined()
  }

  static let legalSuffixes: Set<String> = [
    "ag", "inc", "incorporated", "gmbh", "ltd", "limited", "llc", "corp", "corporation", "co", "company", "se", "sa",
    "plc", "bv", "nv", "kg", "srl", "spa", "oy", "ab", "as", "kk",
  ]

  /// A model or order number without case, spaces and dashes (`6ES7 288-1SR20-0AA0` = `6es72881sr200aa0`).
  static func normalizedModel(_ model: String) -> String {
    String(model.uppercased().unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "_" && $0 != "." })
  }
}

extension AdvisoryMatcher.VendorIndex {
  /// Files every word set under its rarest word (ties: the first in order), once all sets are known.
  mutating func fileWordSets() {
    var frequency: [String: Int] = [:]
    for set in wordSets {
      for word in set.words { frequency[word, default: 0] += 1 }
    }
    wordSetsByRarestWord = [:]
    for (number, set) in wordSets.enumerated() {
      guard let rarest = set.words.min(by: { (frequency[$0]!, $0) < (frequency[$1]!, $1) }) else { continue }
      wordSetsByRarestWord[rarest, default: []].append(number)
    }
  }

  /// Adds an identity to the vendor's indexes.
  mutating func add(_ identity: AdvisoryMatcher.Identity, as number: Int) {
    identities.append(number)
    if let cpe = identity.asset.cpe.flatMap(AdvisoryMatcher.cpeProduct) { byCPE[cpe, default: []].append(number) }
    if let model = identity.model {
      byModel[model, default: []].append(number)
      sortedModels.append((model, number))
    }
    guard !identity.words.isEmpty else { return }
    if let set = wordSetNumbers[identity.words] {
      wordSets[set].identities.append(number)
      return
    }
    wordSetNumbers[identity.words] = wordSets.count
    wordSets.append((identity.words, [number]))
  }
}
