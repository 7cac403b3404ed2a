import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// How an emitted mitigation counters an advisory (ADVISORIES.md, `--strategy`).
public enum MitigationStrategy: String, Sendable, CaseIterable {
  /// Isolate the matched assets.
  case isolate
  /// Revoke their exposed services from lower-SL and `outside` source zones.
  case revoke
}

/// Why no mitigation block could be written.
public struct MitigationDraftError: Error, Sendable, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Writes the `mitigation` block that `impact --emit-mitigation` emits: a reason naming the advisories, `isolate`
/// of the matched assets or `revoke service … from zone … to …` of their exposed services, and each `--keep` as an
/// `allow` that survives it. Every name is written as the language reads it back (`PolicyText`).
public enum MitigationDraft {
  /// The block's text, ending with a line break.
  public static func write(
    name: String, strategy: MitigationStrategy, findings: [ImpactFinding], keeps: [String]
  ) throws(MitigationDraftError) -> String {
    guard let blockName = PolicyText.name(name), PolicyText.isBareName(name) else {
      throw MitigationDraftError(message: "'\(name)' cannot name a mitigation: use letters, digits, '_', '.' and '-'")
    }
    let advisories = ordered(findings.map(\.advisory))
    guard !findings.isEmpty else {
      throw MitigationDraftError(message: "no asset of the baseline is hit: there is nothing to mitigate")
    }
    var lines: [String] = []
    for id in advisories {
      let title = findings.first { $0.advisory == id }?.advisoryTitle ?? ""
      lines.append(PolicyText.comment("\(id): \(title)"))
    }
    lines.append("mitigation \(blockName) {")
    let action =
      strategy == .isolate
      ? "isolate the assets it hits" : "revoke what lower-SL and outside zones reach on the assets it hits"
    lines.append(
      "  reason " + PolicyText.string("\(advisories.joined(separator: ", ")): \(action), until they are patched"))
    switch strategy {
    case .isolate:
      let assets = ordered(findings.map(\.asset))
      lines.append("  isolate " + (try names(assets)).joined(separator: ", "))
    case .revoke:
      let revocations = self.revocations(findings)
      guard !revocations.isEmpty else {
        throw MitigationDraftError(
          message: "no lower-SL or outside zone reaches the assets hit: there is nothing to revoke")
      }
      for revocation in revocations {
        let zone = try names([revocation.zone])[0]
        lines.append(
          "  revoke service \(revocation.items.joined(separator: ", ")) from zone \(zone) to "
            + (try names(revocation.assets)).joined(separator: ", "))
      }
    }
    for keep in keeps {
      let rule = keep.trimmingWhitespace()
      guard !rule.isEmpty, !rule.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }),
        !rule.contains("{"), !rule.contains("}"), !rule.contains("#"), !rule.contains(";")
      else {
        throw MitigationDraftError(
          message: "--keep '\(TerminalText.escaped(keep))' is not one rule: write SOURCES -> DESTINATIONS service ITEMS"
        )
      }
      lines.append("  allow " + rule)
    }
    lines.append("}")
    return lines.joined(separator: "\n") + "\n"
  }

  /// Per flagged source zone, the items its flows reach the matched assets on, and those assets.
  static func revocations(_ findings: [ImpactFinding]) -> [(zone: String, items: [String], assets: [String])] {
    var byZone: [String: (items: [String], assets: [String])] = [:]
    var zoneOrder: [String] = []
    for finding in findings {
      for exposure in finding.exposure where exposure.isFlagged {
        let zone = exposure.zone.name
        if byZone[zone] == nil {
          byZone[zone] = ([], [])
          zoneOrder.append(zone)
        }
        for flow in exposure.flows {
          for item in literals(flow.kind, flow.selectors) where !byZone[zone]!.items.contains(item) {
            byZone[zone]!.items.append(item)
          }
        }
        if !byZone[zone]!.assets.contains(finding.asset) { byZone[zone]!.assets.append(finding.asset) }
      }
    }
    return zoneOrder.sorted().map { ($0, byZone[$0]!.items.sorted(), byZone[$0]!.assets.sorted()) }
  }

  /// The port literals of one flow element's selectors: `tcp/502`, `udp/1000-2000`, `icmp/echo-request`,
  /// `proto/47`.
  static func literals(_ kind: MatchKind, _ selectors: ClosedRange<UInt16>) -> [String] {
    let range =
      selectors.lowerBound == selectors.upperBound
      ? "\(selectors.lowerBound)" : "\(selectors.lowerBound)-\(selectors.upperBound)"
    switch kind {
    case .tcp, .udp: return ["\(kind)/\(range)"]
    case .icmp, .icmpv6:
      return selectors.compactMap { type in
        UInt8(exactly: type).flatMap { PortLiteral.icmpTypeName($0, icmpv6: kind == .icmpv6) }.map {
          "\(kind)/\($0)"
        }
      }
    case .proto: return selectors.map { "proto/\($0)" }
    }
  }

  private static func names(_ names: [String]) throws(MitigationDraftError) -> [String] {
    var written: [String] = []
    for name in names {
      guard let text = PolicyText.name(name) else {
        throw MitigationDraftError(message: "'\(TerminalText.escaped(name))' cannot be written as a name in a policy")
      }
      written.append(text)
    }
    return written
  }

  private static func ordered(_ values: [String]) -> [String] {
    var seen: Set<String> = []
    return values.filter { seen.insert($0).inserted }
  }
}

extension String {
  fileprivate func trimmingWhitespace() -> String {
    String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
  }
}
