import ConduitKit
import Foundation
import PolicyAnalysis
import PolicyChecker
import PolicyLanguage
import PolicyModel
import Testing

@Suite struct ZoneDiagramTests {
  static let policy = """
    site "plant \\"7\\""
    zone "ops & <eng>" {
      level 3; security-level 2
      network 10.30.0.0/24
      description "operators' \\"desk\\" \\\\ room"
    }
    zone control {
      level 1; security-level 3
      network 10.40.0.0/24
      tags sis
    }
    zone vendor {
      level 2; security-level 1
      network 10.20.0.0/24
    }
    zone lab {
      level 3; security-level 2
      network 10.90.0.0/24
    }
    asset eng-1 { address 10.30.0.5 }
    asset plc-1 { address 10.40.0.10 }
    asset plc-2 { address 10.40.0.11 }
    asset vendor-1 { address 10.20.0.5 }
    asset lab-1 { address 10.90.0.5 }
    gateway gw-1 {
      interface eth0 "ops & <eng>"
      interface eth1 control
      interface eth2 vendor
      management service ssh from eng-1
    }
    conduit ops-control {
      between "ops & <eng>" and control
      security-level 3; owner "ot"; justification "engineering"
      allow eng-1 -> plc-1, plc-2 service s7comm, ssh
      allow plc-1 -> eng-1 service tcp/4840
    }
    conduit vendor-control {
      between vendor and control
      security-level 3; owner "ot"; justification "vendor support"
      allow vendor-1 -> plc-2 service s7comm
    }
    conduit lab-ops {
      between lab and "ops & <eng>"
      security-level 2; justification "lab access"
      accept-risk missing-owner "the lab belongs to the vendor"
      allow lab-1 -> eng-1 service ssh
    }

    """

  static func diagram() throws -> ZoneDiagram {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "conduit-diagram-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("plant.conduit").path
    try policy.write(toFile: path, atomically: true, encoding: .utf8)
    let checked = try Pipeline.check(PolicyRequest(policyPath: path, today: CalendarDay("2026-11-28")!))
    #expect(!checked.hasErrors, "\(checked.diagnostics.map(\.message))")
    #expect(
      Set(checked.diagnostics.map(\.id)) == [.unenforcedConduit, .slStepUp, .missingOwner],
      "\(checked.diagnostics.map(\.message))")
    return ZoneDiagram(checked.policy, diagnostics: checked.diagnostics)
  }

  /// The statement of the node `id`, and the edges that touch it.
  static func lines(of id: String, in dot: String) -> (node: String, edges: [String]) {
    let lines = dot.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    let node = lines.first { $0.hasPrefix("\(id) [") } ?? ""
    let edges = lines.filter { $0.contains("-> \(id) [") || $0.hasPrefix("\(id) -> ") }
    return (node, edges)
  }

  @Test func theModelCarriesLevelsServicesGatewaysAndFindings() throws {
    let diagram = try Self.diagram()
    #expect(diagram.title == "plant \"7\"")
    #expect(diagram.fileName == "plant.conduit")
    #expect(diagram.checkSummary == "2 warnings, 1 accepted risk")
    #expect(diagram.levels == [PurdueLevel("3"), PurdueLevel("2"), PurdueLevel("1")])
    #expect(diagram.zones.map(\.assetCount) == [1, 2, 1, 1])

    let opsControl = try #require(diagram.conduits.first { $0.name == "ops-control" })
    #expect(opsControl.gateways == ["gw-1"])
    #expect(opsControl.status == .clean)
    #expect(
      opsControl.directions == [
        DiagramDirection(from: 0, to: 1, services: ["s7comm", "ssh"]),
        DiagramDirection(from: 1, to: 0, services: ["tcp/4840"]),
      ])

    let labOps = try #require(diagram.conduits.first { $0.name == "lab-ops" })
    #expect(labOps.isUnenforced)
    #expect(labOps.gateways.isEmpty)
    #expect(labOps.findings.map(\.id) == [.unenforcedConduit, .missingOwner])
    #expect(labOps.findings.map(\.isAccepted) == [false, true])

    let vendorControl = try #require(diagram.conduits.first { $0.name == "vendor-control" })
    #expect(vendorControl.hasStepUp)
    #expect(!vendorControl.isUnenforced)
    #expect(vendorControl.status == .warning)
    #expect(
      vendorControl.findings.map(\.summary) == ["SL step-up: vendor (SL-T 1) initiates into control (SL-T 3)"])
  }

  @Test func anUnenforcedConduitIsDashedRed() throws {
    let diagram = try Self.diagram()
    let dot = ZoneDiagramDOTRenderer().render(diagram)
    let id = try #require(diagram.conduits.first { $0.name == "lab-ops" }).id
    let (node, edges) = Self.lines(of: "conduit_\(id)", in: dot)
    #expect(node.contains("style=\"rounded,filled,dashed\""))
    #expect(node.contains("color=\"#c62828\""))
    #expect(node.contains("not enforced: no gateway has both zones behind"))
    #expect(node.contains("accepted risk: missing-owner"))
    #expect(edges.count == 2)
    for edge in edges {
      #expect(edge.contains("style=dashed"))
      #expect(edge.contains("color=\"#c62828\""))
    }
  }

  @Test func aStepUpIsOrangeWithANote() throws {
    let diagram = try Self.diagram()
    let dot = ZoneDiagramDOTRenderer().render(diagram)
    let id = try #require(diagram.conduits.first { $0.name == "vendor-control" }).id
    let (node, edges) = Self.lines(of: "conduit_\(id)", in: dot)
    #expect(node.contains("color=\"#d9730d\""))
    #expect(node.contains("SL step-up: vendor (SL-T 1) initiates into<BR/>control (SL-T 3)"))
    #expect(!node.contains("dashed"))
    #expect(edges.count == 2)
    for edge in edges {
      #expect(edge.contains("color=\"#d9730d\""))
      #expect(!edge.contains("dashed"))
    }
  }

  @Test func arrowheadsPointAtTheZonesConnectionsAreInitiatedInto() throws {
    let diagram = try Self.diagram()
    let dot = ZoneDiagramDOTRenderer().render(diagram)
    let both = try #require(diagram.conduits.first { $0.name == "ops-control" }).id
    #expect(Self.lines(of: "conduit_\(both)", in: dot).edges.allSatisfy { !$0.contains("dir=none") })
    let oneWay = try #require(diagram.conduits.first { $0.name == "vendor-control" }).id
    let edges = Self.lines(of: "conduit_\(oneWay)", in: dot).edges
    #expect(edges.contains { $0.hasPrefix("zone_2 -> conduit_\(oneWay) ") && $0.contains("dir=none") })
    #expect(edges.contains { $0.hasPrefix("conduit_\(oneWay) -> zone_1 ") && $0.contains("dir=forward") })
  }

  @Test func namesAreEscaped() throws {
    let dot = ZoneDiagramDOTRenderer().render(try Self.diagram())
    #expect(dot.hasPrefix("digraph \"plant \\\"7\\\"\" {\n"))
    #expect(dot.contains("<B>plant &quot;7&quot;</B>: zones and conduits"))
    #expect(dot.contains("<B>ops &amp; &lt;eng&gt;</B>"))
    #expect(dot.contains("ops &amp; &lt;eng&gt; → control"))
    let statements = dot.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
    #expect(!statements.contains { $0.contains("ops & <eng>") })
    #expect(dot.contains("    // ops & <eng>\n"))
    #expect(dot.contains("tooltip=\"operators' \\\"desk\\\" \\\\ room\""))
  }

  @Test func theOutputIsTheSameEveryTime() throws {
    let first = ZoneDiagramDOTRenderer().render(try Self.diagram())
    let second = ZoneDiagramDOTRenderer().render(try Self.diagram())
    #expect(first == second)
  }
}
