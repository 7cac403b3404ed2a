import Foundation
import NftablesBackend
import PolicyModel
import Testing

@testable import ConduitKit

/// The state directory's files without a kernel: a file written in parts, a prepared file that is put in place or
/// discarded, and the confirmed artifact read by the digest its record gives, or validated in full without one.
@Suite struct StateDirectoryTests {
  static func directory() throws -> StateDirectory {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-state-\(UUID().uuidString)")
    return try StateDirectory.resolve(root: root.path, networkNamespace: "test")
  }

  /// The cell's artifact, compiled as of `day`.
  static func artifact(on day: String = "2026-11-28") throws -> NftablesArtifact {
    let policy = PolicyRequest(policyPath: PipelineTests.cell.policyPath, today: CalendarDay(day)!)
    let built = try GatewayApply.artifact(
      at: policy.policyPath, compiling: CompileRequest(policy: policy, gateway: "gw-c3"))
    return try NftablesArtifact(decoding: built.encoded())
  }

  static func files(_ state: StateDirectory) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: state.path).sorted()
  }

  static func record(_ artifact: NftablesArtifact, sha256: String, in state: StateDirectory) throws {
    let header = artifact.header
    let record = ConfirmedApply(
      table: header.table, site: header.site, gateway: header.gateway, compiler: header.compiler,
      compileDigest: header.compileDigest, policyDigest: header.policyDigest, artifactSHA256: sha256,
      mitigations: header.mitigations, effectiveDate: header.effectiveDate, sources: header.sources, appliedAt: 0,
      confirmedAt: 0)
    try state.write(StateDirectory.File.confirmedRecord, SafeApply.encodeJSON(record))
  }

  @Test func aPreparedFileTakesItsNameOnlyWhenCommittedAndLeavesNothingWhenDiscarded() throws {
    let state = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: state.path) }
    try state.write("a.bin", parts: [[1, 2], [], [3]])
    #expect(try state.read("a.bin") == [1, 2, 3])
    let prepared = try state.prepare("a.bin", parts: [[4], [5, 6]])
    #expect(try state.read("a.bin") == [1, 2, 3])
    try state.commit(prepared)
    #expect(try state.read("a.bin") == [4, 5, 6])
    state.discard(try state.prepare("a.bin", parts: [[7]]))
    #expect(try state.read("a.bin") == [4, 5, 6])
    #expect(try Self.files(state) == ["a.bin"])
  }

  @Test func theConfirmedArtifactIsTheOneItsRecordNamesAndAReadAheadOfAnotherIsNotTaken() throws {
    let state = try Self.directory()
    defer { try? FileManager.default.removeItem(atPath: state.path) }
    let confirmed = try Self.artifact()
    let file = confirmed.encodedFile()
    try state.write(StateDirectory.File.confirmedArtifact, parts: file.parts)
    // Without a record, the artifact is validated in full.
    #expect(SafeApply.confirmedArtifact(state)?.readFileSHA256 == file.sha256)
    try Self.record(confirmed, sha256: file.sha256, in: state)
    let read = try #require(SafeApply.confirmedArtifact(state))
    #expect(read.readFileSHA256 == file.sha256)
    #expect(read.batch.bytes == confirmed.batch.bytes)
    #expect(read.layout == confirmed.layout)
    let other = try Self.artifact(on: "2026-11-29")
    #expect(other.readFileSHA256 != file.sha256)
    #expect(SafeApply.confirmedArtifact(state, readAhead: other)?.readFileSHA256 == file.sha256)
    // A read-ahead of the file the record names is taken as it is; one of another file never is.
    try state.remove(StateDirectory.File.confirmedArtifact)
    #expect(SafeApply.confirmedArtifact(state, readAhead: confirmed)?.readFileSHA256 == file.sha256)
    #expect(SafeApply.confirmedArtifact(state, readAhead: other) == nil)
    // With a record of another file, the artifact is validated in full; a damaged one is no artifact.
    try state.write(StateDirectory.File.confirmedArtifact, parts: file.parts)
    try Self.record(confirmed, sha256: String(repeating: "0", count: 64), in: state)
    #expect(SafeApply.confirmedArtifact(state)?.readFileSHA256 == file.sha256)
    try state.write(StateDirectory.File.confirmedArtifact, [0, 1, 2])
    #expect(SafeApply.confirmedArtifact(state) == nil)
  }
}
