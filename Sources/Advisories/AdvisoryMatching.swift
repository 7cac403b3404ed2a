import Foundation

/// What the baseline says an asset is, as matching reads it (the baseline's `vendor`, `product`/`device_family`,
/// `model`/`order_number` and `version`/`firmware` columns).
public struct AssetIdentity: Sendable, Equatable {
  public var name: String
  public var vendor: String?
  public var product: String?
  public var model: String?
  public var version: String?

  /// An asset's identity.
  public init(name: String, vendor: String?, product: String?, model: String?, version: String?) {
    self.name = name
    self.vendor = vendor
    self.product = product
    self.model = model
    self.version = version
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

/// Matches an advisory's products against a baseline's assets: the vendor must agree, then the product by model
/// number, else by name (a `BMXP34*`-style part number in the name matching the model by prefix); then the version
/// must lie in the product's range. A product listed as fixed or known not affected never matches; a range that
/// cannot be read gives a match without a version claim, never a version claim.
public enum AdvisoryMatcher {
  /// The matches of `advisory` among `assets`: for each asset its best product (most specific evidence).
  public static func matches(_ advisory: Advisory, assets: [AssetIdentity]) -> [AdvisoryMatch] {
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
    let products = advisory.products.map { product in
      (product: product, vendor: product.vendor.map(normalizedVendor), words: nameWords(product))
    }
    var result: [AdvisoryMatch] = []
    for (index, asset) in assets.enumerated() {
      guard let vendor = asset.vendor.map(normalizedVendor), !vendor.isEmpty else { continue }
      let version = asset.version.flatMap(ProductVersion.init)
      var best: AdvisoryMatch?
      for candidate in products where candidate.vendor == vendor {
        let product = candidate.product
        guard let recognised = recognition(of: asset, by: product, words: candidate.words) else { continue }
        var evidence = recognised.byModel ? AdvisoryMatch.Evidence.model : .name
        var versionNote = "version not compared"
        if let range = product.versions {
          if let version {
            switch range.contains(version) {
            case false?: continue
            case true?:
              evidence = recognised.byModel ? .modelAndVersion : .nameAndVersion
              versionNote = "version \(version) in \(range)"
            case nil: versionNote = "the advisory's range (\(range)) cannot be read"
            }
          } else {
            versionNote = "the asset's version '\(asset.version ?? "")' is unknown or unreadable"
          }
        }
        let cves = (affectedBy[product.productID] ?? []).sorted()
        if cves.isEmpty, notAffected.contains(product.productID) { continue }
        let match = AdvisoryMatch(
          asset: index, advisory: advisory.id, productID: product.productID, product: product.fullName,
          evidence: evidence, cves: cves, reason: recognised.reason + "; " + versionNote)
        if best.map({ match.evidence < $0.evidence }) ?? true { best = match }
      }
      if let best { result.append(best) }
    }
    return result
  }

  /// How `asset` is recognised as `product` (its vendor already agreeing): by model number, else by name; nil when
  /// neither agrees.
  static func recognition(of asset: AssetIdentity, by product: Advisory.Product, words: Set<String>)
    -> (byModel: Bool, reason: String)?
  {
    if let model = asset.model.map(normalizedModel), !model.isEmpty {
      if product.modelNumbers.contains(where: { normalizedModel($0) == model }) {
        return (true, "model number \(asset.model!) is listed")
      }
      for pattern in wildcardPartNumbers(product) where model.hasPrefix(pattern) {
        return (
          true, "model \(asset.model!) matches the part number \(pattern)* of '\(product.name ?? product.fullName)'"
        )
      }
    }
    guard let name = asset.product, !name.isEmpty else { return nil }
    let assetWords = Set(tokens(name))
    guard !assetWords.isEmpty, assetWords.isSubset(of: words) else { return nil }
    if let model = asset.model.map(normalizedModel), !model.isEmpty, !product.modelNumbers.isEmpty {
      return nil
    }
    return (false, "product '\(name)' is named in '\(product.name ?? product.fullName)'")
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
    text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map(String.init)
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
