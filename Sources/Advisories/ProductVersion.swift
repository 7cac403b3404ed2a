import Foundation

/// A product version as advisories and inventories write it (`V3.1.4`, `SV3.51`, `22.011`, `2.1 SP3`, `4.21a`),
/// compared part by part (ADVISORIES.md): a leading `V`, `v` or `SV` is dropped; parts are split at `.`, `-`, `_`,
/// spaces and parentheses and at digit/letter boundaries; numeric parts compare as numbers (`22.011` is 22 and 11);
/// a missing part is 0 (`V2.9` = `2.9.0`); a letter part after the last number sorts after it (`4.21a` > `4.21`),
/// and before any further number (`4.21a` < `4.21.1`); letters compare without case.
public struct ProductVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
  /// One part: a number or a run of letters.
  public enum Part: Sendable, Hashable {
    case number(UInt64)
    case letters(String)
  }

  /// The text as written.
  public let text: String
  public let parts: [Part]

  /// Reads a version; nil when the text (after the prefix) does not start with a digit, holds a wildcard part
  /// (`x`, `*`), a number beyond 64 bits, or a character that is none of the above.
  public init?(_ text: String) {
    var rest = Substring(text.trimmingSpaces())
    if rest.hasPrefix("SV") || rest.hasPrefix("sv") {
      rest = rest.dropFirst(2)
    } else if rest.hasPrefix("V") || rest.hasPrefix("v") {
      rest = rest.dropFirst()
    }
    guard let first = rest.unicodeScalars.first, ("0"..."9").contains(first) else { return nil }
    var parts: [Part] = []
    var number: UInt64?
    var letters = ""
    func flush() -> Bool {
      if let value = number { parts.append(.number(value)) }
      if !letters.isEmpty { parts.append(.letters(letters.lowercased())) }
      number = nil
      letters = ""
      return true
    }
    for scalar in rest.unicodeScalars {
      switch scalar {
      case "0"..."9":
        if !letters.isEmpty { _ = flush() }
        let digit = UInt64(scalar.value - 48)
        let (times, overflowTimes) = (number ?? 0).multipliedReportingOverflow(by: 10)
        let (sum, overflowSum) = times.addingReportingOverflow(digit)
        guard !overflowTimes, !overflowSum else { return nil }
        number = sum
      case "a"..."z", "A"..."Z":
        if number != nil { _ = flush() }
        letters.unicodeScalars.append(scalar)
      case ".", "-", "_", " ", "(", ")":
        _ = flush()
      default:
        return nil
      }
    }
    _ = flush()
    guard !parts.contains(where: { $0 == .letters("x") }) else { return nil }
    self.text = text.trimmingSpaces()
    self.parts = parts
  }

  public var description: String { text }

  public static func == (lhs: ProductVersion, rhs: ProductVersion) -> Bool { compare(lhs.parts, rhs.parts) == 0 }

  public func hash(into hasher: inout Hasher) {
    var trimmed = parts
    while trimmed.last == .number(0) { trimmed.removeLast() }
    hasher.combine(trimmed)
  }

  public static func < (lhs: ProductVersion, rhs: ProductVersion) -> Bool { compare(lhs.parts, rhs.parts) < 0 }

  /// -1, 0 or 1. A missing part is the number 0; a number and a run of letters at one position: the letters come
  /// after a missing part (a suffix) and before a number that is there.
  static func compare(_ lhs: [Part], _ rhs: [Part]) -> Int {
    for index in 0..<max(lhs.count, rhs.count) {
      let left = index < lhs.count ? lhs[index] : nil
      let right = index < rhs.count ? rhs[index] : nil
      switch (left ?? .number(0), right ?? .number(0)) {
      case (.number(let a), .number(let b)):
        if a != b { return a < b ? -1 : 1 }
      case (.letters(let a), .letters(let b)):
        if a != b { return a < b ? -1 : 1 }
      case (.letters, .number):
        return right == nil ? 1 : -1
      case (.number, .letters):
        return left == nil ? -1 : 1
      }
    }
    return 0
  }
}

/// The versions of a product an advisory names: every version, one version, or the versions between bounds, read
/// from CSAF's `product_version` / `product_version_range` names — `vers:` ranges (`vers:all/*`,
/// `vers:generic/>=1.0|<2.0`, and the Siemens form `vers:all/>=V7.80<V9.40`) and free text (`< V4.33`,
/// `All versions < V2.1 SP3`, `<= 2020`, `>= 5.0 | < 7.17.0.0`, `All versions`).
public enum VersionRange: Sendable, Hashable, CustomStringConvertible {
  /// Every version.
  case all
  /// Exactly this version.
  case exactly(ProductVersion)
  /// The versions within the bounds (nil: unbounded); `Bound.inclusive` says whether the bound itself is in.
  case between(lower: Bound?, upper: Bound?)
  /// Any of several ranges (`1.2 | 1.4`, `< 1.99 | 2.20 | 2.40`): a list of versions and bounds.
  case anyOf([VersionRange])
  /// Below the fixed version of the asset's release branch: `<V33.017_V34.014_V35.013` (Rockwell's form) names one
  /// fixed version per major release. A version is in when it is below the fix of its own major release; a major
  /// release the list does not name is in when it is below the newest fix (an unlisted branch is not known fixed).
  case belowBranchFixes(inclusive: Bool, [ProductVersion])
  /// Text that is no range conduit can read: a match on it makes no version claim.
  case unreadable(String)

  /// One end of a range.
  public struct Bound: Sendable, Hashable {
    public var version: ProductVersion
    public var inclusive: Bool
  }

  /// Reads `product_version_range` text.
  public static func range(_ text: String) -> VersionRange {
    var rest = text.trimmingSpaces()
    if rest.lowercased().hasPrefix("vers:") {
      guard let slash = rest.firstIndex(of: "/") else { return .unreadable(text) }
      rest = String(rest[rest.index(after: slash)...]).trimmingSpaces()
      if rest == "*" { return .all }
    } else if rest.lowercased().hasPrefix("all"), let versions = rest.range(of: "versions", options: .caseInsensitive) {
      rest = String(rest[versions.upperBound...]).trimmingSpaces()
      if rest.isEmpty { return .all }
    }
    let groups = rest.split(separator: "|", omittingEmptySubsequences: false)
    var ranges: [VersionRange] = []
    for group in groups {
      let trimmed = group.trimmingSpaces()
      if let branches = branchFixes(trimmed) {
        ranges.append(branches)
        continue
      }
      if let version = ProductVersion(trimmed) {
        ranges.append(.exactly(version))
        continue
      }
      guard let comparisons = comparisons(in: group), let range = bounded(comparisons) else { return .unreadable(text) }
      ranges.append(range)
    }
    if ranges.count == 2, case .between(let lower?, nil) = ranges[0], case .between(nil, let upper?) = ranges[1] {
      return upper.version < lower.version ? .unreadable(text) : .between(lower: lower, upper: upper)
    }
    guard let first = ranges.first else { return .unreadable(text) }
    return ranges.count == 1 ? first : .anyOf(ranges)
  }

  /// The range of one group's comparisons (at most one lower and one upper bound, or one `=`); nil otherwise.
  static func bounded(_ comparisons: [(String, ProductVersion)]) -> VersionRange? {
    var lower: Bound?
    var upper: Bound?
    for (operation, version) in comparisons {
      switch operation {
      case "<", "<=":
        guard upper == nil else { return nil }
        upper = Bound(version: version, inclusive: operation == "<=")
      case ">", ">=":
        guard lower == nil else { return nil }
        lower = Bound(version: version, inclusive: operation == ">=")
      default:
        return comparisons.count == 1 ? .exactly(version) : nil
      }
    }
    if let lower, let upper, upper.version < lower.version { return nil }
    return .between(lower: lower, upper: upper)
  }

  /// `<V33.017_V34.014` or `<=v36.011_v35.013`: an upper bound per release branch, each piece a `V`-prefixed
  /// version, joined by `_`; nil for any other text.
  static func branchFixes(_ text: String) -> VersionRange? {
    let inclusive = text.hasPrefix("<=")
    guard text.hasPrefix("<") else { return nil }
    let list = text.dropFirst(inclusive ? 2 : 1).trimmingSpaces()
    let pieces = list.split(separator: "_", omittingEmptySubsequences: false)
    guard pieces.count >= 2 else { return nil }
    var versions: [ProductVersion] = []
    for piece in pieces {
      let scalars = Array(piece.unicodeScalars)
      guard scalars.count >= 2, scalars[0] == "v" || scalars[0] == "V", ("0"..."9").contains(scalars[1]),
        let version = ProductVersion(String(piece)), case .number? = version.parts.first
      else { return nil }
      versions.append(version)
    }
    return .belowBranchFixes(inclusive: inclusive, versions.sorted())
  }

  /// Reads `product_version` text: one version (`vers:` `*` and "All versions" read as every version).
  public static func version(_ text: String) -> VersionRange {
    let trimmed = text.trimmingSpaces()
    if trimmed.lowercased().hasPrefix("vers:") || trimmed.lowercased().hasPrefix("all") { return range(trimmed) }
    return ProductVersion(trimmed).map(VersionRange.exactly) ?? .unreadable(text)
  }

  /// The comparisons of one `|` group: each an operator (`<`, `<=`, `>`, `>=`, `=`) and a version, written one
  /// after the other with or without spaces (`>=V7.80<V9.40`); nil when the group is anything else.
  static func comparisons(in group: Substring) -> [(String, ProductVersion)]? {
    var result: [(String, ProductVersion)] = []
    var scalars = Array(group.unicodeScalars)
    while let first = scalars.first, first == " " { scalars.removeFirst() }
    while !scalars.isEmpty {
      var operation = ""
      while let first = scalars.first, "<>=".unicodeScalars.contains(first) {
        operation.unicodeScalars.append(first)
        scalars.removeFirst()
      }
      guard ["<", "<=", ">", ">=", "=", "=="].contains(operation) else { return nil }
      let end = scalars.firstIndex { "<>=|".unicodeScalars.contains($0) } ?? scalars.count
      var text = ""
      text.unicodeScalars.append(contentsOf: scalars[0..<end])
      scalars.removeFirst(end)
      guard let version = ProductVersion(text) else { return nil }
      result.append((operation == "==" ? "=" : operation, version))
    }
    return result.isEmpty ? nil : result
  }

  /// Whether `version` lies in the range; nil when the range is unreadable.
  public func contains(_ version: ProductVersion) -> Bool? {
    switch self {
    case .all: return true
    case .exactly(let exact): return exact == version
    case .between(let lower, let upper):
      if let lower, lower.inclusive ? version < lower.version : version <= lower.version { return false }
      if let upper, upper.inclusive ? version > upper.version : version >= upper.version { return false }
      return true
    case .anyOf(let ranges):
      let answers = ranges.map { $0.contains(version) }
      return answers.contains(true) ? true : answers.contains(nil) ? nil : false
    case .belowBranchFixes(let inclusive, let fixes):
      func below(_ fix: ProductVersion) -> Bool { inclusive ? version <= fix : version < fix }
      if let own = fixes.first(where: { $0.parts.first == version.parts.first }) { return below(own) }
      return fixes.last.map(below) ?? false
    case .unreadable: return nil
    }
  }

  public var description: String {
    switch self {
    case .all: "all versions"
    case .exactly(let version): "= \(version)"
    case .between(let lower, let upper):
      [
        lower.map { "\($0.inclusive ? ">=" : ">") \($0.version)" },
        upper.map { "\($0.inclusive ? "<=" : "<") \($0.version)" },
      ].compactMap { $0 }.joined(separator: " ")
    case .anyOf(let ranges): ranges.map(\.description).joined(separator: " | ")
    case .belowBranchFixes(let inclusive, let fixes):
      (inclusive ? "<= " : "< ") + fixes.map(\.description).joined(separator: " or ") + " (by release branch)"
    case .unreadable(let text): "unreadable '\(text)'"
    }
  }
}

extension StringProtocol {
  /// The text without leading and trailing spaces and tabs (what `trimmingCharacters(in: .whitespaces)` does for the
  /// text advisories hold, without bridging to NSString).
  func trimmingSpaces() -> String {
    let scalars = String(self).unicodeScalars
    func isSpace(_ scalar: Unicode.Scalar) -> Bool {
      scalar.properties.isWhitespace && scalar != "\n" && scalar != "\r"
    }
    guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
    let last = scalars.lastIndex(where: { !isSpace($0) })!
    return String(scalars[first...last])
  }
}
