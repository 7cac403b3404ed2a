import Foundation
import Testing

@testable import PolicyLanguage
@testable import PolicyModel

/// What `FileReader` makes of each kind of file, and how the loader and resolver report files a policy names.
@Suite struct FileReadingTests {
  @Test func aRegularFileIsReadByteForByte() throws {
    let directory = try PolicyDirectory([:])
    let bytes: [UInt8] = Array("site a\n".utf8) + [0xFF, 0x00, 0xC3] + Array(repeating: 0x41, count: 200_000)
    try Data(bytes).write(to: directory.url.appendingPathComponent("site.conduit"))
    #expect(try FileReader.readBytes(directory.path("site.conduit")).get() == bytes)
  }

  @Test func whatIsNotARegularFileIsRefusedForWhatItIs() throws {
    let directory = try PolicyDirectory([:])
    let fifo = directory.path("fifo")
    try #require(mkfifo(fifo, 0o600) == 0)
    let cases: [(path: String, reason: String)] = [
      (directory.path("absent.conduit"), "no such file"),
      (directory.url.path, "it is a directory, not a regular file"),
      (fifo, "it is a FIFO, not a regular file"),
      ("/dev/zero", "it is a device, not a regular file"),
      (directory.path("absent/site.conduit"), "no such file"),
    ]
    for (path, reason) in cases {
      switch FileReader.readBytes(path) {
      case .success: Issue.record("'\(path)' was read")
      case .failure(let error):
        #expect(error.reason == reason, "\(path)")
        #expect(error.description == "cannot read '\(path)': \(reason)")
      }
    }
  }

  @Test func aPathThroughAFileIsNotADirectory() throws {
    let directory = try PolicyDirectory(["site.conduit": "site a\n"])
    guard case .failure(let error) = FileReader.readBytes(directory.path("site.conduit") + "/more.conduit") else {
      Issue.record("a path through a file was read")
      return
    }
    #expect(error.reason == "a part of the path is not a directory")
  }

  @Test func includesAndTheBaselineThatCannotBeReadAreLocatedAtTheirStatement() throws {
    let directory = try PolicyDirectory([
      "site.conduit": "include \"fifo.conduit\"\ninclude \"absent.conduit\"\ninclude \"dir\"\nbaseline \"fifo.csv\"\n"
    ])
    try #require(mkfifo(directory.path("fifo.conduit"), 0o600) == 0)
    try #require(mkfifo(directory.path("fifo.csv"), 0o600) == 0)
    try FileManager.default.createDirectory(
      at: directory.url.appendingPathComponent("dir"), withIntermediateDirectories: false)
    let (_, diagnostics) = try directory.resolve()
    let found = diagnostics.map { ($0.id, $0.message, $0.range?.startLocation) }
    #expect(found.map(\.0) == [.missingFile, .missingFile, .missingFile, .missingFile])
    #expect(
      found.map(\.1) == [
        "cannot read included file 'fifo.conduit': it is a FIFO, not a regular file",
        "cannot read included file 'absent.conduit': no such file",
        "cannot read included file 'dir': it is a directory, not a regular file",
        "cannot read baseline 'fifo.csv': it is a FIFO, not a regular file",
      ])
    #expect(
      found.map(\.2) == [
        SourceLocation(line: 1, column: 9), SourceLocation(line: 2, column: 9), SourceLocation(line: 3, column: 9),
        SourceLocation(line: 4, column: 10),
      ])
  }

  @Test func aBaselineOverrideThatIsADeviceThrows() throws {
    let directory = try PolicyDirectory(["site.conduit": "site a\n"])
    #expect(throws: InputFileError.self) { try directory.resolve(baseline: "/dev/zero") }
  }

  @Test func baselineBytesAreKeptSoTheFirstBadByteIsLocated() throws {
    let directory = try PolicyDirectory(["site.conduit": operationsAndControlZones + "baseline \"assets.csv\"\n"])
    let csv: [UInt8] = Array("name,ip\nplc-\u{e4},10.40.0.5\nplc-".utf8) + [0xE4] + Array(",10.40.0.6\n".utf8)
    try Data(csv).write(to: directory.url.appendingPathComponent("assets.csv"))
    let (_, diagnostics) = try directory.resolve()
    let encoding = diagnostics.filter { $0.id == .baselineRow }
    #expect(encoding.map(\.message) == ["file is not valid UTF-8"])
    #expect(encoding.first?.range?.startLocation == SourceLocation(line: 3, column: 5))
    #expect(encoding.first?.range?.start == 29)
  }

  @Test func aDuplicateJSONKeyIsAWarningWithANoteAtTheFirst() throws {
    let directory = try PolicyDirectory([
      "site.conduit": operationsAndControlZones + "baseline \"assets.json\"\n",
      "assets.json": "[\n  {\"name\": \"plc-1\", \"ip\": \"10.40.0.9\",\n   \"ip\": \"10.40.0.5\"}\n]\n",
    ])
    let (policy, diagnostics) = try directory.resolve()
    let duplicates = diagnostics.filter { $0.id == .duplicateKey }
    #expect(duplicates.map(\.severity) == [.warning])
    #expect(duplicates.first?.range?.startLocation == SourceLocation(line: 3, column: 4))
    #expect(duplicates.first?.notes.first?.range?.startLocation == SourceLocation(line: 2, column: 21))
    #expect(policy.assets.map { $0.addresses.map(\.description) } == [["10.40.0.5"]])
  }
}
