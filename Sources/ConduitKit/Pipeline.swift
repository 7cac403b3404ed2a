import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// A policy loaded and resolved, not yet checked.
public struct ResolvedPolicy: Sendable {
  /// The resolved policy.
  public var policy: Policy
  /// What loading and resolving found.
  public var diagnostics: [Diagnostic]

  /// Whether loading or resolving found an error (the policy is then incomplete and is never lowered).
  public var hasErrors: Bool { diagnostics.hasErrors }
}

/// A policy resolved and checked.
public struct CheckedPolicy: Sendable {
  /// The resolved policy.
  public var policy: Policy
  /// Every finding of every stage, sorted by place.
  public var diagnostics: [Diagnostic]

  /// Whether an unacknowledged error was found.
  public var hasErrors: Bool { diagnostics.hasErrors }
  /// Whether an unacknowledged warning was found.
  public var hasWarnings: Bool { diagnostics.hasWarnings }
}

/// What `Pipeline.compile` made, with the findings that did not refuse it.
public struct Compiled<Output: Sendable>: Sendable {
  /// The backend's output.
  public var output: Output
  /// The warnings (and accepted findings) to show.
  public var diagnostics: [Diagnostic]
  /// The files read, which an output file must not replace.
  public var inputFiles: [InputFile]
  /// The resolved policy and the lowered ruleset the output was made from.
  public var policy: Policy
  public var ruleset: Ruleset
  /// The conduits' regions the check and the lowering shared. A command that exits right after keeps them with
  /// the rest instead of freeing millions of small objects one by one.
  public var regions: ConduitRegions?
}

/// The stages every command runs, each with typed inputs and outputs, collecting findings rather than printing
/// them: load and resolve (`resolve`), check (`check`), lower and render (`compile`). A stage that cannot give its
/// result throws a `PipelineStop` carrying the findings that explain why.
///
///     SourceFile → PolicyFile → Policy ─┬─ check ─────────────────────→ CheckedPolicy
///                 (parse, include)  (resolve) └─ lower → Ruleset → Backend.names → Backend.render → bytes
public enum Pipeline {
  /// Loads, parses and resolves the policy; its baseline is read and interpreted while the policy is parsed.
  /// Throws (`.unusableInput`) only when the main policy file cannot be read: everything else is a finding.
  public static func resolve(_ request: PolicyRequest) throws(PipelineStop) -> ResolvedPolicy {
    let path = request.policyPath
    let appended = request.appendedSource
    let (loaded, prefetched) = inParallel(
      { () -> Result<([PolicyFile], DiagnosticEngine), InputFileError> in
        var diagnostics = DiagnosticEngine()
        do throws(InputFileError) {
          return .success((try PolicyLoader.load(path, appending: appended, diagnostics: &diagnostics), diagnostics))
        } catch {
          return .failure(error)
        }
      },
      {
        PrefetchedBaseline.path(forPolicyAt: path, options: request.resolveOptions)
          .map(PrefetchedBaseline.init(path:))
      })
    do throws(InputFileError) {
      var (files, diagnostics) = try loaded.get()
      var options = request.resolveOptions
      options.prefetchedBaseline = prefetched
      let policy = try Resolver.resolve(files, options: options, diagnostics: &diagnostics)
      return ResolvedPolicy(policy: policy, diagnostics: diagnostics.diagnostics)
    } catch {
      throw PipelineStop(.unusableInput, error.description)
    }
  }

  /// Runs every check over a resolved policy; the findings of every stage sorted by place (file order: the main
  /// policy, its includes, the baseline; then offset), findings at the same place in the order they were made.
  public static func check(_ resolved: ResolvedPolicy, options: CheckOptions) -> CheckedPolicy {
    let policy = resolved.policy
    var diagnostics = DiagnosticEngine()
    diagnostics.replaceAll(with: resolved.diagnostics)
    Checker.check(policy, options: options, diagnostics: &diagnostics)
    let order = Dictionary(
      (policy.files.map(\.file.path) + [policy.baselineFile?.path].compactMap { $0 }).enumerated().map { ($1, $0) },
      uniquingKeysWith: { first, _ in first })
    let keyed = diagnostics.diagnostics.map { diagnostic in
      (diagnostic.range.map { (order[$0.file.path] ?? Int.max, $0.start) } ?? (Int.max, Int.max), diagnostic)
    }
    let sorted = keyed.enumerated().sorted { lhs, rhs in
      lhs.element.0 != rhs.element.0 ? lhs.element.0 < rhs.element.0 : lhs.offset < rhs.offset
    }.map(\.element.1)
    return CheckedPolicy(policy: policy, diagnostics: sorted)
  }

  /// `resolve`, then `check`.
  public static func check(_ request: PolicyRequest, mitigationsActive: Bool = false) throws(PipelineStop)
    -> CheckedPolicy
  {
    check(try resolve(request), options: CheckOptions(today: request.today, mitigationsActive: mitigationsActive))
  }

  /// resolve → check ∥ (lower → backend), as `compile` runs it: the output of `backend` for the request's gateway,
  /// or a stop with the findings that refuse it (`.refused`; `.unusableInput` when a file the policy names could
  /// not be read; `.usage` for an unknown gateway or mitigation).
  public static func compile<Target: Backend>(_ request: CompileRequest, backend: Target) throws(PipelineStop)
    -> Compiled<[[UInt8]]>
  {
    try build(request) { ruleset, context, diagnostics throws(BackendFailure) in
      try backend.compile(ruleset, context: context, diagnostics: &diagnostics)
    }
  }

  /// `compile` with the nft artifact backend, giving the artifact itself (for `apply` of a policy).
  public static func artifact(_ request: CompileRequest) throws(PipelineStop) -> Compiled<NftablesArtifact> {
    try build(request) { ruleset, context, diagnostics throws(BackendFailure) in
      let backend = NftablesArtifactBackend()
      return try backend.withNames(for: ruleset, diagnostics: &diagnostics) { names throws(BackendFailure) in
        try backend.artifact(ruleset, names: names, context: context)
      }
    }
  }

  /// The context a backend renders with: the policy's files with paths relative to the main policy.
  public static func renderContext(_ policy: Policy, today: CalendarDay) -> RenderContext {
    let main = policy.files.first?.file.path ?? ""
    let files =
      policy.files.map { ($0.file.path, $0.file.bytes) } + (policy.baselineFile.map { [($0.path, $0.bytes)] } ?? [])
    return RenderContext(
      sources: files.map { RenderContext.Source(path: SourcePath.relative($0.0, toDirectoryOf: main), bytes: $0.1) },
      effectiveDate: today.description, compiler: ConduitVersion.compiler)
  }

  /// The conduits' regions are computed once for the redundancy check and the lowering. While the checks run, the
  /// resolved policy is already lowered and rendered on the other core; the output is used only when neither the
  /// check nor the lowering and rendering find a reason to refuse. A policy whose loading or resolving failed is
  /// never lowered.
  static func build<Output: Sendable>(
    _ request: CompileRequest,
    render: @escaping @Sendable (Ruleset, RenderContext, inout DiagnosticEngine) throws(BackendFailure) -> Output?
  ) throws(PipelineStop) -> Compiled<Output> {
    let today = request.policy.today
    let resolved = try resolve(request.policy)
    let policy = resolved.policy
    let regions = resolved.hasErrors ? nil : ConduitRegions(policy)
    let checkOptions = CheckOptions(today: today, mitigationsActive: !request.mitigations.isEmpty, regions: regions)
    let loweringOptions = LoweringOptions(
      gateway: request.gateway, mitigations: request.mitigations, regions: regions, today: today)
    typealias Built = Result<(Ruleset, Output?, DiagnosticEngine), PipelineStop>
    let build = { @Sendable () -> Built in
      var found = DiagnosticEngine()
      do throws(LoweringError) {
        let ruleset = try Lowering.lower(policy, options: loweringOptions, diagnostics: &found)
        guard !found.hasErrors else { return .success((ruleset, nil, found)) }
        do throws(BackendFailure) {
          let output = try render(ruleset, renderContext(policy, today: today), &found)
          return .success((ruleset, output, found))
        } catch {
          return .failure(PipelineStop(.failed, "internal error: \(error)"))
        }
      } catch {
        return .failure(PipelineStop(.usage, error.description))
      }
    }
    let (checked, built) = inParallel(
      { check(resolved, options: checkOptions) }, { resolved.hasErrors ? nil : build() })
    try refuseOnErrors(checked.diagnostics, strict: request.strict)
    switch built ?? build() {
    case .success(let (ruleset, output, found)):
      let diagnostics = checked.diagnostics + found.diagnostics
      try refuseOnErrors(diagnostics, strict: request.strict)
      guard let output else { throw PipelineStop(.refused, Self.refusal, diagnostics: diagnostics) }
      return Compiled(
        output: output, diagnostics: diagnostics, inputFiles: policy.inputFiles, policy: policy, ruleset: ruleset,
        regions: regions)
    case .failure(let stop):
      throw stop
    }
  }

  static let refusal = "compile refused; nothing was written"

  /// Stops when the findings refuse a compile: `.unusableInput` when a file the policy names could not be read,
  /// `.refused` for any other error (or warning, when `strict`).
  static func refuseOnErrors(_ findings: [Diagnostic], strict: Bool) throws(PipelineStop) {
    if findings.hasUnreadableFile {
      throw PipelineStop(.unusableInput, "a file could not be read; nothing was written", diagnostics: findings)
    }
    guard findings.hasErrors || (strict && findings.hasWarnings) else { return }
    throw PipelineStop(.refused, refusal, diagnostics: findings)
  }
}

extension Sequence<Diagnostic> {
  /// Whether a file the policy names (an include or its baseline) could not be read: the run could not do its job,
  /// exit status 2 as for the policy file itself.
  public var hasUnreadableFile: Bool { contains { $0.id == .missingFile && $0.severity == .error } }
}
