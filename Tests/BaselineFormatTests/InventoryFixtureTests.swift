import BaselineFormat
import Foundation
import Testing

/// The DINA community's sample inventory export (see Fixtures/SOURCES.txt).
@Suite("DINA inventory export")
struct InventoryFixtureTests {
  let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/dina_input_sdt.csv")

  @Test func readsAllDevicesWithTheirColumns() throws {
    let table = try BaselineTable.read(contentsOf: fixtureURL)

    #expect(table.format == .csv(delimiter: UInt8(ascii: ",")))
    #expect(table.errors.isEmpty)
    #expect(
      table.header.map(\.key) == [
        "mac_address", "ip_address", "description", "device_name", "device_role", "source", "manufacturer",
        "device_family",
      ])
    #expect(table.records.count == 15)
    #expect(table.records.map(\.line) == Array(2...16))
    #expect(table.records.allSatisfy { $0.cells.count == 8 })

    let safetyController = table.records[4]
    #expect(safetyController.line == 6)
    #expect(
      safetyController.pairs == [
        KeyValue("mac_address", "AC:64:17:48:3A:89"), KeyValue("ip_address", "192.168.10.14"),
        KeyValue("description", ""),
        KeyValue("device_name", "sps-safety"), KeyValue("device_role", "Safety SPS"), KeyValue("source", "testinput"),
        KeyValue("manufacturer", "Siemens"), KeyValue("device_family", "S7-314"),
      ])
    #expect(safetyController.cell(forKey: "device_role")?.value == .text("Safety SPS"))

    let lastDevice = table.records[13]
    #expect(lastDevice.cell(forKey: "device_name")?.value == .text("Io-device"))
    #expect(lastDevice.cell(forKey: "device_family")?.value == .text(""))
    #expect(
      lastDevice.cell(forKey: "device_family")?.valueRange == lastDevice.range.upperBound..<lastDevice.range.upperBound)
  }

  @Test func rangesSliceBackToTheExactText() throws {
    let bytes = [UInt8](try Data(contentsOf: fixtureURL))
    let table = BaselineTable.read(bytes, pathExtension: "csv")
    let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    for headerCell in table.header {
      #expect(text(headerCell.keyRange) == headerCell.key)
    }
    for record in table.records {
      #expect(text(record.range) == String(lines[record.line - 1]))
      for cell in record.cells {
        #expect(.text(text(cell.valueRange)) == cell.value)
        #expect(text(cell.keyRange) == cell.key)
      }
    }
    let safetyRole = try #require(table.records[4].cell(forKey: "device_role"))
    #expect(text(safetyRole.valueRange) == "Safety SPS")
  }
}
