import FlowSpace
import PolicyLanguage

/// A compile target: how a lowered ruleset becomes the bytes of one output language.
///
/// Every target works in two steps. `names` gives the target's names to the ruleset's objects (chains, sets, the
/// table) within what the target and the kernel accept, and reports every refusal: two objects that would share a
/// name, or anything the target cannot express. `render` then writes the output and never refuses a ruleset its
/// `names` accepted. The pipeline (`ConduitKit`) calls `names`, stops on its errors, then `render`; the golden tests
/// call the same entry.
public protocol Backend: Sendable {
  /// The names the target gives to the ruleset's objects.
  associatedtype Names: Sendable

  /// The target's name on the command line (`compile --target NAME`).
  var target: String { get }

  /// What the target writes and how it is used.
  var capabilities: BackendCapabilities { get }

  /// The target's names for `ruleset`; every refusal is reported to `diagnostics` as an error at its policy line.
  func names(for ruleset: Ruleset, diagnostics: inout DiagnosticEngine) -> Names

  /// The output, in parts written one after the other. Throws only when the output built is not one the target
  /// would load, which no ruleset accepted by `names` should cause.
  func render(_ ruleset: Ruleset, names: Names, context: RenderContext) throws(BackendFailure) -> [[UInt8]]
}

extension Backend {
  /// `make` with the target's names for `ruleset`, unless `names` reported an error (nil then); what `names`
  /// reported is added to `diagnostics`.
  public func withNames<Output>(
    for ruleset: Ruleset, diagnostics: inout DiagnosticEngine, _ make: (Names) throws(BackendFailure) -> Output
  ) throws(BackendFailure) -> Output? {
    var found = DiagnosticEngine()
    let names = names(for: ruleset, diagnostics: &found)
    diagnostics.append(contentsOf: found)
    guard !found.hasErrors else { return nil }
    return try make(names)
  }

  /// `names`, then `render` unless `names` reported an error.
  public func compile(_ ruleset: Ruleset, context: RenderContext, diagnostics: inout DiagnosticEngine)
    throws(BackendFailure) -> [[UInt8]]?
  {
    try withNames(for: ruleset, diagnostics: &diagnostics) { names throws(BackendFailure) in
      try render(ruleset, names: names, context: context)
    }
  }
}

/// What a target writes and how it is used.
public struct BackendCapabilities: Sendable, Equatable {
  /// The address families whose flows the output holds (the others are left out, not refused).
  public var families: Set<AddressFamily>
  /// Whether the output is binary (never written to a terminal).
  public var isBinary: Bool
  /// Whether `conduit apply` loads the output itself (an nft artifact).
  public var isApplicable: Bool

  /// Creates capabilities.
  public init(families: Set<AddressFamily>, isBinary: Bool = false, isApplicable: Bool = false) {
    self.families = families
    self.isBinary = isBinary
    self.isApplicable = isApplicable
  }
}

/// What a target needs besides the ruleset: the files the policy was read from (an artifact's policy digest covers
/// them), the effective day and the compiler's name.
public struct RenderContext: Sendable {
  /// A file the policy was read from.
  public struct Source: Sendable {
    /// Its path relative to the main policy's directory.
    public var path: String
    /// Its bytes as read.
    public var bytes: [UInt8]

    /// Creates a source.
    public init(path: String, bytes: [UInt8]) {
      self.path = path
      self.bytes = bytes
    }
  }

  /// The main policy, its includes and its baseline, in that order.
  public var sources: [Source]
  /// The day the ruleset is compiled for (`YYYY-MM-DD`).
  public var effectiveDate: String
  /// The compiler's name and version, e.g. `conduit 0.1.0`.
  public var compiler: String

  /// Creates a context.
  public init(sources: [Source] = [], effectiveDate: String, compiler: String) {
    self.sources = sources
    self.effectiveDate = effectiveDate
    self.compiler = compiler
  }
}

/// The output a target built is not one it would load (an internal error: `names` accepted the ruleset).
public struct BackendFailure: Error, CustomStringConvertible, Sendable {
  /// Why.
  public var description: String

  /// Creates a failure.
  public init(_ description: String) {
    self.description = description
  }
}

/// `compile --target flows`: the allowed flows as JSON (`FlowsJSONRenderer`).
public struct FlowsBackend: Backend {
  /// Creates the backend.
  public init() {}

  public var target: String { "flows" }

  public var capabilities: BackendCapabilities { BackendCapabilities(families: [.ipv4, .ipv6]) }

  public func names(for ruleset: Ruleset, diagnostics: inout DiagnosticEngine) {}

  public func render(_ ruleset: Ruleset, names: Void, context: RenderContext) -> [[UInt8]] {
    [Array(FlowsJSONRenderer().render(ruleset).utf8)]
  }
}
