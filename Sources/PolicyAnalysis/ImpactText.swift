import Advisories
import FirewallIR
import FlowSpace
import Foundation
import PolicyLanguage
import PolicyModel

/// `conduit impact --advisory` as text: per finding (ranked), the asset and the advisory, the match and its
/// evidence, the CVEs with their scores and the remediation categories, the exposure by source zone (flagged zones
/// marked), the ports the advisory names; then what could not be read, and a count line. Every string from an
/// advisory, a policy or a baseline is shown escaped (`TerminalText`), so none forges a line.
public struct ImpactTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The report, each line ending in a line break. Findings are written on every core; the exposure of an asset
  /// that several advisories hit is written once.
  public func render(
    _ findings: [ImpactFinding], advisories: Int, problems: [String], names: FlowDescription
  ) -> String {
    var firstFinding: [Int: Int] = [:]
    for (index, finding) in findings.enumerated() where firstFinding[finding.assetID] == nil {
      firstFinding[finding.assetID] = index
    }
    let exposed = Array(firstFinding.values)
    let exposureTexts = concurrentMap(count: exposed.count) { index in
      Self.block(exposure(findings[exposed[index]], names: names))
    }
    let exposureOfAsset = Dictionary(
      uniqueKeysWithValues: zip(exposed.map { findings[$0].assetID }, exposureTexts))
    let blocks = concurrentMap(count: findings.count) { index in
      let finding = findings[index]
      return Self.block(heading(finding)) + exposureOfAsset[finding.assetID]! + Self.block(ports(finding))
    }
    let assets = firstFinding.count
    let reachable = Set(findings.filter(\.isExposed).map(\.assetID)).count
    let flagged = Set(findings.filter { $0.level >= .lowerSecurityLevel }.map(\.assetID)).count
    let count =
      "\(findings.count) \(findings.count == 1 ? "match" : "matches") on \(assets) \(assets == 1 ? "asset" : "assets") from \(advisories) \(advisories == 1 ? "advisory" : "advisories"); \(reachable) exposed, \(flagged) to lower-SL or outside zones"
    return blocks.joined() + Self.block(problems.map { "note: \($0)" } + [count])
  }

  /// Lines, each escaped and ending in a line break.
  private static func block(_ lines: [String]) -> String {
    var text = ""
    text.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 1 })
    for line in lines {
      text += TerminalText.escaped(line)
      text += "\n"
    }
    return text
  }

  /// The asset and the advisory, the product, the vulnerabilities and the remediations.
  private func heading(_ finding: ImpactFinding) -> [String] {
    let zones = finding.zones.map(describe).joined(separator: ", ")
    var lines = [
      "\(finding.asset) (\(finding.criticality.map { "\($0)" } ?? "criticality unknown"); \(zones.isEmpty ? "no zone" : zones)): \(finding.advisory) \(finding.advisoryTitle)",
      "  product: \(finding.product) [\(finding.evidence.rawValue)] — \(finding.reason)",
    ]
    let cves = finding.vulnerabilities.map { $0.cve + ($0.baseScore.map { " (\(score($0)))" } ?? "") }
    lines.append("  vulnerabilities: " + (cves.isEmpty ? "none listed" : cves.joined(separator: ", ")))
    if !finding.remediations.isEmpty {
      lines.append("  remediations: " + finding.remediations.joined(separator: ", "))
    }
    return lines
  }

  /// Whether the policy exposes each port the advisory names.
  private func ports(_ finding: ImpactFinding) -> [String] {
    finding.ports.map { port in
      "  advisory names \(port.port): "
        + (port.isExposed ? "exposed from " + port.zones.map { "'\($0)'" }.joined(separator: ", ") : "not exposed")
    }
  }

  /// The exposure lines of a finding's asset (the same for every advisory that hits it).
  private func exposure(_ finding: ImpactFinding, names: FlowDescription) -> [String] {
    var lines = [
      finding.exposure.isEmpty ? "  exposure: nothing reaches it through a gateway" : "  exposure: \(finding.level)"
    ]
    for zone in finding.exposure {
      var flags: [String] = []
      if zone.zone.isOutside { flags.append("outside") }
      if zone.isLowerSecurityLevel { flags.append("lower SL-T") }
      let marker = flags.isEmpty ? "" : " [" + flags.joined(separator: ", ") + "]"
      lines.append("    from zone \(describe(zone.zone))\(marker):")
      for flow in zone.flows {
        let origins = flow.rules.map { $0.location + ($0.mitigation.map { " (mitigation \($0))" } ?? "") }
        lines.append(
          "      \(names.flow(flow.sources, flow.destination, flow.kind, flow.selectors))  (\(origins.joined(separator: ", ")))"
        )
      }
    }
    return lines
  }

  private func describe(_ zone: ImpactZone) -> String {
    "'\(zone.name)'" + (zone.securityLevel.map { " SL-T \($0)" } ?? "")
  }

  /// `7.5`: a CVSS score with one decimal.
  private func score(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
  }
}

/// `conduit impact --isolate` as text: each flow cut, with its rules and the assets that lose it (most critical
/// first), then the gateway management lines lost, then a count line.
public struct IsolationTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The report, each line ending in a line break.
  public func render(_ impact: IsolationImpact, endpoint: String, names: FlowDescription) -> String {
    var lines: [String] = []
    if impact.isEmpty { lines.append("isolating \(endpoint) cuts nothing") }
    for flow in impact.flows {
      let origins = flow.rules.map { $0.location + ($0.mitigation.map { " (mitigation \($0))" } ?? "") }
      lines.append(
        "cut \(names.flow(flow.sources, flow.destinations, flow.kind, flow.selectors)) by conduit '\(flow.rules.first?.conduit ?? "")' (\(origins.joined(separator: ", ")))"
      )
      let losers = flow.losers.map { $0.name + " (" + ($0.criticality.map { "\($0)" } ?? "criticality unknown") + ")" }
      lines.append(
        "  lost by: " + (losers.isEmpty ? "no known asset (addresses only)" : losers.joined(separator: ", ")))
    }
    for line in impact.management {
      lines.append(
        "cut management of gateway '\(line.gateway)' on \(line.services) (\(line.location))"
          + (line.assets.isEmpty ? "" : ": lost by " + line.assets.joined(separator: ", ")))
    }
    let assets = Set(impact.flows.flatMap { $0.losers.map(\.name) }).count
    lines.append(
      "\(impact.flows.count) \(impact.flows.count == 1 ? "flow" : "flows") cut, \(assets) \(assets == 1 ? "asset" : "assets") affected, \(impact.management.count) management \(impact.management.count == 1 ? "line" : "lines") lost"
    )
    return lines.map(TerminalText.escaped).joined(separator: "\n") + "\n"
  }
}
