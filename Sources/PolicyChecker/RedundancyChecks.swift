import FlowSpace
import PolicyLanguage
import PolicyModel

/// redundant-rule: a rule all of whose flows other rules already allow, with the same or stronger logging. Among
/// identical rules only the later is reported; mitigations are not considered.
///
/// Every conduit's flows of one family and protocol form one region (`ConduitRegions`, shared with the lowering by
/// `compile`) whose points know the rules covering them, so the work is one union per conduit and one pass over its
/// boxes: near-linear unless many rules overlap everywhere.
/// Rules are decided from the last to the first, and a rule already found redundant covers nothing, so two
/// identical rules do not excuse each other.
enum RedundancyChecks {
  static func run(_ policy: Policy, _ options: CheckOptions, _ diagnostics: inout DiagnosticEngine) {
    let regions = options.regions ?? ConduitRegions(policy)
    let keys = Set(regions.v4.keys).union(regions.v6.keys).sorted {
      ($0.conduit, $0.family, $0.kind) < ($1.conduit, $1.family, $1.kind)
    }
    let coversOfGroups = keys.map { key in
      switch key.family {
      case .ipv4: regions.v4[key]!.boxes.map(\.cover)
      case .ipv6: regions.v6[key]!.boxes.map(\.cover)
      }
    }
    let covers = coversOfGroups.flatMap { $0 }
    let (firstCover, coverOfRule) = coversByRule(covers, ruleCount: policy.rules.count)
    var redundant = [Bool](repeating: false, count: policy.rules.count)
    var coveringRules: [Int: [Int]] = [:]
    for rule in policy.rules.indices.reversed() where firstCover[rule] < firstCover[rule + 1] {
      let logs = policy.rules[rule].log
      var covering: [Int] = []
      var covered = true
      for position in firstCover[rule]..<firstCover[rule + 1] {
        let other = covers[coverOfRule[position]].rules.first { other in
          other != rule && !redundant[other] && (policy.rules[other].log || !logs)
        }
        guard let other else {
          covered = false
          break
        }
        covering.append(other)
      }
      if covered {
        redundant[rule] = true
        coveringRules[rule] = covering
      }
    }
    for rule in redundant.indices where redundant[rule] {
      let declaration = policy.rules[rule].declaration
      let notes = Set(coveringRules[rule, default: []]).sorted().prefix(5).map { other in
        DiagnosticNote("covered by this rule", at: policy.rules[other].declaration.keywordRange)
      }
      diagnostics.warning(
        .redundantRule, "this rule allows nothing that other rules of the policy do not already allow",
        at: declaration.keywordRange, notes: Array(notes))
    }
  }

  /// For every rule, the boxes whose cover names it: `coverOfRule[firstCover[rule]..<firstCover[rule + 1]]` are
  /// indices in `covers` (a counting sort: linear, and no array per rule).
  static func coversByRule(_ covers: [RuleCover], ruleCount: Int) -> (firstCover: [Int], coverOfRule: [Int]) {
    var firstCover = [Int](repeating: 0, count: ruleCount + 1)
    for cover in covers {
      for rule in cover.rules { firstCover[rule + 1] += 1 }
    }
    for index in firstCover.indices.dropFirst() { firstCover[index] += firstCover[index - 1] }
    var coverOfRule = [Int](repeating: 0, count: firstCover[ruleCount])
    var next = firstCover
    for (index, cover) in covers.enumerated() {
      for rule in cover.rules {
        coverOfRule[next[rule]] = index
        next[rule] += 1
      }
    }
    return (firstCover, coverOfRule)
  }
}
