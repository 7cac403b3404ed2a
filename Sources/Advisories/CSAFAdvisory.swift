import Foundation

/// One CSAF 2.0 advisory as conduit reads it (ADVISORIES.md): the document, the products of its product tree, and
/// its vulnerabilities, with what could not be read reported beside them.
public struct Advisory: Sendable {
  /// The file it was read from, as given.
  public var file: String
  /// `document.tracking.id` (`ICSA-24-261-01`).
  public var id: String
  public var title: String
  /// `document.tracking.initial_release_date`, as written.
  public var releaseDate: String?
  public var products: [Product]
  public var vulnerabilities: [Vulnerability]
  /// The document's free-text notes (summary, details, general security recommendations), as written.
  public var notes: [String] = []
  /// What could not be read, each naming the product or field and the text.
  public var problems: [Problem]

  /// A product of the product tree: a leaf branch with a `product`, and what its ancestors say.
  public struct Product: Sendable, Equatable {
    public var productID: String
    /// The `vendor` branch's name, spaces trimmed.
    public var vendor: String?
    public var family: String?
    /// The `product_name` branch's name (or the product's full name when there is none).
    public var name: String?
    /// The product's full name (`product.name`).
    public var fullName: String
    /// The versions affected or named: from a `product_version` or `product_version_range` branch; nil when the
    /// tree gives none.
    public var versions: VersionRange?
    public var modelNumbers: [String] = []
    public var cpe: String?
    public var skus: [String] = []
    public var purl: String?
  }

  /// A vulnerability: its CVE, scores, the products by status, remediations and notes.
  public struct Vulnerability: Sendable, Equatable {
    public var cve: String?
    public var cwe: String?
    public var title: String?
    public var scores: [Score] = []
    public var knownAffected: Set<String> = []
    public var fixed: Set<String> = []
    public var knownNotAffected: Set<String> = []
    public var remediations: [Remediation] = []
    /// Free-text notes (summaries and the like), as written.
    public var notes: [String] = []
  }

  /// A CVSS v3 score and the products it is for.
  public struct Score: Sendable, Equatable {
    public var baseScore: Double
    public var vector: String?
    public var products: Set<String>
  }

  /// A remediation: `vendor_fix`, `mitigation`, `workaround`, `no_fix_planned`, `none_available`.
  public struct Remediation: Sendable, Equatable {
    public var category: String
    public var details: String
    public var products: Set<String>
  }

  /// Something of the advisory that could not be read: the advisory is still used, without it.
  public struct Problem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// The product it concerns (its product id), when one.
    public var product: String?
    public var message: String

    public var description: String { "\(file): " + (product.map { "product \($0): " } ?? "") + message }
  }
}

extension Advisory {
  /// A vulnerability as it concerns one product: its CVE (or title) and the highest CVSS v3 base score given for
  /// that product (or for the vulnerability as a whole when no score names products).
  public struct ProductVulnerability: Hashable, Sendable {
    public var cve: String
    public var baseScore: Double?
    public var vector: String?
  }

  /// The vulnerabilities that list `productID` as known affected and not as fixed or not affected, by CVE.
  public func vulnerabilities(of productID: String) -> [ProductVulnerability] {
    vulnerabilities.compactMap { vulnerability in
      guard vulnerability.knownAffected.contains(productID), !vulnerability.fixed.contains(productID),
        !vulnerability.knownNotAffected.contains(productID)
      else { return nil }
      let scores = vulnerability.scores.filter { $0.products.isEmpty || $0.products.contains(productID) }
      let best = scores.max { $0.baseScore < $1.baseScore }
      return ProductVulnerability(
        cve: vulnerability.cve ?? vulnerability.title ?? "unnamed vulnerability", baseScore: best?.baseScore,
        vector: best?.vector)
    }.sorted { $0.cve < $1.cve }
  }

  /// The remediation categories (`mitigation`, `vendor_fix`, …) given for `productID` (or for every product), each
  /// once, in order.
  public func remediationCategories(of productID: String) -> [String] {
    var seen: [String] = []
    for vulnerability in vulnerabilities where vulnerability.knownAffected.contains(productID) {
      for remediation in vulnerability.remediations
      where remediation.products.isEmpty || remediation.products.contains(productID) {
        if !seen.contains(remediation.category) { seen.append(remediation.category) }
      }
    }
    return seen
  }

  /// The ports the advisory's text names: the document's notes, the vulnerabilities' titles and notes, and the
  /// remediations' details.
  public var namedPorts: [NamedPort] {
    let texts =
      notes
      + vulnerabilities.flatMap { [$0.title].compactMap { $0 } + $0.notes + $0.remediations.map(\.details) }
    var found: [NamedPort] = []
    for text in texts {
      for port in NamedPorts.named(in: text) where !found.contains(port) { found.append(port) }
    }
    return found.sorted()
  }
}

/// Why a file is no advisory at all (not JSON, or no CSAF document with a tracking id).
public struct AdvisoryReadError: Error, Sendable, CustomStringConvertible {
  public var file: String
  public var message: String

  /// Why `file` is no advisory.
  public init(file: String, message: String) {
    self.file = file
    self.message = message
  }

  public var description: String { "\(file): \(message)" }
}
