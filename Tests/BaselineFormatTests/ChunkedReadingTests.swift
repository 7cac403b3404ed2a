import BaselineFormat
import Testing

/// Reading in chunks hands over the same records, errors and format as reading whole, never more than a chunk at a
/// time, and keeps none in the table: a large inventory is never held twice.
@Suite("Chunked reading")
struct ChunkedReadingTests {
  static let csv =
    "name;ip;role\nplc-1;10.0.0.1;plc\n\n\"plc;2\";10.0.0.2;\"PLC\nS7\"\nplc-3;10.0.0.3\nplc-4;10.0.0.4;plc;extra\n"
    + (5..<40).map { "plc-\($0);10.0.0.\($0);plc\n" }.joined()
  static let json =
    "[\n" + (0..<40).map { #"{"name": "plc-\#($0)", "ip": ["10.0.0.\#($0)"], "role": null}"# }.joined(separator: ",\n")
    + ",\n 7, {\"name\": \"last\"}\n]\n"

  static func chunks(_ source: String, pathExtension: String, size: Int) -> (
    BaselineTable, [[BaselineRecord]], [BaselineFileFormat]
  ) {
    var chunks: [[BaselineRecord]] = []
    var formats: [BaselineFileFormat] = []
    let table = BaselineTable.read(Array(source.utf8), pathExtension: pathExtension, recordsInChunksOf: size) {
      formats.append($0)
      chunks.append($1)
    }
    return (table, chunks, formats)
  }

  @Test(arguments: [("csv", 1), ("csv", 7), ("csv", 1000), ("json", 3), ("json", 40), ("", 6)])
  func chunksHoldTheRecordsOfAWholeRead(pathExtension: String, size: Int) {
    let source = pathExtension == "csv" || pathExtension == "" && size == 6 ? Self.csv : Self.json
    let whole = readTable(source, pathExtension: pathExtension)
    let (table, chunks, formats) = Self.chunks(source, pathExtension: pathExtension, size: size)
    #expect(table.records.isEmpty)
    #expect(chunks.flatMap { $0 } == whole.records)
    #expect(chunks.allSatisfy { !$0.isEmpty && $0.count <= size })
    #expect(chunks.dropLast().allSatisfy { $0.count == size })
    #expect(formats.allSatisfy { $0 == whole.format })
    #expect(table.format == whole.format && table.header == whole.header && table.errors == whole.errors)
    #expect(!whole.errors.isEmpty)
  }

  @Test func aSyntaxErrorStillHandsOverTheRecordsBeforeIt() {
    let source = #"[{"name": "a", "ip": "10.0.0.1"}, {"name": "b", "ip": "10.0.0.2"}, {"name": "#
    let whole = readTable(source, pathExtension: "json")
    let (table, chunks, _) = Self.chunks(source, pathExtension: "json", size: 10)
    #expect(whole.records.count == 2)
    #expect(chunks.flatMap { $0 } == whole.records)
    #expect(table.errors == whole.errors && !table.errors.isEmpty)
  }
}
