import Foundation

/// A policy, and the baseline it names when the check needs one, that makes a check report its finding.
public struct CheckExample: Sendable, Hashable {
  /// The name the policy is saved under; `policy` may refer to it (an include of itself).
  public static let policyFileName = "site.conduit"

  /// The policy text (complete: it is checked as it stands).
  public var policy: String
  /// The baseline's file name (as the policy's `baseline` statement names it) and text; nil when none is needed.
  public var baseline: (fileName: String, text: String)?
  /// The command that reports the finding, e.g. `conduit check site.conduit`.
  public var command: String

  /// Creates an example checked with `conduit check`, on a given day when `today` is set.
  public init(policy: String, baseline: (fileName: String, text: String)? = nil, today: String? = nil) {
    self.policy = policy
    self.baseline = baseline
    self.command = "conduit check \(Self.policyFileName)" + (today.map { " --today \($0)" } ?? "")
  }

  /// Creates an example reported by another command than `conduit check`.
  public init(policy: String, baseline: (fileName: String, text: String)? = nil, command: String) {
    self.policy = policy
    self.baseline = baseline
    self.command = command
  }

  /// The `--today` day of `command`, if it names one.
  public var today: String? {
    guard let range = command.range(of: "--today ") else { return nil }
    return String(command[range.upperBound...].prefix(10))
  }

  public static func == (lhs: CheckExample, rhs: CheckExample) -> Bool {
    lhs.policy == rhs.policy && lhs.baseline?.fileName == rhs.baseline?.fileName
      && lhs.baseline?.text == rhs.baseline?.text && lhs.command == rhs.command
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(policy)
    hasher.combine(baseline?.fileName)
    hasher.combine(baseline?.text)
    hasher.combine(command)
  }
}

/// What `conduit explain CHECK-ID` prints and SARIF rules carry: why the check exists, an example that makes it
/// fire, how to fix the finding or accept it, and the IEC 62443 or Purdue requirement it enforces.
public struct CheckExplanation: Sendable, Hashable {
  /// The check.
  public var id: CheckID
  /// The severity its findings have, e.g. "warning; error into a zone of SL-T 3 or 4".
  public var severity: String
  /// Why the finding matters.
  public var rationale: String
  /// A policy that makes the check report its finding.
  public var example: CheckExample
  /// How to remove the finding.
  public var fix: String
  /// The requirement the check enforces.
  public var source: String

  /// Whether `accept-risk` can acknowledge the finding (warnings only; errors must be fixed).
  public var acceptable: Bool { severity.hasPrefix("warning") || severity.contains("; warning") }

  /// The sentence that says whether and how the finding can be accepted instead of fixed.
  public var acceptance: String {
    if severity.hasPrefix("impact") { return "Impact findings are not policy diagnostics: accept-risk does not apply." }
    guard acceptable else { return "An error cannot be accepted: fix it." }
    let limit = severity.contains("error") ? " (the warning form only; the error form must be fixed)" : ""
    return """
      Or accept the risk\(limit): `accept-risk \(id.rawValue) "reason"` in the block that causes the finding (at \
      top level for a site-wide finding); it is then printed as `accepted:` and listed in reports.
      """
  }
}

extension CheckExplanation {
  /// The sections of the explanation as plain text: Why, Example, Fix, Source (`conduit explain`, SARIF `help`).
  public var sectionsText: String {
    var out = "Why\n" + indented(rationale) + "\nExample\n" + indented("$ " + example.command)
    out += indented(CheckExample.policyFileName + ":") + indented(example.policy, by: 4)
    if let baseline = example.baseline {
      out += indented(baseline.fileName + ":") + indented(baseline.text, by: 4)
    }
    out += "\nFix\n" + indented(fix) + indented(acceptance) + "\nSource\n" + indented(source)
    return out
  }

  /// The sections as Markdown, the example in fenced blocks (SARIF `help.markdown`).
  public var sectionsMarkdown: String {
    var out = "**Why.** \(rationale)\n\n**Example** (`\(example.command)`):\n\n"
    out += "`\(CheckExample.policyFileName)`:\n\n```\n\(example.policy.withFinalNewline)```\n\n"
    if let baseline = example.baseline {
      out += "`\(baseline.fileName)`:\n\n```\n\(baseline.text.withFinalNewline)```\n\n"
    }
    out += "**Fix.** \(fix) \(acceptance)\n\n**Source.** \(source)\n"
    return out
  }

  private func indented(_ text: String, by width: Int = 2) -> String {
    let pad = String(repeating: " ", count: width)
    return text.withFinalNewline.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
      .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n") + "\n"
  }
}

extension String {
  fileprivate var withFinalNewline: String { hasSuffix("\n") ? self : self + "\n" }
}

extension CheckID {
  /// The explanation of this check.
  public var explanation: CheckExplanation {
    let (severity, rationale, example, fix, source) = explanationParts
    return CheckExplanation(
      id: self, severity: severity, rationale: rationale, example: example, fix: fix, source: source)
  }
}

extension CheckExplanation {
  struct JSONForm: Encodable {
    struct Example: Encodable {
      var command: String
      var policyFile: String
      var policy: String
      var baselineFile: String?
      var baseline: String?
    }
    var id: String
    var severity: String
    var summary: String
    var rationale: String
    var example: Example
    var fix: String
    var acceptance: String
    var source: String
  }

  /// The explanation as a JSON object (pretty-printed, sorted keys), ending with a newline.
  public var jsonText: String {
    let form = JSONForm(
      id: id.rawValue, severity: severity, summary: id.summary, rationale: rationale,
      example: JSONForm.Example(
        command: example.command, policyFile: CheckExample.policyFileName, policy: example.policy,
        baselineFile: example.baseline?.fileName, baseline: example.baseline?.text),
      fix: fix, acceptance: acceptance, source: source)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = (try? encoder.encode(form)) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  /// The explanation as `conduit explain` prints it: the id, severity and summary, then the sections.
  public var text: String {
    "\(id.rawValue) (\(severity)): \(id.summary)\n\n" + sectionsText
  }
}
