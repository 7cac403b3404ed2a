import FlowSpace
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

@Suite struct BaselineTests {
  static let labZone = """
    zone lab {
      level 1
      security-level 2
      network 192.168.10.0/24
    }

    """

  @Test func readsTheDINAInventoryExportThroughItsAliases() throws {
    let directory = try PolicyDirectory(["site.conduit": Self.labZone])
    let (policy, diagnostics) = try directory.resolve(baseline: try fixturePath("dina_input_sdt.csv"))
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
    #expect(policy.assets.count == 15)
    let safety = try #require(policy.assets.first { $0.name == "sps-safety" })
    #expect(safety.role == "Safety SPS")
    #expect(safety.vendor == "Siemens")
    #expect(safety.product == "S7-314")
    #expect(safety.mac == "AC:64:17:48:3A:89")
    #expect(safety.addresses == [IPAddress("192.168.10.14")!])
    #expect(safety.addressZones == [0])
    #expect(safety.origin.range.startLocation.line == 6)
    let gateway = try #require(policy.assets.first { $0.name == "opcua-gw" })
    #expect(gateway.vendor == "Sotfing")
    #expect(gateway.attributes["description"] == "Softing_33:09:78")
    #expect(gateway.attributes["source"] == "testinput")
    let ioDevice = try #require(policy.assets.first { $0.name == "Io-device" })
    #expect(ioDevice.role == nil && ioDevice.product == nil)
  }

  @Test func rolesCompareIgnoringCaseAndMayHoldSpaces() throws {
    let directory = try PolicyDirectory([
      "site.conduit": Self.labZone + """
        zone plant {
          level 2
          security-level 2
          network 192.168.20.0/24
        }
        asset scada { address 192.168.20.5; role scada }
        conduit plant-lab {
          between plant and lab
          allow scada -> role "MEDIA GATEWAY", role "safety sps" service profinet-cm
        }
        """
    ])
    let (policy, diagnostics) = try directory.resolve(baseline: try fixturePath("dina_input_sdt.csv"))
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.message))")
    let rule = try #require(policy.rules.first)
    #expect(rule.destinations[0].assets.map { policy.assets[$0].name } == ["bk-1", "bk-2", "bk-3", "opcua-gw"])
    #expect(rule.destinations[1].assets.map { policy.assets[$0].name } == ["sps-safety"])
    #expect(policy.flows.count == 1)
    #expect(policy.flows[0].destinations.prefixes.count == 4)
  }

  @Test func semicolonFileWithQuotesSeveralAddressesSlash32AndIPv6() throws {
    let directory = try PolicyDirectory([
      "site.conduit": operationsAndControlZones
    ])
    let (policy, diagnostics) = try directory.resolve(baseline: try fixturePath("plant-semicolon.csv"))
    let hmi = try #require(policy.assets.first { $0.name == "HMI 2" })
    #expect(hmi.addresses == [IPAddress("10.30.0.32")!, IPAddress("fd00:30::32")!])
    #expect(hmi.criticality == .high)
    #expect(hmi.securityLevel == 2)
    #expect(hmi.version == "V17 Update 4")
    #expect(hmi.baselineZone?.text == "operations")
    let rtu = try #require(policy.assets.first { $0.name == "rtu-1" })
    #expect(rtu.addresses.count == 2)
    #expect(rtu.version == "1.2; build 7")
    #expect(rtu.criticality == .critical)
    #expect(policy.assets.filter { $0.isShared }.map { $0.name } == ["vrrp-a", "vrrp-b"])
    let rows = diagnostics.filter { $0.id == .baselineRow }.map { ($0.range!.startLocation.line, $0.message) }
    #expect(rows.map(\.0) == [6, 7, 8])
    #expect(rows[0].1 == "'10.40.0.300' is not an IP address")
    #expect(rows[1].1.hasPrefix("baseline row 'no-address' has no address"))
    #expect(rows[2].1 == "criticality 'urgent' is not low, medium, high, critical or 1-4")
    #expect(diagnostics.allSatisfy { $0.range?.file.path.hasSuffix("plant-semicolon.csv") == true })
  }

  @Test func jsonRowsPointAtTheLineOfTheirObject() throws {
    let directory = try PolicyDirectory([
      "site.conduit": operationsAndControlZones
    ])
    let (policy, diagnostics) = try directory.resolve(baseline: try fixturePath("plant.json"))
    let workstation = try #require(policy.assets.first { $0.name == "eng-ws-1" })
    #expect(workstation.addresses == [IPAddress("10.30.0.40")!, IPAddress("fd00:30::40")!])
    #expect(workstation.criticality == .medium)
    #expect(workstation.tags == ["engineering", "temporary"])
    let plc = try #require(policy.assets.first { $0.name == "plc-7" })
    #expect(plc.addresses == [IPAddress("10.40.0.7")!, IPAddress("fd00:40::7")!])
    #expect(plc.model == "1756-L83E")
    #expect(plc.securityLevel == 2)
    #expect(plc.origin.range.startLocation.line == 4)
    let located = diagnostics.map { ($0.range!.startLocation.line, $0.id) }
    #expect(located.map(\.0) == [7, 11])
    #expect(located.allSatisfy { $0.1 == .baselineRow })
  }

  @Test func policyAssetsRefineBaselineRowsAndClashesAreReported() throws {
    let directory = try PolicyDirectory([
      "site.conduit": Self.labZone + """
        asset sps-1 { address 192.168.10.3; criticality critical; security-level 2 }
        asset sps-2 { address 192.168.10.99; vendor "Rockwell" }
        """
    ])
    let (policy, diagnostics) = try directory.resolve(baseline: try fixturePath("dina_input_sdt.csv"))
    let refined = try #require(policy.assets.first { $0.name == "sps-1" })
    #expect(refined.criticality == .critical)
    #expect(refined.vendor == "Siemens")
    guard case .both = refined.origin else {
      Issue.record("expected a merged origin")
      return
    }
    let clashes = diagnostics.filter { $0.id == .assetClash }
    #expect(clashes.count == 2)
    #expect(clashes.allSatisfy { $0.notes.first?.range?.file.path.hasSuffix(".csv") == true })
  }
}
