import Advisories
import FirewallIR
import FlowSpace
import Foundation
import PolicyModel

/// `conduit impact --format json`: the findings in rank order and what could not be read, for ticketing and
/// incident tools.
public enum ImpactJSON {
  struct Flow: Encodable {
    var family: String
    var `protocol`: String
    var sources: String
    var sourceAssets: [String]
    var destination: String
    var selectors: String
    var rules: [String]
  }

  struct SourceZone: Encodable {
    var zone: String
    var securityLevel: Int?
    var outside: Bool
    var lowerSecurityLevel: Bool
    var flows: [Flow]
  }

  struct Vulnerability: Encodable {
    var cve: String
    var baseScore: Double?
    var vector: String?
  }

  struct Port: Encodable {
    var port: UInt16
    var `protocol`: String?
    var exposedFrom: [String]
  }

  struct AdvisoryHit: Encodable {
    var advisory: String
    var title: String
    var file: String
    var productID: String
    var product: String
    var evidence: String
    var reason: String
    var vulnerabilities: [Vulnerability]
    var highestScore: Double?
    var remediations: [String]
    var advisoryPorts: [Port]
  }

  struct Asset: Encodable {
    var asset: String
    var criticality: String?
    var zones: [String]
    var zoneSecurityLevels: [Int?]
    var highestScore: Double?
    var advisories: [AdvisoryHit]
    var exposure: String
    var exposedFrom: [SourceZone]
  }

  struct Document: Encodable {
    var advisories: Int
    var matches: Int
    var assets: [Asset]
    var problems: [String]
  }

  /// Pretty-printed JSON with sorted keys, ending with a newline, as JSONEncoder writes the whole document: per
  /// matched asset (ranked as in the text), the advisories that hit it and its exposure. Each asset is encoded on
  /// its own, on every core, and set in the document at its indentation.
  public static func render(
    _ findings: [ImpactFinding], advisories: Int, problems: [String], names: FlowDescription
  ) -> String {
    let assets = AssetImpact.grouping(findings)
    let encodedAssets = concurrentMap(count: assets.count) { index in
      let asset = assets[index]
      let first = asset.first
      let entry = Asset(
        asset: first.asset, criticality: first.criticality.map { "\($0)" }, zones: first.zones.map(\.name),
        zoneSecurityLevels: first.zones.map(\.securityLevel), highestScore: asset.highestScore,
        advisories: asset.findings.map { finding in
          AdvisoryHit(
            advisory: finding.advisory, title: finding.advisoryTitle, file: finding.advisoryFile,
            productID: finding.productID, product: finding.product, evidence: finding.evidence.rawValue,
            reason: finding.reason,
            vulnerabilities: finding.vulnerabilities.map {
              Vulnerability(cve: $0.cve, baseScore: $0.baseScore, vector: $0.vector)
            },
            highestScore: finding.highestScore, remediations: finding.remediations,
            advisoryPorts: finding.ports.map {
              Port(port: $0.port.port, protocol: $0.port.transport?.rawValue, exposedFrom: $0.zones)
            })
        },
        exposure: ["none", "same-or-higher-sl", "lower-sl", "outside"][first.level.rawValue],
        exposedFrom: first.exposure.map { zone in
          SourceZone(
            zone: zone.zone.name, securityLevel: zone.zone.securityLevel, outside: zone.zone.isOutside,
            lowerSecurityLevel: zone.isLowerSecurityLevel,
            flows: zone.flows.map { flow in
              Flow(
                family: flow.family.rawValue, protocol: flow.kind.description, sources: flow.sources.description,
                sourceAssets: names.assetNames(flow.sources), destination: flow.destination.description,
                selectors: Self.selectors(flow.selectors), rules: flow.rules.map(\.location))
            })
        })
      return "    " + indented(encode(entry), by: "    ")
    }
    let encodedProblems = indented(encode(problems), by: "  ")
    let assetsText = encodedAssets.isEmpty ? "[\n\n  ]" : "[\n" + encodedAssets.joined(separator: ",\n") + "\n  ]"
    return
      "{\n  \"advisories\" : \(advisories),\n  \"assets\" : \(assetsText),\n  \"matches\" : \(findings.count),\n  \"problems\" : \(encodedProblems)\n}\n"
  }

  /// `502` or `1000-2000`.
  static func selectors(_ range: ClosedRange<UInt16>) -> String {
    range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
  }

  struct CutFlowEntry: Encodable {
    var conduit: String
    var family: String
    var `protocol`: String
    var sources: String
    var sourceAssets: [String]
    var destinations: String
    var destinationAssets: [String]
    var selectors: String
    var rules: [String]
    var lostBy: [LostBy]
  }

  struct LostBy: Encodable {
    var asset: String
    var criticality: String?
  }

  struct ManagementEntry: Encodable {
    var gateway: String
    var services: String
    var line: String
    var assets: [String]
  }

  struct IsolationDocument: Encodable {
    var endpoint: String
    var flows: [CutFlowEntry]
    var management: [ManagementEntry]
  }

  /// `impact --isolate --format json`.
  public static func render(_ impact: IsolationImpact, endpoint: String, names: FlowDescription) -> String {
    let flows = impact.flows.map { flow in
      CutFlowEntry(
        conduit: flow.rules.first?.conduit ?? "", family: flow.family.rawValue, protocol: flow.kind.description,
        sources: flow.sources.description, sourceAssets: names.assetNames(flow.sources),
        destinations: flow.destinations.description, destinationAssets: names.assetNames(flow.destinations),
        selectors: selectors(flow.selectors),
        rules: flow.rules.map(\.location),
        lostBy: flow.losers.map { LostBy(asset: $0.name, criticality: $0.criticality.map { "\($0)" }) })
    }
    let management = impact.management.map {
      ManagementEntry(gateway: $0.gateway, services: $0.services, line: $0.location, assets: $0.assets)
    }
    return encode(IsolationDocument(endpoint: endpoint, flows: flows, management: management)) + "\n"
  }

  /// `text` with every line after the first that is not empty indented by `prefix`, as JSONEncoder indents a value
  /// nested that deep (its strings hold no line breaks: they are escaped).
  private static func indented(_ text: String, by prefix: String) -> String {
    let bytes = Array(text.utf8)
    let prefixBytes = Array(prefix.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count + bytes.count / 8)
    for (index, byte) in bytes.enumerated() {
      out.append(byte)
      if byte == UInt8(ascii: "\n"), index + 1 < bytes.count, bytes[index + 1] != UInt8(ascii: "\n") {
        out.append(contentsOf: prefixBytes)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Pretty-printed JSON with sorted keys, without a final newline.
  private static func encode(_ value: some Encodable) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
  }
}
