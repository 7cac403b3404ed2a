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
  /// The mitigations the new policy was compiled with, in the order given.
  public var mitigations: [String] = []

  /// Whether the two policies allow exactly the same traffic.
  public var isEmpty: Bool { added.isEmpty && removed.isEmpty }
}

/// `conduit diff`: which flows a change adds and removes, whatever the gateways.
public enum Diff {
  /// The difference between two resolved policies, the new one compiled with `mitigations` active (what an
  /// emergency change removes and adds); mitigation conflicts go to `diagnostics`, an unknown name is thrown.
  public static func between(
    _ old: Policy, _ new: Policy, mitigations: [String] = [], diagnostics: inout DiagnosticEngine
  ) throws(LoweringError) -> PolicyDifference {
    let before = try Lowering.lower(old, options: LoweringOptions(ignoringGateways: true), diagnostics: &diagnostics)
    let after = try Lowering.lower(
      new, options: LoweringOptions(mitigations: mitigations, ignoringGateways: true), diagnostics: &diagnostics)
    var difference = PolicyDifference(added: [], removed: [], mitigations: mitigations)
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
}

extension PolicyDifference {
  fileprivate mutating func add<Address: FixedWidthInteger & UnsignedInteger & Sendable>(
    _ family: AddressFamily, _ kind: MatchKind, _ before: Ruleset, _ after: Ruleset, _ type: Address.Type,
    range: (ClosedRange<Address>) -> AddressRange
  ) {
    let offset = before.rules.count
    let regions =
      before.regions(family, kind, as: type) + after.regions(family, kind, ruleOffset: offset, as: type)
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
