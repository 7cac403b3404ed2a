import Foundation
import Testing

@testable import Advisories

/// Matching advisories against a baseline (ADVISORIES.md): for each fixture advisory a baseline with a matching
/// asset, a product of the same vendor and family with an unlisted model number, and another vendor; the exact
/// matches with their evidence; fixed and known-not-affected products never match.
@Suite struct AdvisoryMatchingTests {
  static func advisory(_ path: String) throws -> Advisory {
    let url = CSAFReaderTests.fixtures.appendingPathComponent(path)
    return try CSAFReader.read(Array(try Data(contentsOf: url)), file: url.lastPathComponent).get()
  }

  static func asset(_ name: String, _ vendor: String?, _ product: String?, _ model: String?, _ version: String?)
    -> AssetIdentity
  {
    AssetIdentity(name: name, vendor: vendor, product: product, model: model, version: version)
  }

  /// `asset name: evidence productID CVEs` of every match.
  static func summary(_ matches: [AdvisoryMatch], _ assets: [AssetIdentity]) -> [String] {
    matches.map {
      "\(assets[$0.asset].name): \($0.evidence.rawValue) \($0.productID) \($0.cves.joined(separator: ","))"
    }
  }

  @Test func siemensProductsMatchByModelNumberAndAnUnlistedModelDoesNot() throws {
    let assets = [
      Self.asset("cpu-1", "Siemens AG", "SIMATIC S7-200 SMART", "6ES7288-1SR20-0AA0", "V2.8"),
      Self.asset("cpu-unlisted", "Siemens", "SIMATIC S7-200 SMART CPU", "6ES7288-1ST99-0AA0", "V2.8"),
      Self.asset("cpu-no-model", "Siemens", "S7-200 SMART CPU SR20", nil, nil),
      Self.asset("other-vendor", "Schneider Electric", "SIMATIC S7-200 SMART", "6ES7288-1SR20-0AA0", "V2.8"),
    ]
    let matches = AdvisoryMatcher.matches(try Self.advisory("icsa-24-261-01.json"), assets: assets)
    #expect(
      Self.summary(matches, assets) == [
        "cpu-1: model+version CSAFPID-0003 CVE-2024-43647", "cpu-no-model: name CSAFPID-0003 CVE-2024-43647",
      ])
    #expect(matches.first?.reason.contains("model number 6ES7288-1SR20-0AA0 is listed") == true)
  }

  @Test func schneiderPartNumbersMatchByPrefixWithinTheirRange() throws {
    let assets = [
      Self.asset("m340-old", "Schneider Electric", "Modicon M340", "BMXP342020", "SV3.40"),
      Self.asset("m340-new", "Schneider Electric SE", "Modicon M340", "BMXP342020", "3.60"),
      Self.asset("process-expert", "Schneider Electric", "EcoStruxure Process Expert", nil, "2020"),
      Self.asset("m221", "Schneider Electric", "Modicon M221", "TM221CE16R", "1.6"),
      Self.asset("other-vendor", "Rockwell Automation", "Modicon M340", "BMXP342020", "SV3.40"),
    ]
    let matches = AdvisoryMatcher.matches(try Self.advisory("icsa-23-201-01.json"), assets: assets)
    #expect(
      Self.summary(matches, assets) == [
        "m340-old: model+version CSAFPID-0003 CVE-2022-45788",
        "process-expert: name+version CSAFPID-0002 CVE-2022-45788",
      ])
  }

  @Test func aFreeTextRangeDecidesAndAnUnknownVersionMakesNoVersionClaim() throws {
    let assets = [
      Self.asset("plc-old", "Rockwell Automation, Inc.", "Micro850", "2080-L50E-24QBB", "21.011"),
      Self.asset("plc-current", "Rockwell Automation", "Micro850", "2080-L50E-24QBB", "22.011"),
      Self.asset("plc-unknown", "Rockwell Automation", "Micro850", "2080-L50E-24QBB", nil),
      Self.asset("plc-870", "Rockwell Automation", "Micro870", "2080-L70E-24QBB", "21.011"),
      Self.asset("plc-other", "Rockwell Automation", "CompactLogix 5380", "5069-L306ER", "21.011"),
    ]
    let matches = AdvisoryMatcher.matches(try Self.advisory("icsa-24-226-07.json"), assets: assets)
    #expect(
      Self.summary(matches, assets) == [
        "plc-old: name+version CSAFPID-0001 CVE-2024-7567", "plc-unknown: name CSAFPID-0001 CVE-2024-7567",
      ])
    #expect(matches.last?.reason.contains("version '' is unknown") == true)
  }

  @Test func theOtherTwoFixturesMatchByName() throws {
    let unitronics = [
      Self.asset("hmi-1", "Unitronics", "Vision 280", nil, "4.3"),
      Self.asset("hmi-2", "Unitronics", "Samba 43", nil, "4.3"),
    ]
    #expect(
      Self.summary(AdvisoryMatcher.matches(try Self.advisory("icsa-24-109-01.json"), assets: unitronics), unitronics)
        == ["hmi-1: name+version CSAFPID-0002 CVE-2024-1480"])
    let rtls = [
      Self.asset("gw-1", "Siemens", "SIMATIC RTLS Gateway", "6GT2701-5DB23", "V3.0"),
      Self.asset("gw-unlisted", "Siemens", "SIMATIC RTLS Gateway", "6GT2701-5DB99", "V3.0"),
    ]
    #expect(
      Self.summary(AdvisoryMatcher.matches(try Self.advisory("icsa-24-046-03.json"), assets: rtls), rtls)
        == ["gw-1: model+version CSAFPID-0001 CVE-2020-11896"])
  }

  @Test func fixedAndKnownNotAffectedProductsNeverMatch() throws {
    let dce = [
      Self.asset("dce-fixed", "Schneider Electric", "Data Center Expert", nil, "8.2"),
      Self.asset("dce-old", "Schneider Electric", "Data Center Expert", nil, "8.1.1"),
    ]
    #expect(
      Self.summary(AdvisoryMatcher.matches(try Self.advisory("statuses/icsa-24-289-02.json"), assets: dce), dce)
        == ["dce-old: name+version CSAFPID-0001 CVE-2024-8530,CVE-2024-8531"])
    let digi = [
      Self.asset("router", "Digi International", "6350-SR", nil, "1.0"),
      Self.asset("terminal-server", "Digi International Inc.", "ConnectPort LTS 8/16/32", nil, "1.4.2"),
    ]
    #expect(
      Self.summary(AdvisoryMatcher.matches(try Self.advisory("statuses/icsa-23-243-04.json"), assets: digi), digi)
        == ["terminal-server: name+version CSAFPID-0005 CVE-2023-4299"])
  }

  @Test(arguments: [
    ("Siemens AG", "siemens"), ("Schneider Electric ", "schneiderelectric"),
    ("Rockwell Automation, Inc.", "rockwellautomation"),
    ("Digi International, Inc. ", "digiinternational"), ("ABB Ltd.", "abb"),
    ("Phoenix Contact GmbH & Co. KG", "phoenixcontact"),
  ])
  func vendorNamesAreComparedWithoutCaseSpacesAndLegalSuffixes(_ name: String, _ normalized: String) {
    #expect(AdvisoryMatcher.normalizedVendor(name) == normalized)
  }
}

/// A product with a CPE matches an asset whose baseline CPE names the same product, after model numbers and before
/// names; a CPE that leaves the product open matches nothing.
@Suite struct CPEMatchingTests {
  static let advisory = """
    {"document": {"csaf_version": "2.0", "title": "CPE", "tracking": {"id": "TEST-CPE"}},
     "product_tree": {"branches": [{"category": "vendor", "name": "Example", "branches": [
       {"category": "product_name", "name": "Gateway", "branches": [
         {"category": "product_version_range", "name": "vers:generic/<2.0",
          "product": {"name": "Example Gateway < 2.0", "product_id": "P1",
                      "product_identification_helper": {"cpe": "cpe:2.3:h:example:gateway_x:*:*:*:*:*:*:*:*"}}}]}]}]},
     "vulnerabilities": [{"cve": "CVE-2099-0002", "product_status": {"known_affected": ["P1"]}}]}
    """

  @Test func theCPEProductDecides() throws {
    let advisory = try CSAFReader.read(Array(Self.advisory.utf8), file: "cpe.json").get()
    let assets = [
      AssetIdentity(
        name: "by-cpe", vendor: "Example", product: "Edge box", model: "EB-1", version: "1.5",
        cpe: "cpe:2.3:h:example:gateway_x:1.5:*:*:*:*:*:*:*"),
      AssetIdentity(
        name: "other-cpe", vendor: "Example", product: "Edge box", model: "EB-1", version: "1.5",
        cpe: "cpe:2.3:h:example:router_y:1.5:*:*:*:*:*:*:*"),
      AssetIdentity(
        name: "too-new", vendor: "Example", product: "Edge box", model: "EB-1", version: "2.1",
        cpe: "cpe:2.3:h:example:gateway_x:2.1:*:*:*:*:*:*:*"),
      AssetIdentity(
        name: "open", vendor: "Example", product: "Edge", model: nil, version: "1.0", cpe: "cpe:2.3:h:example:*"),
    ]
    let matches = AdvisoryMatcher.matches(advisory, assets: assets)
    #expect(matches.map { assets[$0.asset].name } == ["by-cpe"])
    #expect(matches.first?.evidence == .modelAndVersion)
    #expect(matches.first?.reason.hasPrefix("the CPE product h:example:gateway_x is the asset's") == true)
    #expect(AdvisoryMatcher.cpeProduct("cpe:2.3:a:vendor:*:1") == nil)
    #expect(AdvisoryMatcher.cpeProduct("cpe:/h:vendor:product") == nil)
  }
}
