import PolicyLanguage

/// Why a command's pipeline stopped without its result. The findings that explain it, if any, come with it; the
/// command line prints them, then the message, and exits with the status CLI.md gives the reason.
public struct PipelineStop: Error, CustomStringConvertible, Sendable {
  /// What kind of stop.
  public enum Reason: Sendable, Equatable {
    /// The policy's findings refuse the command (exit 1).
    case refused
    /// An input could not be read, is damaged, or a policy to compare has errors (exit 2).
    case unusableInput
    /// The command asks for something the policy does not have, e.g. an unknown gateway (exit 64).
    case usage
    /// Something conduit relies on failed: the kernel, a permission, a namespace, a tool (exit 2).
    case failed
    /// The kernel refused the transaction; nothing changed (exit 1).
    case rejected
  }

  /// What kind of stop.
  public var reason: Reason
  /// The findings to show before the message (may be empty).
  public var diagnostics: [Diagnostic]
  /// One line: an error (`conduit: error: …`) when there are no findings, else the conclusion they lead to
  /// (`conduit: …`); nil when the findings say it all.
  public var message: String?

  /// Creates a stop.
  public init(_ reason: Reason, _ message: String?, diagnostics: [Diagnostic] = []) {
    self.reason = reason
    self.message = message
    self.diagnostics = diagnostics
  }

  public var description: String { message ?? "stopped with \(diagnostics.count) findings" }
}
