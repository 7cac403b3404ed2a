import Foundation

/// Reads CSAF 2.0 advisories as vendors and CISA publish them, tolerating what real files do (stray spaces in
/// vendor names, Siemens-style `vers:` ranges, free-text ranges) and reporting, never guessing, what it cannot read.
/// The JSON is parsed by Foundation (which bounds nesting); the product tree is walked with an explicit stack, so
/// the depth of the input never drives recursion here.
public enum CSAFReader {
  /// The largest advisory read (the largest of CISA's 2,380 OT advisories is about 1 MB).
  public static let maximumBytes = 32 << 20

  /// Reads the advisory in `bytes`, read from `file`.
  public static func read(_ bytes: [UInt8], file: String) -> Result<Advisory, AdvisoryReadError> {
    guard bytes.count <= maximumBytes else {
      return .failure(AdvisoryReadError(file: file, message: "it holds \(bytes.count) bytes, more than an advisory"))
    }
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
      return .failure(AdvisoryReadError(file: file, message: "it is not JSON (\(error.localizedDescription))"))
    }
    guard let root = object as? [String: Any], let document = root["document"] as? [String: Any],
      let tracking = document["tracking"] as? [String: Any], let id = text(tracking["id"])
    else { return .failure(AdvisoryReadError(file: file, message: "it is not a CSAF document with a tracking id")) }
    var problems: [Advisory.Problem] = []
    let csafVersion = text(document["csaf_version"])
    if csafVersion != "2.0" {
      problems.append(
        Advisory.Problem(file: file, message: "its csaf_version is '\(csafVersion ?? "missing")', not 2.0; read as 2.0")
      )
    }
    let products = self.products(root["product_tree"], file: file, problems: &problems)
    let vulnerabilities = (root["vulnerabilities"] as? [Any] ?? []).compactMap { entry -> Advisory.Vulnerability? in
      guard let vulnerability = entry as? [String: Any] else {
        problems.append(Advisory.Problem(file: file, message: "a vulnerability is not an object"))
        return nil
      }
      return self.vulnerability(vulnerability)
    }
    let notes = (document["notes"] as? [Any] ?? []).compactMap { ($0 as? [String: Any]).flatMap { text($0["text"]) } }
    return .success(
      Advisory(
        file: file, id: id, title: text(document["title"]) ?? "", releaseDate: text(tracking["initial_release_date"]),
        products: products, vulnerabilities: vulnerabilities, notes: notes, problems: problems))
  }

  /// The products of the product tree: every leaf branch holding a `product`, with the vendor, family and name of
  /// its ancestors, and the `full_product_names` at the top.
  static func products(_ tree: Any?, file: String, problems: inout [Advisory.Problem]) -> [Advisory.Product] {
    guard let tree = tree as? [String: Any] else {
      problems.append(Advisory.Problem(file: file, message: "it has no product tree"))
      return []
    }
    var result: [Advisory.Product] = []
    var stack: [(branches: [Any], context: Context)] = [(tree["branches"] as? [Any] ?? [], Context())]
    while let (branches, context) = stack.popLast() {
      for case let branch as [String: Any] in branches.reversed() {
        var inner = context
        let name = text(branch["name"])?.trimmingSpacesAndLineBreaks()
        let category = text(branch["category"])
        switch category {
        case "vendor": inner.vendor = name
        case "product_family": inner.family = name
        case "product_name": inner.name = name
        default: break
        }
        if let product = branch["product"] as? [String: Any] {
          var versions: VersionRange?
          if category == "product_version_range" || category == "product_version", let name {
            versions = category == "product_version" ? VersionRange.version(name) : VersionRange.range(name)
          }
          if let made = self.product(product, inner, versions: versions, file: file, problems: &problems) {
            result.append(made)
          }
        }
        if let children = branch["branches"] as? [Any] { stack.append((children, inner)) }
      }
    }
    for case let product as [String: Any] in tree["full_product_names"] as? [Any] ?? [] {
      if let made = self.product(product, Context(), versions: nil, file: file, problems: &problems) {
        result.append(made)
      }
    }
    result.sort { $0.productID < $1.productID }
    return result
  }

  /// What a branch's ancestors say of its product.
  struct Context {
    var vendor: String?
    var family: String?
    var name: String?
  }

  private static func product(
    _ product: [String: Any], _ context: Context, versions: VersionRange?,
    file: String, problems: inout [Advisory.Problem]
  ) -> Advisory.Product? {
    guard let id = text(product["product_id"]) else {
      problems.append(Advisory.Problem(file: file, message: "a product has no product_id"))
      return nil
    }
    let fullName = text(product["name"]) ?? ""
    if case .unreadable(let range)? = versions {
      problems.append(
        Advisory.Problem(
          file: file, product: id,
          message: "the version range '\(range)' of '\(fullName)' cannot be read: it matches without a version claim"))
    }
    let helper = product["product_identification_helper"] as? [String: Any] ?? [:]
    return Advisory.Product(
      productID: id, vendor: context.vendor, family: context.family, name: context.name ?? fullName,
      fullName: fullName, versions: versions, modelNumbers: texts(helper["model_numbers"]),
      cpe: text(helper["cpe"]), skus: texts(helper["skus"]), purl: text(helper["purl"]))
  }

  private static func vulnerability(_ entry: [String: Any]) -> Advisory.Vulnerability {
    var vulnerability = Advisory.Vulnerability(
      cve: text(entry["cve"]), cwe: text((entry["cwe"] as? [String: Any])?["id"]), title: text(entry["title"]))
    for case let score as [String: Any] in entry["scores"] as? [Any] ?? [] {
      guard let cvss = score["cvss_v3"] as? [String: Any], let base = (cvss["baseScore"] as? NSNumber)?.doubleValue,
        base.isFinite, (0...10).contains(base)
      else { continue }
      vulnerability.scores.append(
        Advisory.Score(baseScore: base, vector: text(cvss["vectorString"]), products: Set(texts(score["products"]))))
    }
    let status = entry["product_status"] as? [String: Any] ?? [:]
    vulnerability.knownAffected = Set(texts(status["known_affected"]))
    vulnerability.fixed = Set(texts(status["fixed"]) + texts(status["first_fixed"]))
    vulnerability.knownNotAffected = Set(texts(status["known_not_affected"]))
    for case let remediation as [String: Any] in entry["remediations"] as? [Any] ?? [] {
      guard let category = text(remediation["category"]) else { continue }
      vulnerability.remediations.append(
        Advisory.Remediation(
          category: category, details: text(remediation["details"]) ?? "",
          products: Set(texts(remediation["product_ids"]))))
    }
    vulnerability.notes = (entry["notes"] as? [Any] ?? []).compactMap {
      ($0 as? [String: Any]).flatMap { text($0["text"]) }
    }
    return vulnerability
  }

  private static func text(_ value: Any?) -> String? { value as? String }

  private static func texts(_ value: Any?) -> [String] { (value as? [Any] ?? []).compactMap { $0 as? String } }
}

extension String {
  /// The text without leading and trailing white space and line breaks, without bridging to NSString.
  func trimmingSpacesAndLineBreaks() -> String {
    let scalars = unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
    let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
    return String(scalars[first...last])
  }
}
