import Advisories
import FirewallIR
import FlowSpace
import Foundation
import PolicyLanguage
import PolicyModel

/// `conduit impact --advisory` as text: per matched asset (ranked), its criticality and zones, then each advisory
/// that hits it (the product that matched and why, the CVEs with their scores, the remediation categories, the ports
/// it names and whether the policy exposes them), then its exposure by source zone (flagged zones marked); then what
/// could not be read, and a count line. Every string from an advisory, a policy or a baseline is shown escaped
/// (`TerminalText`), so none forges a line.
public struct ImpactTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The report, each line ending in a line break; the assets are written on every core.
  public func render(
    _ findings: [ImpactFinding], advisories: Int, problems: [String], names: FlowDescription
  ) -> String {
    let assets = AssetImpact.grouping(findings)
    let blocks = concurrentMap(count: assets.count) { index in
      let asset = assets[index]
      var lines = [heading(asset)]
      for finding in asset.findings { lines += advisory(finding) }
      return Self.block(lines + exposure(asset.first, names: names))
    }
    let reachable = assets.filter(\.first.isExposed).count
    let flagged = assets.filter { $0.first.level >= .lowerSecurityLevel }.count
    let count =
      "\(findings.count) \(findings.count == 1 ? "match" : "matches") on \(assets.count) \(assets.count == 1 ? "asset" : "assets") from \(advisories) \(advisories == 1 ? "advisory" : "advisories"); \(reachable) exposed, \(flagged) to lower-SL or outside zones"
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

  /// `plc-1 (critical; 'ctl' SL-T 3): 2 advisories, highest score 9.8`.
  private func heading(_ asset: AssetImpact) -> String {
    let first = asset.first
    let zones = first.zones.map(describe).joined(separator: ", ")
    let count = asset.findings.count == 1 ? "1 advisory" : "\(asset.findings.count) advisories"
    return
      "\(first.asset) (\(first.criticality.map { "\($0)" } ?? "criticality unknown"); \(zones.isEmpty ? "no zone" : zones)): \(count)"
      + (asset.highestScore.map { ", highest score \(score($0))" } ?? "")
  }

  /// One advisory's lines: its id and title, the product, the vulnerabilities, the remediations, the ports.
  private func advisory(_ finding: ImpactFinding) -> [String] {
    var lines = [
      "  \(finding.advisory) \(finding.advisoryTitle)",
      "    product: \(finding.product) [\(finding.evidence.rawValue)] — \(finding.reason)",
    ]
    let cves = finding.vulnerabilities.map { $0.cve + ($0.baseScore.map { " (\(score($0)))" } ?? "") }
    lines.append("    vulnerabilities: " + (cves.isEmpty ? "none listed" : cves.joined(separator: ", ")))
    if !finding.remediations.isEmpty {
      lines.append("    remediations: " + finding.remediations.joined(separator: ", "))
    }
    for port in finding.ports {
      lines.append(
        "    names \(port.port): "
          + (port.isExposed ? "exposed from " + port.zones.map { "'\($0)'" }.joined(separator: ", ") : "not exposed"))
    }
    return lines
  }

  /// The exposure lines of an asset.
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
