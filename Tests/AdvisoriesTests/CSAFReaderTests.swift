import Foundation
import Testing

@testable import Advisories

/// The CSAF reader on real advisories: the five of the fixtures field by field, and every OT advisory CISA published
/// from 2017 to 2024 (Fixtures/csaf/SOURCES.txt) read without a failure, each unreadable range reported with its
/// file and product.
@Suite struct CSAFReaderTests {
  static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/csaf")

  static func advisory(_ name: String) throws -> Advisory {
    let url = fixtures.appendingPathComponent("\(name).json")
    return try CSAFReader.read(Array(try Data(contentsOf: url)), file: url.lastPathComponent).get()
  }

  @Test func aSiemensAdvisoryGivesModelNumbersAndEveryVersion() throws {
    let advisory = try Self.advisory("icsa-24-261-01")
    #expect(advisory.id == "ICSA-24-261-01")
    #expect(advisory.products.count == 18)
    let first = try #require(advisory.products.first)
    #expect(first.productID == "CSAFPID-0001")
    #expect(first.vendor == "Siemens")
    #expect(first.modelNumbers == ["6ES7288-1CR40-0AA0"])
    #expect(first.versions == .all)
    #expect(advisory.problems.isEmpty, "\(advisory.problems)")
    let vulnerability = try #require(advisory.vulnerabilities.first)
    #expect(vulnerability.cve == "CVE-2024-43647")
    #expect(vulnerability.scores.map(\.baseScore) == [7.5])
    #expect(vulnerability.knownAffected.count == 18)
    #expect(Set(vulnerability.remediations.map(\.category)) == ["mitigation", "no_fix_planned"])
  }

  @Test func aSchneiderAdvisoryHasItsVendorTrimmedAndItsFreeTextRangesRead() throws {
    let advisory = try Self.advisory("icsa-23-201-01")
    #expect(advisory.products.count == 8)
    #expect(Set(advisory.products.compactMap(\.vendor)) == ["Schneider Electric"])
    let byName = Dictionary(uniqueKeysWithValues: advisory.products.map { ($0.name ?? "", $0) })
    #expect(byName["EcoStruxure Process Expert"]?.versions?.description == "<= 2020")
    #expect(byName["Modicon M340 CPU (part numbers BMXP34*)"]?.versions?.description == "< SV3.51")
    #expect(advisory.vulnerabilities.first?.cve == "CVE-2022-45788")
    #expect(Set(advisory.vulnerabilities.first?.remediations.map(\.category) ?? []) == ["mitigation", "vendor_fix"])
  }

  @Test func theOtherThreeFixturesAreRead() throws {
    let rockwell = try Self.advisory("icsa-24-226-07")
    #expect(rockwell.products.map(\.versions?.description) == ["< v22.011"])
    #expect(rockwell.vulnerabilities.first?.scores.first?.baseScore == 5.3)
    let unitronics = try Self.advisory("icsa-24-109-01")
    #expect(
      unitronics.products.map(\.name) == ["Vision 230", "Vision 280", "Vision 290", "Vision 530", "Vision 560"]
        || unitronics.products.count == 5)
    #expect(unitronics.vulnerabilities.first?.remediations.contains { $0.details.contains("20256") } == true)
    let rtls = try Self.advisory("icsa-24-046-03")
    #expect(rtls.products.count == 5)
    #expect(rtls.products.allSatisfy { $0.modelNumbers.count == 1 })
  }

  @Test(arguments: [
    "", "[]", "{\"document\": {}}", "not json", "{\"document\": {\"tracking\": {\"id\": 7}}}",
  ])
  func aFileThatIsNoAdvisoryIsRefusedWithItsName(_ text: String) {
    guard case .failure(let error) = CSAFReader.read(Array(text.utf8), file: "x.json") else {
      Issue.record("'\(text)' was read as an advisory")
      return
    }
    #expect(error.description.hasPrefix("x.json: "))
  }

  @Test func deepNestingIsNeitherACrashNorARecursion() {
    let deep = String(repeating: "{\"branches\": [", count: 5000) + String(repeating: "]}", count: 5000)
    let text = "{\"document\": {\"tracking\": {\"id\": \"A\"}}, \"product_tree\": \(deep)}"
    switch CSAFReader.read(Array(text.utf8), file: "deep.json") {
    case .failure(let error): #expect(error.message.contains("not JSON"))
    case .success(let advisory): #expect(advisory.products.isEmpty)
    }
  }

  @Test func everyOTAdvisoryCISAPublishedIsRead() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdt-csaf-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let tar = Process()
    tar.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
    tar.arguments = [
      "-xJf", Self.fixtures.appendingPathComponent("cisa-ot-white-2017-2024.tar.xz").path, "-C", directory.path,
    ]
    try tar.run()
    tar.waitUntilExit()
    try #require(tar.terminationStatus == 0, "tar could not unpack the corpus (is xz-utils installed?)")
    let files = try #require(FileManager.default.enumerator(atPath: directory.path)).compactMap { $0 as? String }
      .filter { $0.hasSuffix(".json") && $0.split(separator: "/").count == 3 }.sorted()
    #expect(files.count == 2379)
    var products = 0
    var unreadable = 0
    var ranges = 0
    var fullyRead = 0
    var unreadableRanges: [String: Int] = [:]
    for file in files {
      let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(file)))
      let advisory = try CSAFReader.read(bytes, file: file).get()
      #expect(!advisory.products.isEmpty, "\(file) has no product")
      products += advisory.products.count
      ranges += advisory.products.filter { $0.versions != nil }.count
      if advisory.problems.isEmpty { fullyRead += 1 }
      for product in advisory.products {
        if case .unreadable(let text)? = product.versions { unreadableRanges[text, default: 0] += 1 }
      }
      for problem in advisory.problems where problem.message.contains("cannot be read") {
        unreadable += 1
        #expect(problem.product != nil && problem.description.hasPrefix(file))
      }
    }
    #expect(products > 15_000)
    #expect(unreadable * 10 < ranges, "\(unreadable) of \(ranges) ranges unreadable")
    var summary = """
      CISA OT advisories 2017-2024 (cisa-ot-white-2017-2024.tar.xz) as CSAFReader reads them
      advisories: \(files.count)
      read fully (no problem reported): \(fullyRead)
      products: \(products)
      version names and ranges: \(ranges)
      unreadable: \(unreadable)
      unreadable strings (count, text), by count then text:

      """
    for (text, count) in unreadableRanges.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }) {
      summary += "\(count)\t\(text.debugDescription)\n"
    }
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
      "Golden/corpus-summary.txt")
    if ProcessInfo.processInfo.environment["CONDUIT_RECORD_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(
        at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
      try summary.write(to: golden, atomically: true, encoding: .utf8)
    } else {
      let expected = try String(contentsOf: golden, encoding: .utf8)
      #expect(
        summary == expected, "the corpus summary changed: record it with CONDUIT_RECORD_GOLDEN=1 and review the diff")
    }
    print("CSAF corpus: \(files.count) advisories, \(products) products, \(unreadable) of \(ranges) ranges unreadable")
  }
}
