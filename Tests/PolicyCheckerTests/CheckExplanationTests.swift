import Foundation
import PolicyLanguage
import PolicyModel
import Testing

/// The examples of `conduit explain`: each one, checked as it stands, reports its own check.
@Suite("Check explanations")
struct CheckExplanationTests {
  /// The checks whose example `conduit check` cannot report, each with the reason.
  static let examplesCheckCannotReport: [CheckID: String] = [
    .expiryNotEnforced: "reported by 'compile --target iptables' (ExplainCommandTests runs the example's command)",
    .mitigationConflict: "reported when compile lowers the mitigations together (ExplainCommandTests runs it)",
    .writeWithoutFunctions: "catalogued for the Modbus function-code work; no check reports it yet",
    .advisoryMatch: "an impact finding of 'impact --advisory', which needs a CSAF advisory",
    .exposedVulnerableAsset: "an impact finding of 'impact --advisory', which needs a CSAF advisory",
  ]

  static let checkedExamples = CheckID.allCases.filter { examplesCheckCannotReport[$0] == nil }

  @Test("every check's example makes conduit check report that check", arguments: checkedExamples)
  func exampleReportsItsCheck(_ id: CheckID) throws {
    let example = id.explanation.example
    #expect(example.command.hasPrefix("conduit check "))
    var files = [CaseFile(CheckExample.policyFileName, example.policy)]
    if let baseline = example.baseline { files.append(CaseFile(baseline.fileName, baseline.text)) }
    let today = try #require(CalendarDay(example.today ?? testDay.description))
    let checked = try checkFiles(files, today: today)
    #expect(
      checked.diagnostics.contains { $0.id == id },
      "the example of \(id) reports:\n\(describe(checked.diagnostics))")
  }

  @Test("the exceptions are few and name checks whose example is run by another command")
  func exceptionsAreOtherCommands() {
    for (id, reason) in Self.examplesCheckCannotReport {
      #expect(!reason.isEmpty)
      #expect(!id.explanation.example.command.hasPrefix("conduit check ") || id == .writeWithoutFunctions)
    }
  }

  @Test("every check has every part of its explanation", arguments: CheckID.allCases)
  func everyPartIsThere(_ id: CheckID) {
    let explanation = id.explanation
    #expect(explanation.id == id)
    for part in [explanation.severity, explanation.rationale, explanation.fix, explanation.source] {
      #expect(!part.isEmpty)
      #expect(!part.hasSuffix(" "))
    }
    #expect(explanation.source.contains("62443") || explanation.source.contains("Purdue"))
    #expect(!explanation.example.policy.isEmpty)
  }

  @Test("warnings can be accepted, errors cannot", arguments: CheckID.allCases)
  func acceptance(_ id: CheckID) {
    let explanation = id.explanation
    if explanation.severity.hasPrefix("impact") {
      #expect(!explanation.acceptance.contains("accept-risk \(id.rawValue)"))
    } else if explanation.acceptable {
      #expect(explanation.acceptance.contains("accept-risk \(id.rawValue) \"reason\""))
    } else {
      #expect(explanation.severity == "error")
      #expect(explanation.acceptance == "An error cannot be accepted: fix it.")
    }
  }

  @Test(
    "severities of checks with two forms",
    arguments: [
      (CheckID.purdueSkip, true), (.broadSource, true), (.allPorts, true), (.expiredConduit, true),
      (.syntax, false), (.redundantRule, true), (.hairpinConduit, false),
    ])
  func twoForms(_ id: CheckID, acceptable: Bool) {
    #expect(id.explanation.acceptable == acceptable)
  }
}
