import BaselineFormat
import Testing

@Suite("CSV baselines")
struct CSVReadingTests {
  @Test func semicolonDelimitedWithQuotedDelimiterEscapedQuoteAndLineBreak() throws {
    let source = "name;ip;note\nplc-1;10.0.0.1;\"a;b \"\"x\"\"\nsecond line\"\nplc-2;10.0.0.2;plain\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.format == .csv(delimiter: UInt8(ascii: ";")))
    #expect(
      table.errors == [BaselineReadError(message: "control character U+000A in a field", range: 38..<39, line: 2)])
    #expect(table.header.map(\.key) == ["name", "ip", "note"])
    #expect(table.header.map(\.keyRange) == [0..<4, 5..<7, 8..<12])
    #expect(table.header[2].value == .text("note"))
    try #require(table.records.count == 2)

    let first = table.records[0]
    #expect(first.line == 2)
    #expect(first.range == 13..<51)
    #expect(
      first.pairs == [
        KeyValue("name", "plc-1"), KeyValue("ip", "10.0.0.1"), KeyValue("note", "a;b \"x\"\nsecond line"),
      ])
    #expect(first.cells[2].valueRange == 28..<51)
    #expect(slice(source, first.cells[2].valueRange) == "\"a;b \"\"x\"\"\nsecond line\"")
    #expect(first.cells[2].keyRange == 8..<12)

    let second = table.records[1]
    #expect(second.line == 4)
    #expect(second.range == 52..<72)
    #expect(slice(source, second.range) == "plc-2;10.0.0.2;plain")
    #expect(second.pairs == [KeyValue("name", "plc-2"), KeyValue("ip", "10.0.0.2"), KeyValue("note", "plain")])
    #expect(second.cells.map(\.valueRange) == [52..<57, 58..<66, 67..<72])
  }

  @Test func byteOrderMarkCRLFAndWhitespaceAroundFields() throws {
    let source = "\u{FEFF}mac,ip\r\nAA,1.1.1.1\r\nBB , 2.2.2.2 \r\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.errors.isEmpty)
    #expect(table.header.map(\.key) == ["mac", "ip"])
    #expect(table.header.map(\.keyRange) == [3..<6, 7..<9])
    try #require(table.records.count == 2)
    #expect(table.records.map(\.line) == [2, 3])
    #expect(table.records.map(\.range) == [11..<21, 23..<36])
    #expect(table.records[1].pairs == [KeyValue("mac", "BB"), KeyValue("ip", "2.2.2.2")])
    #expect(table.records[1].cells.map(\.valueRange) == [23..<25, 28..<35])
  }

  @Test func blankLinesAreSkippedAndLinesStillCounted() throws {
    let source = "\n  \nid,name\n\n1,a\n \t \r\n2,b"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.errors.isEmpty)
    #expect(table.header.map(\.key) == ["id", "name"])
    #expect(table.header[0].keyRange == 4..<6)
    #expect(table.records.map(\.line) == [5, 7])
    #expect(
      table.records.map(\.pairs) == [
        [KeyValue("id", "1"), KeyValue("name", "a")],
        [KeyValue("id", "2"), KeyValue("name", "b")],
      ])
    #expect(table.records[1].range == 22..<25)
  }

  @Test func rowWithMoreFieldsThanTheHeader() throws {
    let source = "a,b,c\n1,2,3,4,5\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(
      table.errors == [BaselineReadError(message: "row has 5 fields but the header has 3", range: 12..<15, line: 2)])
    #expect(slice(source, table.errors[0].range) == "4,5")
    try #require(table.records.count == 1)
    #expect(table.records[0].pairs == [KeyValue("a", "1"), KeyValue("b", "2"), KeyValue("c", "3")])
    #expect(table.records[0].range == 6..<15)
  }

  @Test func rowWithFewerFieldsThanTheHeaderIsPadded() throws {
    let source = "a,b,c\n1,2\nx\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(
      table.errors == [
        BaselineReadError(message: "row has 2 fields but the header has 3", range: 6..<9, line: 2),
        BaselineReadError(message: "row has 1 field but the header has 3", range: 10..<11, line: 3),
      ])
    try #require(table.records.count == 2)
    #expect(table.records[0].pairs == [KeyValue("a", "1"), KeyValue("b", "2"), KeyValue("c", "")])
    #expect(table.records[0].cells[2].valueRange == 9..<9)
    #expect(table.records[0].cells[2].keyRange == 4..<5)
    #expect(table.records[1].pairs == [KeyValue("a", "x"), KeyValue("b", ""), KeyValue("c", "")])
  }

  @Test func emptyCellsAreKept() throws {
    let source = "a,b,c\n,,\n1, ,\"\"\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.errors.isEmpty)
    #expect(table.records.map(\.line) == [2, 3])
    #expect(table.records[0].pairs == [KeyValue("a", ""), KeyValue("b", ""), KeyValue("c", "")])
    #expect(table.records[0].cells.map(\.valueRange) == [6..<6, 7..<7, 8..<8])
    #expect(table.records[1].pairs == [KeyValue("a", "1"), KeyValue("b", ""), KeyValue("c", "")])
    #expect(table.records[1].cells.map(\.valueRange) == [9..<10, 12..<12, 13..<15])
  }

  @Test func unterminatedQuoteIsAnErrorAtTheOpeningQuote() throws {
    let source = "a,b\n1,\"open\n2,3\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(
      table.errors == [
        BaselineReadError(message: "control character U+000A in a field", range: 11..<12, line: 2),
        BaselineReadError(message: "unterminated quoted field", range: 6..<7, line: 2),
      ])
    try #require(table.records.count == 1)
    #expect(table.records[0].pairs == [KeyValue("a", "1"), KeyValue("b", "open\n2,3\n")])
    #expect(table.records[0].range == 4..<16)
    #expect(table.records[0].cells[1].valueRange == 6..<16)
  }

  @Test func textAfterClosingQuoteIsAnError() throws {
    let source = "a,b\n\"ab\"c ,d\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.errors == [BaselineReadError(message: "unexpected text after closing quote", range: 8..<9, line: 2)])
    #expect(table.records.map(\.pairs) == [[KeyValue("a", "ab"), KeyValue("b", "d")]])
    #expect(table.records[0].cells[0].valueRange == 4..<8)
  }

  @Test func spacesAroundAQuotedFieldAreAllowed() throws {
    let source = "a,b\n  \"x, y\"  ,z\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.errors.isEmpty)
    #expect(table.records[0].pairs == [KeyValue("a", "x, y"), KeyValue("b", "z")])
    #expect(table.records[0].cells[0].valueRange == 6..<12)
    #expect(table.records[0].range == 4..<16)
  }

  @Test func headerNamesAreTrimmedAndEmptyOrDuplicateNamesKept() throws {
    let source = " name ,\" ip \",,name\n1,2,3,4\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(table.header.map(\.key) == ["name", "ip", "", "name"])
    #expect(table.header.map(\.keyRange) == [1..<5, 7..<13, 14..<14, 15..<19])
    #expect(table.errors == [BaselineReadError(message: "empty column name in header", range: 14..<14, line: 1)])
    #expect(
      table.records[0].pairs == [
        KeyValue("name", "1"), KeyValue("ip", "2"), KeyValue("", "3"), KeyValue("name", "4"),
      ])
    #expect(table.records[0].cell(forKey: "name")?.value == .text("1"))
  }

  @Test func headerOnlyHasNoRecords() {
    let table = readTable("a,b\r\n\r\n", pathExtension: "csv")
    #expect(table.header.map(\.key) == ["a", "b"])
    #expect(table.records.isEmpty)
    #expect(table.errors.isEmpty)
  }

  @Test(arguments: ["", "\u{FEFF}", " \n\t\r\n  "])
  func fileWithoutHeaderLine(source: String) {
    let table = readTable(source, pathExtension: "csv")
    let end = source.utf8.count
    let lineCount = source.utf8.filter { $0 == UInt8(ascii: "\n") }.count + 1
    #expect(table.header.isEmpty)
    #expect(table.records.isEmpty)
    #expect(table.errors == [BaselineReadError(message: "file has no header line", range: end..<end, line: lineCount)])
  }

  @Test(arguments: [
    ("a;b;c\n1;2;3\n", UInt8(ascii: ";")),
    ("a,b,c\n1;2;3\n", UInt8(ascii: ",")),
    ("a,b;c\n", UInt8(ascii: ",")),
    ("\"x;y;z\",b\n", UInt8(ascii: ",")),
    ("\"x,y,z\";b;c\n", UInt8(ascii: ";")),
    ("\n\nname;ip,port;x\n", UInt8(ascii: ";")),
    ("single\n", UInt8(ascii: ",")),
  ])
  func delimiterIsDetectedFromTheHeaderLine(source: String, delimiter: UInt8) {
    #expect(readTable(source, pathExtension: "csv").format == .csv(delimiter: delimiter))
  }

  @Test func givenDelimiterIsUsedAsIs() {
    let source = "a\tb;c\n1\t2;3\n"
    let table = BaselineTable.read(Array(source.utf8), format: .csv(delimiter: UInt8(ascii: "\t")))
    #expect(table.format == .csv(delimiter: UInt8(ascii: "\t")))
    #expect(table.header.map(\.key) == ["a", "b;c"])
    #expect(table.records[0].pairs == [KeyValue("a", "1"), KeyValue("b;c", "2;3")])
  }

  @Test func invalidUTF8IsReportedOnceAndReplaced() throws {
    var bytes = Array("name,place\n".utf8)
    bytes += Array("Sch".utf8) + [0xFC] + Array("tz,\"K".utf8) + [0xF6] + Array("ln\"\n".utf8)
    let table = BaselineTable.read(bytes, pathExtension: "csv")

    #expect(table.errors == [BaselineReadError(message: "file is not valid UTF-8", range: 14..<15, line: 2)])
    #expect(table.records[0].pairs == [KeyValue("name", "Sch\u{FFFD}tz"), KeyValue("place", "K\u{FFFD}ln")])
  }

  @Test func quoteInsideAnUnquotedFieldIsText() {
    let table = readTable("size,name\n12\" panel,hmi\n", pathExtension: "csv")
    #expect(table.errors.isEmpty)
    #expect(table.records[0].pairs == [KeyValue("size", "12\" panel"), KeyValue("name", "hmi")])
  }

  @Test func lineBreakInsideQuotedHeaderAndRowsKeepsLineNumbers() throws {
    let source = "\"device\nname\",ip\r\n\"a\r\nb\",1\r\nc,2\r\n"
    let table = readTable(source, pathExtension: "csv")

    #expect(
      table.errors == [
        BaselineReadError(message: "control character U+000A in a field", range: 7..<8, line: 1),
        BaselineReadError(message: "control character U+000D in a field", range: 20..<21, line: 3),
      ])
    #expect(table.header.map(\.key) == ["device\nname", "ip"])
    #expect(table.records.map(\.line) == [3, 5])
    #expect(table.records[0].pairs == [KeyValue("device\nname", "a\r\nb"), KeyValue("ip", "1")])
    #expect(slice(source, table.records[1].range) == "c,2")
  }
}
