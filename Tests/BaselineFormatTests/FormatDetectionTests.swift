import BaselineFormat
import Testing

@Suite("Format detection")
struct FormatDetectionTests {
  @Test(arguments: [
    ("a,b\n1,2\n", "csv", BaselineFileFormat.csv(delimiter: UInt8(ascii: ","))),
    ("a;b\n1;2\n", "CSV", .csv(delimiter: UInt8(ascii: ";"))),
    ("[]", "csv", .csv(delimiter: UInt8(ascii: ","))),
    ("a,b\n", "json", .json),
    ("[{\"a\": 1}]", "Json", .json),
    ("[{\"a\": 1}]", ".json", .json),
    (" \r\n\t[{\"a\": 1}]", "txt", .json),
    ("\u{FEFF}[]", "", .json),
    ("a;b;c\n", "export", .csv(delimiter: UInt8(ascii: ";"))),
    ("{\"a\": 1}", "", .csv(delimiter: UInt8(ascii: ","))),
    ("", "", .csv(delimiter: UInt8(ascii: ","))),
  ])
  func pathExtensionPicksTheFormatElseTheFirstByteDoes(
    source: String, pathExtension: String, format: BaselineFileFormat
  ) {
    #expect(readTable(source, pathExtension: pathExtension).format == format)
  }

  @Test func errorDescriptionNamesTheLine() {
    let error = BaselineReadError(message: "unterminated string", range: 3..<9, line: 7)
    #expect(error.description == "line 7: unterminated string")
  }
}
