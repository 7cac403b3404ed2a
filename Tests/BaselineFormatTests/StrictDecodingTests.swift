import Testing

@testable import BaselineFormat

/// A baseline given as bytes and the problems expected (message, byte range, line), with the records still read.
struct BaselineDecodingCase: CustomTestStringConvertible, Sendable {
  var name: String
  var pathExtension: String
  var bytes: [UInt8]
  var errors: [BaselineReadError]
  var names: [String]

  var testDescription: String { name }

  init(_ name: String, _ pathExtension: String, _ parts: [[UInt8]], errors: [BaselineReadError], names: [String]) {
    self.name = name
    self.pathExtension = pathExtension
    self.bytes = parts.flatMap { $0 }
    self.errors = errors
    self.names = names
  }
}

private func text(_ string: String) -> [UInt8] { Array(string.utf8) }

private func error(_ message: String, _ range: Range<Int>, line: Int) -> BaselineReadError {
  BaselineReadError(message: message, range: range, line: line)
}

@Suite struct BaselineStrictDecodingTests {
  static let cases: [BaselineDecodingCase] = [
    BaselineDecodingCase(
      "CSV: a newline in a quoted name, and the rows after it are still read", "csv",
      [text("name,ip\n\"plc\n1\",10.0.0.1\nhmi-1,10.0.0.2\n")],
      errors: [error("control character U+000A in a field", 12..<13, line: 2)], names: ["plc\n1", "hmi-1"]),
    BaselineDecodingCase(
      "CSV: an escape sequence in an unquoted cell", "csv", [text("name,ip\nhmi"), [0x1B], text("[2J,10.0.0.1\n")],
      errors: [error("control character U+001B in a field", 11..<12, line: 2)], names: ["hmi\u{1B}[2J"]),
    BaselineDecodingCase(
      "CSV: NUL in a header cell", "csv", [text("na"), [0x00], text("me,ip\nplc-1,10.0.0.1\n")],
      errors: [error("control character U+0000 in a field", 2..<3, line: 1)], names: []),
    BaselineDecodingCase(
      "CSV: C1 CSI in a quoted cell", "csv", [text("name,vendor\nplc-1,\"Acme"), [0xC2, 0x9B], text("\"\n")],
      errors: [error("control character U+009B in a field", 23..<25, line: 2)], names: ["plc-1"]),
    BaselineDecodingCase(
      "CSV: DEL in a cell", "csv", [text("name,ip\nplc"), [0x7F], text(",10.0.0.1\n")],
      errors: [error("control character U+007F in a field", 11..<12, line: 2)], names: ["plc\u{7F}"]),
    BaselineDecodingCase(
      "CSV: a tab inside a cell is whitespace, a carriage return before the line break is part of it", "csv",
      [text("name,ip\r\nhmi\t2,10.0.0.1\r\n")], errors: [], names: ["hmi\t2"]),
    BaselineDecodingCase(
      "CSV: a byte order mark at the start is skipped", "csv",
      [[0xEF, 0xBB, 0xBF], text("name,ip\nplc-1,10.0.0.1\n")],
      errors: [], names: ["plc-1"]),
    BaselineDecodingCase(
      "JSON: an escaped escape character in a name, located at the escape", "json",
      [text(#"[{"name": "a\u001b[2Jb", "ip": "10.0.0.1"}, {"name": "c"}]"#)],
      errors: [error("control character U+001B in a string", 12..<18, line: 1)], names: ["a\u{1B}[2Jb", "c"]),
    BaselineDecodingCase(
      "JSON: an escaped newline and NUL; only the first of a string is reported", "json",
      [text(#"[{"name": "a\nb\u0000"}]"#)],
      errors: [error("control character U+000A in a string", 12..<14, line: 1)], names: ["a\nb\u{0}"]),
    BaselineDecodingCase(
      "JSON: an escaped C1 character in a key", "json", [text(#"[{"na\u0085me": "x", "name": "y"}]"#)],
      errors: [error("control character U+0085 in a string", 5..<11, line: 1)], names: ["y"]),
    BaselineDecodingCase(
      "JSON: a raw control character is reported and reading goes on", "json",
      [text("[{\"name\": \"a\tb\"},\n {\"name\": \"c"), [0x01], text("\"}]")],
      errors: [
        error("unescaped control character U+0009 in a string", 12..<13, line: 1),
        error("unescaped control character U+0001 in a string", 30..<31, line: 2),
      ], names: ["a\tb", "c\u{1}"]),
    BaselineDecodingCase(
      "JSON: raw DEL and C1 in a string", "json", [text("[{\"name\": \"a"), [0x7F, 0xC2, 0x80], text("\"}]")],
      errors: [error("control character U+007F in a string", 12..<13, line: 1)], names: ["a\u{7F}\u{80}"]),
    BaselineDecodingCase(
      "JSON: an escaped tab is whitespace", "json", [text(#"[{"name": "a\tb"}]"#)], errors: [], names: ["a\tb"]),
    BaselineDecodingCase(
      "JSON: invalid UTF-8 in a key is located at the first bad byte", "json",
      [text("[{\"na"), [0xFF], text("me\": \"x\"}]")], errors: [error("file is not valid UTF-8", 5..<6, line: 1)],
      names: []),
  ]

  @Test(arguments: cases)
  func reportsAndKeepsReading(_ decodingCase: BaselineDecodingCase) {
    let table = BaselineTable.read(decodingCase.bytes, pathExtension: decodingCase.pathExtension)
    #expect(table.errors == decodingCase.errors)
    let names = table.records.compactMap { record -> String? in
      guard case .text(let name)? = record.cell(forKey: "name")?.value else { return nil }
      return name
    }
    #expect(names == decodingCase.names)
  }

  @Test func aDuplicateKeyWarnsAtTheLaterKeyAndTheLaterValueIsUsed() {
    let source = "[\n  {\"name\": \"plc-1\", \"ip\": \"10.0.0.1\",\n   \"ip\": \"10.0.0.2\", \"role\": \"plc\"}\n]"
    let table = readTable(source, pathExtension: "json")
    #expect(table.errors.isEmpty)
    #expect(
      table.duplicateKeys == [BaselineDuplicateKey(key: "ip", range: 43..<47, line: 3, earlierRange: 22..<26)])
    #expect(slice(source, 43..<47) == "\"ip\"")
    #expect(slice(source, 22..<26) == "\"ip\"")
    #expect(
      table.records.map(\.pairs) == [[KeyValue("name", "plc-1"), KeyValue("ip", "10.0.0.2"), KeyValue("role", "plc")]])
    #expect(table.records[0].cell(forKey: "ip")?.keyRange == 43..<47)
  }

  @Test func aLaterNullRemovesTheEarlierValueAndAKeyGivenThreeTimesWarnsTwice() {
    let source = #"[{"name": "a", "ip": "10.0.0.1", "ip": null, "x": 1, "x": 2, "x": 3}]"#
    let table = readTable(source, pathExtension: "json")
    #expect(table.duplicateKeys.map(\.key) == ["ip", "x", "x"])
    #expect(table.duplicateKeys.map { slice(source, $0.earlierRange) } == ["\"ip\"", "\"x\"", "\"x\""])
    #expect(table.duplicateKeys[2].earlierRange == table.duplicateKeys[1].range)
    #expect(table.records.map(\.pairs) == [[KeyValue("name", "a"), KeyValue("x", "3")]])
  }

  @Test func keysAreComparedAfterUnescaping() {
    let table = readTable(#"[{"name": "a", "n\u0061me": "b"}]"#, pathExtension: "json")
    #expect(table.duplicateKeys.map(\.key) == ["name"])
    #expect(table.records.map(\.pairs) == [[KeyValue("name", "b")]])
  }

  @Test func csvHasNoDuplicateKeys() {
    let table = readTable("name,name\na,b\n", pathExtension: "csv")
    #expect(table.duplicateKeys.isEmpty)
  }
}
