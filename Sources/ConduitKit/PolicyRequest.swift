import FirewallIR
import PolicyModel

/// What every command that reads a policy is given.
public struct PolicyRequest: Sendable {
  /// The main policy file.
  public var policyPath: String
  /// The asset baseline overriding the policy's `baseline` statement (`--baseline`).
  public var baselinePath: String?
  /// The day date-dependent checks use (`--today`, else today in UTC).
  public var today: CalendarDay
  /// Policy text read as if it stood at the end of the main file (nil: none).
  public var appendedSource: String?

  /// Creates a request.
  public init(policyPath: String, baselinePath: String? = nil, today: CalendarDay = .currentDay) {
    self.policyPath = policyPath
    self.baselinePath = baselinePath
    self.today = today
  }

  var resolveOptions: ResolveOptions { ResolveOptions(baselinePath: baselinePath) }
}

/// What `compile` and `apply` of a policy are given.
public struct CompileRequest: Sendable {
  /// The policy.
  public var policy: PolicyRequest
  /// The gateway to compile for (required when the policy has several).
  public var gateway: String?
  /// The mitigations compiled in.
  public var mitigations: [String]
  /// Whether warnings refuse the compile too.
  public var strict: Bool

  /// Creates a request.
  public init(policy: PolicyRequest, gateway: String? = nil, mitigations: [String] = [], strict: Bool = false) {
    self.policy = policy
    self.gateway = gateway
    self.mitigations = mitigations
    self.strict = strict
  }
}

/// A file a command read, which its output must never replace.
public struct InputFile: Sendable, Equatable {
  /// The path it was read from.
  public var path: String
  /// What it is, e.g. "the policy".
  public var role: String

  /// Creates an input file.
  public init(path: String, role: String) {
    self.path = path
    self.role = role
  }
}

extension Policy {
  /// The files the policy was read from (the main file, its includes, the baseline).
  public var inputFiles: [InputFile] {
    files.enumerated().map { InputFile(path: $1.file.path, role: $0 == 0 ? "the policy" : "the included file") }
      + (baselineFile.map { [InputFile(path: $0.path, role: "the baseline")] } ?? [])
  }
}

/// conduit's version, as `--version`, artifacts and SARIF give it.
public enum ConduitVersion {
  /// The version.
  public static let current = "0.1.0"
  /// The compiler's name as artifacts record it.
  public static var compiler: String { "conduit \(current)" }
}
