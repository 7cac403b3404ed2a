import BaselineFormat
import Testing

@Suite("Large files")
struct LargeFileTests {
  static let rowCount = 100_000

  @Test func hundredThousandCSVRows() {
    var source = "mac_address;ip_address;device_name;device_role\n"
    for index in 0..<Self.rowCount {
      let address = "10.\(index / 65536).\(index / 256 % 256).\(index % 256)"
      source += "00:11:22:33:44:\(index % 100);\(address);dev-\(index);\"PLC; S7\"\n"
    }
    let bytes = Array(source.utf8)
    let readTable = BaselineTable.read(bytes, pathExtension: "csv")

    #expect(readTable.errors.isEmpty)
    #expect(readTable.records.count == Self.rowCount)
    #expect(readTable.records.last?.line == Self.rowCount + 1)
    #expect(readTable.records.last?.cell(forKey: "device_name")?.value == .text("dev-\(Self.rowCount - 1)"))
    #expect(readTable.records.last?.cell(forKey: "device_role")?.value == .text("PLC; S7"))
  }

  @Test func hundredThousandJSONObjects() {
    var source = "[\n"
    for index in 0..<Self.rowCount {
      let address = "10.0.\(index / 256 % 256).\(index % 256)"
      source += "  {\"name\": \"dev-\(index)\", \"ips\": [\"\(address)\"], \"port\": 502, \"x\": null},\n"
    }
    source += "  {}\n]\n"
    let bytes = Array(source.utf8)
    let readTable = BaselineTable.read(bytes, pathExtension: "json")

    #expect(readTable.errors.isEmpty)
    #expect(readTable.records.count == Self.rowCount + 1)
    #expect(readTable.records[Self.rowCount - 1].line == Self.rowCount + 1)
    #expect(readTable.records[Self.rowCount - 1].cells.count == 3)
  }
}
