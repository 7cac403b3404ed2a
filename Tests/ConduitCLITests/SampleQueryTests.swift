import Foundation
import Testing

/// `conduit query` on every sample site: the questions a reviewer asks before a change window, with their answers
/// kept in `Golden/query/`.
@Suite struct SampleQueryTests {
  struct Site: CustomTestStringConvertible, Sendable {
    var directory: String
    var policy: String
    /// Arguments after the policy, and the exit status the answer must have.
    var questions: [(arguments: [String], status: Int32)]

    var testDescription: String { policy }
  }

  static let sites = [
    Site(
      directory: "water-treatment", policy: "millbrook.conduit",
      questions: [
        (["--from", "jump-*", "--to", "role ews"], 0),
        (["--from", "corp-bi-01", "--to", "plc-filt-01", "--service", "enip"], 1),
        (["--from", "ews-01", "--to", "plc-pump-*", "--service", "s7comm"], 1),
        (["--from", "role scada", "--to", "plc-chem-*", "--service", "opcua, modbus"], 1),
        (["--from", "scada-srv-a", "--to", "plc-chem-*", "--mitigation", "chem-lockdown"], 0),
      ]),
    Site(
      directory: "substation", policy: "eastmoor.conduit",
      questions: [
        (["--from", "tso-fep-a", "--to", "rtac-*", "--service", "iec104"], 0),
        (["--from", "rem-jump-01", "--to", "role protection", "--service", "mms"], 1),
        (["--from", "dms-fep-01", "--to", "rtac-*", "--mitigation", "wan-lockdown"], 1),
      ]),
    Site(
      directory: "manufacturing-cell", policy: "cell3.conduit",
      questions: [
        (["--from", "hmi-c3-01", "--to", "plc-c3-01", "--service", "enip"], 0),
        (["--from", "mes-01", "--to", "zone safety"], 1),
        (["--from", "ews-c3-01", "--to", "plc-c3-01", "--mitigation", "ews-quarantine"], 1),
      ]),
  ]

  @Test(arguments: sites)
  func answersMatchTheirGoldenFile(_ site: Site) throws {
    let directory = GoldenFile.packageRoot.appendingPathComponent("Policies/\(site.directory)").path
    var transcript = ""
    for (arguments, status) in site.questions {
      let command = ["query", site.policy] + arguments + ["--today", "2026-11-28"]
      let result = try ConduitRunner.run(command, in: directory)
      #expect(result.status == status, "\(arguments): \(result.standardError)")
      transcript +=
        "$ conduit "
        + command.map { $0.contains(" ") || $0.contains("*") ? "'\($0)'" : $0 }.joined(
          separator: " ") + "\n" + result.standardOutput + "exit \(result.status)\n\n"
    }
    try GoldenFile.compare(
      transcript, golden: "query/\(site.policy.replacingOccurrences(of: ".conduit", with: ".txt"))")
  }
}
