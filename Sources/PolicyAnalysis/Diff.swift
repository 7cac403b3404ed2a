import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// One part of a difference: flows one policy allows and the other does not, with the rules that allow them.
public struct DiffPart: Hashable, Sendable {
  public var conduit: String
  public var family: AddressFamily
  public var kind: MatchKind
  public var sources: AddressRange
  public var destinations: AddressRange
  public var selectors: ClosedRange<UInt16>
  /// The rules (in the policy that allows the flows).
  public var rules: [RuleOrigin]
}

/// The exact difference between the flow sets of two policies: empty exactly when they allow the same traffic.
public struct PolicyDifference: Sendable {
  /// Flows the new policy allows and the old one does not.
  public var added: [DiffPart]
  /// Flows the old policy allows and the new one does not.
  public var removed: [DiffPart]

  /// Whether the two policies allow exactly the same traffic.
  public var isEmpty: Bool { added.isEmpty && removed.isEmpty }
}

/// `conduit diff`: which flows a change adds and removes, whatever the gateways.
public enum Diff {
  /// The difference between two resolved policies (each with the mitigations given).
  public static func between(
    _ old: Policy, _ new: Policy, diagnostics: inout DiagnosticEngine
  ) throws(LoweringError) -> PolicyDifference {
    let options = LoweringOptions(ignoringGateways: true)
    let before = try Lowering.lower(old, options: options, diagnostics: &diagnostics)
    let after = try Lowering.lower(new, options: options, diagnostics: &diagnostics)
    var difference = PolicyDifference(added: [], removed: [])
    for family in AddressFamily.allCases {
      for kind in MatchKind.kinds(of: family) {
        switch family {
        case .ipv4:
          difference.add(family, kind, before, after, UInt32.self, range: AddressRange.init)
        case .ipv6:
          difference.add(family, kind, before, after, UInt128.self, range: AddressRange.init)
        }
      }
    }
    return difference
  }

  /// The regions of one ruleset's elements of a family and kind, one per conduit, covers shifted by `offset`.
  static func regions<Address: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ ruleset: Ruleset, _ family: AddressFamily, _ kind: MatchKind, offset: Int, _: Address.Type
  ) -> [FlowRegion<Address>] {
    let elements = ruleset.elements.filter { $0.family == family && $0.kind == kind }
    return Set(elements.map(\.chain)).sorted().map { chain in
      FlowRegion(
        boxesOfARegion: elements.filter { $0.chain == chain }.map { element in
          FlowBox(
            sources: bounds(element.sources), destinations: bounds(element.destinations), selectors: element.selectors,
            cover: RuleCover(element.rules.map { $0 + offset }))
        })
    }
  }

  static func bounds<Address: FixedWidthInteger & UnsignedInteger>(_ range: AddressRange) -> ClosedRange<Address> {
    func value(_ address: IPAddress) -> Address {
      switch address {
      case .v4(let v4): Address(v4.value)
      case .v6(let v6): Address(truncatingIfNeeded: v6.value)
      }
    }
    return value(range.first)...value(range.last)
  }
}

extension PolicyDifference {
  fileprivate mutating func add<Address: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ family: AddressFamily, _ kind: MatchKind, _ before: Ruleset, _ after: Ruleset, _ type: Address.Type,
    range: (ClosedRange<Address>) -> AddressRange
  ) {
    let offset = before.rules.count
    let regions =
      Diff.regions(before, family, kind, offset: 0, type) + Diff.regions(after, family, kind, offset: offset, type)
    guard !regions.isEmpty else { return }
    for box in FlowRegion.union(regions).boxes {
      let old = box.cover.rules.filter { $0 < offset }
      let new = box.cover.rules.filter { $0 >= offset }.map { $0 - offset }
      guard old.isEmpty != new.isEmpty else { continue }
      let rules = old.isEmpty ? new.map { after.rules[$0] } : old.map { before.rules[$0] }
      let part = DiffPart(
        conduit: rules.first?.conduit ?? "", family: family, kind: kind, sources: range(box.sources),
        destinations: range(box.destinations), selectors: box.selectors, rules: rules)
      if old.isEmpty { added.append(part) } else { removed.append(part) }
    }
  }
}
