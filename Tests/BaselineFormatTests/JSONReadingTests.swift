import BaselineFormat
import Testing

@Suite("JSON baselines")
struct JSONReadingTests {
  @Test func scalarsListsAndNulls() throws {
    let source = """
      [
        {"name": "plc-1", "ips": ["10.0.0.1", "10.0.0.2"], "port": 502, "ratio": -1.5e3, \
      "managed": true, "retired": false, "note": null, "tags": []}
      ]

      """
    let table = readTable(source, pathExtension: "json")

    #expect(table.format == .json)
    #expect(table.header.isEmpty)
    #expect(table.errors.isEmpty)
    try #require(table.records.count == 1)
    let record = table.records[0]
    #expect(record.line == 2)
    #expect(record.range == 4..<145)
    #expect(
      record.pairs == [
        KeyValue("name", "plc-1"),
        KeyValue("ips", list: ["10.0.0.1", "10.0.0.2"]),
        KeyValue("port", "502"),
        KeyValue("ratio", "-1.5e3"),
        KeyValue("managed", "true"),
        KeyValue("retired", "false"),
        KeyValue("tags", list: []),
      ])
    #expect(record.cells.map(\.valueRange) == [13..<20, 29..<53, 63..<66, 77..<83, 96..<100, 113..<118, 142..<144])
    #expect(record.cells[0].keyRange == 5..<11)
    #expect(slice(source, record.cells[0].keyRange) == "\"name\"")
    #expect(slice(source, record.cells[1].valueRange) == "[\"10.0.0.1\", \"10.0.0.2\"]")
    #expect(record.cell(forKey: "note") == nil)
  }

  @Test func escapesIncludingSurrogatePair() throws {
    let source = #"[{"desc": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n\t\b\f\r", "k\u0041y": 1}]"#
    let table = readTable(source, pathExtension: "json")

    #expect(
      table.errors == [BaselineReadError(message: "control character U+000A in a string", range: 46..<48, line: 1)])
    try #require(table.records.count == 1)
    let record = table.records[0]
    #expect(record.pairs == [KeyValue("desc", "café 😀 \"q\" \\ / \n\t\u{8}\u{C}\r"), KeyValue("kAy", "1")])
    #expect(record.cells[0].valueRange == 10..<57)
    #expect(record.cells[1].keyRange == 59..<69)
    #expect(slice(source, record.cells[1].keyRange) == #""k\u0041y""#)
    #expect(record.range == 1..<73)
  }

  @Test func objectsSpanningSeveralLinesHaveTheLineOfTheirBrace() throws {
    let source = "[\n  {\"a\": \"1\"},\n\n  {\n    \"b\": \"2\",\n    \"c\": [\"x\",\n          \"y\"]\n  }\n]\n"
    let table = readTable(source, pathExtension: "json")

    #expect(table.errors.isEmpty)
    try #require(table.records.count == 2)
    #expect(table.records.map(\.line) == [2, 4])
    #expect(table.records[0].range == 4..<14)
    #expect(slice(source, table.records[1].range) == "{\n    \"b\": \"2\",\n    \"c\": [\"x\",\n          \"y\"]\n  }")
    #expect(table.records[1].pairs == [KeyValue("b", "2"), KeyValue("c", list: ["x", "y"])])
    #expect(slice(source, table.records[1].cells[1].valueRange) == "[\"x\",\n          \"y\"]")
  }

  @Test func nestedObjectsAndArraysAreDroppedWithAnError() throws {
    let source = """
      [{"name": "a", "location": {"room": [1, {"x": null}]}, "ip": "1.2.3.4", \
      "ips": [["a"], "b", {"c": 1}], "ok": ["x", null, 2]}]
      """
    let table = readTable(source, pathExtension: "json")

    #expect(
      table.errors == [
        BaselineReadError(message: "nested object in member 'location' is not supported", range: 27..<53, line: 1),
        BaselineReadError(message: "nested array in member 'ips' is not supported", range: 80..<85, line: 1),
      ])
    try #require(table.records.count == 1)
    #expect(
      table.records[0].pairs == [KeyValue("name", "a"), KeyValue("ip", "1.2.3.4"), KeyValue("ok", list: ["x", "2"])])
    #expect(table.records[0].range == 1..<124)
  }

  @Test func aDuplicateKeyKeepsTheLaterValue() {
    let table = readTable(#"[{"ip": "10.0.0.1", "ip": "10.0.0.2"}, {}]"#, pathExtension: "json")
    #expect(table.errors.isEmpty)
    #expect(table.duplicateKeys == [BaselineDuplicateKey(key: "ip", range: 20..<24, line: 1, earlierRange: 2..<6)])
    #expect(table.records.map(\.pairs) == [[KeyValue("ip", "10.0.0.2")], []])
    #expect(table.records[1].range == 39..<41)
  }

  @Test func elementsThatAreNotObjectsAreSkippedWithAnError() {
    let source = #"[{"a": "1"}, 42, ["x"], {"b": "2"}, "s"]"#
    let table = readTable(source, pathExtension: "json")

    #expect(
      table.errors == [
        BaselineReadError(message: "array element is not an object", range: 13..<15, line: 1),
        BaselineReadError(message: "array element is not an object", range: 17..<22, line: 1),
        BaselineReadError(message: "array element is not an object", range: 36..<39, line: 1),
      ])
    #expect(table.records.map(\.pairs) == [[KeyValue("a", "1")], [KeyValue("b", "2")]])
  }

  @Test func truncatedFileKeepsTheRecordsBeforeTheEnd() {
    let source = "[\n  {\"a\": \"1\"},\n  {\"b\": \"2\", \"c\": "
    let table = readTable(source, pathExtension: "json")

    #expect(table.errors == [BaselineReadError(message: "expected a value", range: 34..<34, line: 3)])
    #expect(table.records.map(\.pairs) == [[KeyValue("a", "1")]])
    #expect(table.records[0].line == 2)
  }

  @Test(arguments: [
    (#"{"a": 1}"#, 0..<8),
    ("  \"plc\"", 2..<7),
    ("42", 0..<2),
    ("{\"a\": ", 0..<1),
    ("", 0..<0),
    ("\n", 1..<1),
  ])
  func topLevelValueThatIsNotAnArray(source: String, range: Range<Int>) {
    let table = readTable(source, pathExtension: "json")
    let line = source.utf8.prefix(range.lowerBound).filter { $0 == UInt8(ascii: "\n") }.count + 1
    #expect(table.records.isEmpty)
    #expect(
      table.errors == [BaselineReadError(message: "top level must be an array of objects", range: range, line: line)])
  }

  @Test func emptyArrayHasNoRecordsAndNoErrors() {
    let table = readTable("\u{FEFF} [ \r\n ] \n", pathExtension: "json")
    #expect(table.records.isEmpty)
    #expect(table.errors.isEmpty)
  }

  /// A malformed JSON file and the syntax error it must give.
  struct SyntaxErrorCase: Sendable, CustomTestStringConvertible {
    var source: String
    var message: String
    var range: Range<Int>
    var line: Int = 1
    var recordCount = 0

    var testDescription: String { source }
  }

  @Test(arguments: [
    SyntaxErrorCase(source: #"[{"a" "b"}]"#, message: "expected ':' after object key", range: 6..<7),
    SyntaxErrorCase(
      source: #"[{"a": "b" "c": 1}]"#, message: "expected ',' or '}' after object member", range: 11..<12),
    SyntaxErrorCase(
      source: "[{\"a\": \"1\"},\n {\"b\": \"\\x\"}]", message: "invalid escape", range: 21..<23, line: 2,
      recordCount: 1),
    SyntaxErrorCase(source: #"[{"a": "\u12G4"}]"#, message: "invalid unicode escape", range: 8..<13),
    SyntaxErrorCase(source: #"[{"a": "\ud83d"}]"#, message: "unpaired surrogate in unicode escape", range: 8..<14),
    SyntaxErrorCase(source: #"[{"a": "\ude00x"}]"#, message: "unpaired surrogate in unicode escape", range: 8..<14),
    SyntaxErrorCase(source: #"[{"a": 01}]"#, message: "invalid number", range: 7..<9),
    SyntaxErrorCase(source: #"[{"a": 1.}]"#, message: "invalid number", range: 7..<9),
    SyntaxErrorCase(source: #"[{"a": -}]"#, message: "invalid number", range: 7..<8),
    SyntaxErrorCase(source: #"[{"a": 1e5x}]"#, message: "invalid number", range: 7..<11),
    SyntaxErrorCase(source: #"[{"a": tru}]"#, message: "expected a value", range: 7..<10),
    SyntaxErrorCase(source: #"[{"a": }]"#, message: "expected a value", range: 7..<8),
    SyntaxErrorCase(source: #"[{"a": 1,}]"#, message: "trailing comma is not allowed", range: 8..<9),
    SyntaxErrorCase(source: "[{\"a\": 1},\n]", message: "trailing comma is not allowed", range: 9..<10, recordCount: 1),
    SyntaxErrorCase(
      source: #"[{"a": 1}] x"#, message: "unexpected text after the top-level array", range: 11..<12, recordCount: 1),
    SyntaxErrorCase(source: #"[{1: 2}]"#, message: "expected a string key", range: 2..<3),
    SyntaxErrorCase(
      source: #"[{"a": 1} {"b": 2}]"#, message: "expected ',' or ']' after array element", range: 10..<11,
      recordCount: 1),
    SyntaxErrorCase(
      source: "[{\"a\": \"1\"}, {\"b\": \"x\n\"}]", message: "unterminated string", range: 19..<21, recordCount: 1),
    SyntaxErrorCase(
      source: #"[{"a": "1"}, {"b": "unterminated"#, message: "unterminated string", range: 19..<32, recordCount: 1),
    SyntaxErrorCase(
      source: #"[{"a": "1"}, {"b": "2""#, message: "expected ',' or '}' after object member", range: 22..<22,
      recordCount: 1),
    SyntaxErrorCase(source: #"[{"a": [1, 2}]"#, message: "expected ',' or ']' after array element", range: 12..<13),
    SyntaxErrorCase(source: #"[{"a": [[1, 2}]"#, message: "expected ',' or ']' after array element", range: 13..<14),
    SyntaxErrorCase(source: #"[{"a": {"b" 1}}]"#, message: "expected ':' after object key", range: 12..<13),
  ])
  func syntaxErrorStopsReading(_ errorCase: SyntaxErrorCase) {
    let table = readTable(errorCase.source, pathExtension: "json")
    #expect(
      table.errors == [BaselineReadError(message: errorCase.message, range: errorCase.range, line: errorCase.line)])
    #expect(table.records.count == errorCase.recordCount)
  }

  @Test func syntaxErrorOnALaterLineReportsThatLine() {
    let source = "[\n  {\"a\": \"1\"},\n  {\"b\": \"2\"\n   \"c\": \"3\"}\n]"
    let table = readTable(source, pathExtension: "json")
    #expect(
      table.errors == [BaselineReadError(message: "expected ',' or '}' after object member", range: 31..<32, line: 4)])
    #expect(table.records.map(\.line) == [2])
  }

  @Test func deeplyNestedValueIsSkippedWithoutRecursion() {
    let depth = 100_000
    let source =
      "[{\"a\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + ", \"b\": 1}]"
    let table = readTable(source, pathExtension: "json")
    #expect(
      table.errors == [
        BaselineReadError(message: "nested array in member 'a' is not supported", range: 8..<(6 + 2 * depth), line: 1)
      ])
    #expect(table.records.map(\.pairs) == [[KeyValue("b", "1")]])
  }

  @Test func invalidUTF8InAStringIsReportedOnce() {
    let bytes =
      Array(#"[{"city": "K"#.utf8) + [0xF6] + Array(#"ln", "x\/": "\u00e9"#.utf8) + [0xE9] + Array("\"}]".utf8)
    let table = BaselineTable.read(bytes, pathExtension: "json")
    #expect(table.errors == [BaselineReadError(message: "file is not valid UTF-8", range: 12..<13, line: 1)])
    #expect(table.records.map(\.pairs) == [[KeyValue("city", "K\u{FFFD}ln"), KeyValue("x/", "é\u{FFFD}")]])
  }
}
