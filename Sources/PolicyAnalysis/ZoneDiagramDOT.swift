import PolicyLanguage
import PolicyModel

/// Renders a zone diagram as Graphviz DOT: one band per Purdue level (highest at the top) named at its top left,
/// zones as boxes shaded by SL-T, conduits as labelled connectors between their zones with arrowheads on the zones
/// connections are initiated into, findings in orange (warnings) and red (errors; dashed when no gateway enforces
/// the conduit), and a legend with the gateways. The output depends on nothing but the diagram, so it can be
/// compared with a golden file.
public struct ZoneDiagramDOTRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  static let font = "Helvetica,Arial,sans-serif"
  static let ink = "#333333"
  static let muted = "#666666"
  static let warning = "#d9730d"
  static let error = "#c62828"
  static let outsideFill = "#f2f2f2"
  static let band = "#f6f6f6"
  static let bandBorder = "#dddddd"
  static let securityLevelFills = [1: "#eef4fb", 2: "#dae7f6", 3: "#bfd5ef", 4: "#9fbfe6"]
  static let serviceLineWidth = 44
  static let servicesShown = 16

  /// The DOT text of the diagram, ending with a newline.
  public func render(_ diagram: ZoneDiagram) -> String {
    var out = "digraph \"\(quoted(diagram.title))\" {\n"
    out += "  graph [rankdir=TB, newrank=true, nodesep=0.35, ranksep=0.3, fontname=\"\(Self.font)\", fontsize=16,\n"
    out += "    labelloc=t, labeljust=l, label=<\(title(diagram))>, pad=0.3];\n"
    out += "  node [fontname=\"\(Self.font)\", fontsize=11, color=\"\(Self.ink)\", fontcolor=\"\(Self.ink)\"];\n"
    out += "  edge [color=\"\(Self.ink)\", penwidth=1.3, arrowsize=0.8];\n"

    out += "\n  // one band per Purdue level, top to bottom\n"
    for level in diagram.levels {
      let zones = diagram.zones.filter { $0.level == level }
      out += "  subgraph cluster_\(levelID(level)) {\n"
      out +=
        "    graph [label=<\(levelLabel(level))>, labeljust=l, labelloc=t, fontsize=11, style=\"rounded,filled\",\n"
      out += "      fillcolor=\"\(Self.band)\", color=\"\(Self.bandBorder)\"];\n"
      out += "    rank=same;\n"
      out += "    \(levelID(level)) [shape=point, style=invis, width=0.01];\n"
      for zone in zones {
        out += "    // \(comment(zone.name))\n"
        out += "    \(zoneID(zone.id)) [\(zoneAttributes(zone))];\n"
      }
      out += "  }\n"
    }
    let chain = diagram.levels.map(levelID) + ["legend"]
    for (upper, lower) in zip(chain, chain.dropFirst()) {
      out += "  \(upper) -> \(lower) [style=invis, minlen=2, weight=100];\n"
    }

    out += "\n  // conduits: between the bands of their zones, below the band when both zones share a level\n"
    for conduit in diagram.conduits {
      let first = diagram.zones[conduit.zones.first]
      let second = diagram.zones[conduit.zones.second]
      let node = conduitID(conduit.id)
      out += "  // \(comment(conduit.name))\n"
      out += "  \(node) [\(conduitAttributes(conduit, diagram))];\n"
      let edge = edgeAttributes(conduit)
      func into(_ zone: DiagramZone) -> Bool { conduit.directions.contains { $0.to == zone.id } }
      if first.level == second.level {
        out += "  \(zoneID(first.id)) -> \(node) [\(edge), dir=\(into(first) ? "back" : "none")];\n"
        out += "  \(zoneID(second.id)) -> \(node) [\(edge), dir=\(into(second) ? "back" : "none")];\n"
      } else {
        let (upper, lower) = rank(first.level) < rank(second.level) ? (first, second) : (second, first)
        out += "  \(zoneID(upper.id)) -> \(node) [\(edge), dir=\(into(upper) ? "back" : "none")];\n"
        out += "  \(node) -> \(zoneID(lower.id)) [\(edge), dir=\(into(lower) ? "forward" : "none")];\n"
      }
    }

    out += "\n  // legend and gateways\n"
    out += "  legend [shape=plaintext, label=<\(legend())>];\n"
    var bottom = ["legend"]
    if !diagram.gateways.isEmpty {
      out += "  gateways [shape=plaintext, label=<\(gateways(diagram))>];\n"
      out += "  legend -> gateways [style=invis];\n"
      bottom.append("gateways")
    }
    out += "  { rank=same; \(bottom.joined(separator: "; ")); }\n"
    out += "}\n"
    return out
  }

  private func rank(_ level: PurdueLevel?) -> Int { level.map { -$0.tenths } ?? 1 }

  private func levelID(_ level: PurdueLevel?) -> String { level.map { "level_\($0.tenths)" } ?? "level_none" }
  private func zoneID(_ id: Int) -> String { "zone_\(id)" }
  private func conduitID(_ id: Int) -> String { "conduit_\(id)" }

  private func title(_ diagram: ZoneDiagram) -> String {
    let subtitle = "\(html(diagram.fileName)) · conduit check: \(html(diagram.checkSummary))"
    return "<B>\(html(diagram.title))</B>: zones and conduits<BR ALIGN=\"LEFT\"/>"
      + "<FONT POINT-SIZE=\"11\" COLOR=\"\(Self.muted)\">\(subtitle)</FONT><BR ALIGN=\"LEFT\"/>"
  }

  private func levelLabel(_ level: PurdueLevel?) -> String {
    guard let level else {
      return "<FONT COLOR=\"\(Self.muted)\"><B>No level</B> · missing-level</FONT>"
    }
    return "<FONT COLOR=\"\(Self.muted)\"><B>Level \(level)</B> · \(Self.levelName(level))</FONT>"
  }

  /// The usual name of a Purdue level.
  static func levelName(_ level: PurdueLevel) -> String {
    switch level.tenths {
    case 50: "Enterprise"
    case 40: "Business planning"
    case 35: "Industrial DMZ"
    case 30: "Site operations"
    case 20: "Supervisory control"
    case 10: "Basic control"
    case 0: "Process"
    default: ""
    }
  }

  private func zoneAttributes(_ zone: DiagramZone) -> String {
    var rows: [String] = ["<TR><TD><FONT POINT-SIZE=\"13\"><B>\(html(zone.name))</B></FONT></TD></TR>"]
    let level = zone.level.map { "level \($0)" } ?? "no level"
    let securityLevel = zone.securityLevel.map { "<B>SL-T \($0)</B>" } ?? "<B>no SL-T</B>"
    rows.append("<TR><TD>\(securityLevel) · \(level)</TD></TR>")
    if zone.isOutside {
      rows.append("<TR><TD><FONT POINT-SIZE=\"10\">outside: every address in no other zone</FONT></TD></TR>")
    } else {
      let shown = zone.networks.count > 4 ? Array(zone.networks.prefix(3)) : zone.networks
      var networks = shown.map(html)
      if shown.count < zone.networks.count { networks.append("+ \(zone.networks.count - shown.count) more") }
      rows.append("<TR><TD><FONT POINT-SIZE=\"10\">\(networks.joined(separator: "<BR/>"))</FONT></TD></TR>")
    }
    let assets =
      (zone.isOutside ? "\(zone.assetCount) listed " : "\(zone.assetCount) ")
      + (zone.assetCount == 1 ? "asset" : "assets")
    rows.append("<TR><TD><FONT POINT-SIZE=\"10\">\(assets)</FONT></TD></TR>")
    if !zone.tags.isEmpty {
      let tags = zone.tags.map { $0 == "sis" ? "SIS" : $0 }.map(html).joined(separator: ", ")
      rows.append("<TR><TD><FONT POINT-SIZE=\"10\"><B>\(tags)</B></FONT></TD></TR>")
    }
    rows += findingRows(zone.findings)
    var style = ["filled"]
    var color = Self.ink
    var penwidth = "1.3"
    if zone.isOutside { style.append("dashed") }
    switch zone.status {
    case .clean: if zone.isOutside { color = Self.muted }
    case .warning:
      color = Self.warning
      penwidth = "2.2"
    case .error:
      color = Self.error
      penwidth = "2.2"
    }
    let fill = zone.isOutside ? Self.outsideFill : zone.securityLevel.flatMap { Self.securityLevelFills[$0] } ?? "white"
    var attributes = [
      "shape=box", "style=\"\(style.joined(separator: ","))\"", "fillcolor=\"\(fill)\"", "color=\"\(color)\"",
      "penwidth=\(penwidth)", "margin=\"0.12,0.06\"",
      "label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">\(rows.joined())</TABLE>>",
    ]
    if let description = zone.description { attributes.append("tooltip=\"\(quoted(description))\"") }
    return attributes.joined(separator: ", ")
  }

  private func conduitAttributes(_ conduit: DiagramConduit, _ diagram: ZoneDiagram) -> String {
    var rows: [String] = ["<TR><TD><B>\(html(conduit.name))</B></TD></TR>"]
    var facts: [String] = []
    facts.append(conduit.securityLevel.map { "SL-T \($0)" } ?? "no SL-T")
    if !conduit.gateways.isEmpty {
      facts.append("via " + conduit.gateways.map(html).joined(separator: ", "))
    } else if !conduit.siteHasGateways {
      facts.append("no gateway")
    }
    if let expires = conduit.expires { facts.append("until \(expires)") }
    rows.append("<TR><TD>\(facts.joined(separator: " · "))</TD></TR>")
    for direction in conduit.directions {
      let heading = "\(html(diagram.zones[direction.from].name)) → \(html(diagram.zones[direction.to].name))"
      var shown = direction.services.prefix(Self.servicesShown).map(html)
      if direction.services.count > shown.count { shown.append("+ \(direction.services.count - shown.count) more") }
      let services = wrap(commaSeparated(shown), width: Self.serviceLineWidth)
      rows.append(
        "<TR><TD ALIGN=\"LEFT\" BALIGN=\"LEFT\"><FONT POINT-SIZE=\"9\" COLOR=\"\(Self.muted)\">\(heading)</FONT><BR/>"
          + "<FONT POINT-SIZE=\"10\">\(services.joined(separator: "<BR/>"))</FONT></TD></TR>")
    }
    if conduit.directions.isEmpty {
      rows.append("<TR><TD><FONT POINT-SIZE=\"10\" COLOR=\"\(Self.muted)\">no rules</FONT></TD></TR>")
    }
    rows += findingRows(conduit.findings)
    var attributes = [
      "shape=box", "style=\"\(conduit.isUnenforced ? "rounded,filled,dashed" : "rounded,filled")\"",
      "fillcolor=\"white\"", "color=\"\(statusColor(conduit))\"",
      "penwidth=\(conduit.status == .clean ? "1.3" : "2.2")", "margin=\"0.1,0.04\"",
      "label=<<TABLE BORDER=\"0\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"1\">\(rows.joined())</TABLE>>",
    ]
    let tooltip = [conduit.owner.map { "owner: \($0)" }, conduit.justification].compactMap { $0 }
    if !tooltip.isEmpty { attributes.append("tooltip=\"\(quoted(tooltip.joined(separator: "; ")))\"") }
    return attributes.joined(separator: ", ")
  }

  private func edgeAttributes(_ conduit: DiagramConduit) -> String {
    var attributes = ["color=\"\(statusColor(conduit))\""]
    if conduit.status != .clean { attributes.append("penwidth=2.2") }
    if conduit.isUnenforced { attributes.append("style=dashed") }
    return attributes.joined(separator: ", ")
  }

  private func statusColor(_ conduit: DiagramConduit) -> String {
    if conduit.isUnenforced { return Self.error }
    switch conduit.status {
    case .clean: return Self.ink
    case .warning: return Self.warning
    case .error: return Self.error
    }
  }

  /// One row per distinct finding, worst first; repeated findings are counted, accepted risks greyed.
  private func findingRows(_ findings: [DiagramFinding]) -> [String] {
    var counted: [(finding: DiagramFinding, count: Int)] = []
    for finding in findings {
      if let index = counted.firstIndex(where: { $0.finding == finding }) {
        counted[index].count += 1
      } else {
        counted.append((finding, 1))
      }
    }
    let order: (DiagramFinding) -> Int = { $0.isAccepted ? 0 : $0.severity == .error || $0.isUnenforcement ? 2 : 1 }
    counted = counted.enumerated().sorted { lhs, rhs in
      let (left, right) = (order(lhs.element.finding), order(rhs.element.finding))
      return left != right ? left > right : lhs.offset < rhs.offset
    }.map(\.element)
    return counted.map { finding, count in
      let times = count > 1 ? " (×\(count))" : ""
      let text = wrap((html(finding.summary) + times).split(separator: " ").map(String.init), width: 48).joined(
        separator: "<BR/>")
      if finding.isAccepted {
        return "<TR><TD><FONT POINT-SIZE=\"9\" COLOR=\"\(Self.muted)\">accepted risk: \(text)</FONT></TD></TR>"
      }
      let color = finding.severity == .error || finding.isUnenforcement ? Self.error : Self.warning
      return "<TR><TD><FONT POINT-SIZE=\"10\" COLOR=\"\(color)\"><B>⚠ \(text)</B></FONT></TD></TR>"
    }
  }

  private func legend() -> String {
    func swatch(_ fill: String, _ text: String, dashed: Bool = false) -> String {
      "<TD BGCOLOR=\"\(fill)\" BORDER=\"1\" COLOR=\"\(dashed ? Self.muted : Self.ink)\">"
        + "<FONT POINT-SIZE=\"9\">\(text)</FONT></TD>"
    }
    func line(_ color: String, _ glyph: String, _ text: String) -> String {
      let mark = glyph.isEmpty ? "" : "<FONT COLOR=\"\(color)\"><B>\(glyph)</B></FONT>  "
      return "<TR><TD ALIGN=\"LEFT\" COLSPAN=\"5\">\(mark)<FONT POINT-SIZE=\"9\">\(text)</FONT></TD></TR>"
    }
    var rows = ["<TR><TD ALIGN=\"LEFT\" COLSPAN=\"5\"><B>Legend</B></TD></TR>"]
    rows.append(
      "<TR>" + (1...4).map { swatch(Self.securityLevelFills[$0]!, "SL-T \($0)") }.joined()
        + swatch(Self.outsideFill, "outside", dashed: true) + "</TR>")
    rows.append(line(Self.ink, "━━▶", "conduit: the arrow points at the zone connections are initiated into"))
    rows.append(line(Self.muted, "", "replies to allowed connections pass by connection tracking"))
    rows.append(line(Self.warning, "━━━", "warning found by conduit check (e.g. SL step-up)"))
    rows.append(line(Self.error, "━━━", "error found by conduit check"))
    rows.append(line(Self.error, "╍╍╍", "no gateway enforces the conduit"))
    return "<TABLE BORDER=\"1\" COLOR=\"\(Self.muted)\" CELLBORDER=\"0\" CELLSPACING=\"4\" CELLPADDING=\"3\">"
      + rows.joined() + "</TABLE>"
  }

  private func gateways(_ diagram: ZoneDiagram) -> String {
    var rows = ["<TR><TD ALIGN=\"LEFT\" COLSPAN=\"2\"><B>Gateways</B></TD></TR>"]
    for gateway in diagram.gateways {
      let interfaces = gateway.interfaces.map { interface in
        "\(html(interface.name)): \(interface.zones.map { html(diagram.zones[$0].name) }.joined(separator: ", "))"
      }
      let color =
        gateway.status == .error ? Self.error : gateway.status == .warning ? Self.warning : Self.ink
      var cell = "<FONT POINT-SIZE=\"9\">\(interfaces.joined(separator: "<BR/>"))</FONT>"
      let findings = gateway.findings.filter { !$0.isAccepted }.map(\.summary)
      if !findings.isEmpty {
        cell +=
          "<BR/><FONT POINT-SIZE=\"9\" COLOR=\"\(color)\"><B>⚠ \(html(findings.joined(separator: ", ")))</B></FONT>"
      }
      rows.append(
        "<TR><TD ALIGN=\"LEFT\" VALIGN=\"TOP\"><FONT COLOR=\"\(color)\"><B>\(html(gateway.name))</B></FONT></TD>"
          + "<TD ALIGN=\"LEFT\" BALIGN=\"LEFT\">\(cell)</TD></TR>")
    }
    return "<TABLE BORDER=\"1\" COLOR=\"\(Self.muted)\" CELLBORDER=\"0\" CELLSPACING=\"4\" CELLPADDING=\"3\">"
      + rows.joined() + "</TABLE>"
  }

  /// Joins pieces with spaces into lines of at most `width` characters (a longer piece gets a line of its own).
  private func wrap(_ pieces: [String], width: Int) -> [String] {
    var lines: [String] = []
    for piece in pieces {
      if let last = lines.last, last.count + 1 + piece.count <= width {
        lines[lines.count - 1] = last + " " + piece
      } else {
        lines.append(piece)
      }
    }
    return lines
  }

  /// The items of a list with a comma after every one but the last.
  private func commaSeparated(_ items: [String]) -> [String] {
    items.enumerated().map { $0.offset < items.count - 1 ? $0.element + "," : $0.element }
  }

  /// Text for an HTML-like label: markup characters as entities, and control characters (which the label parser
  /// refuses) as visible escapes. Scalar by scalar, so a combining mark cannot hide a `<` in a grapheme cluster.
  func html(_ text: String) -> String {
    var out = ""
    for scalar in TerminalText.escaped(text).unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  /// Text for a `//` comment: line breaks and other control characters as visible escapes.
  func comment(_ text: String) -> String {
    TerminalText.escaped(text)
  }

  /// Text for a double-quoted DOT string: control characters as visible escapes, `\` and `"` escaped.
  func quoted(_ text: String) -> String {
    var out = ""
    for scalar in TerminalText.escaped(text).unicodeScalars {
      if scalar == "\\" || scalar == "\"" { out += "\\" }
      out.unicodeScalars.append(scalar)
    }
    return out
  }
}

extension DiagramFinding {
  /// Whether the finding says that no gateway enforces a conduit: drawn red whatever its severity.
  fileprivate var isUnenforcement: Bool { id == .unenforcedConduit || id == .hairpinConduit }
}
