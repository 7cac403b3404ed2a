import Conntrack
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyLanguage
import PolicyModel

/// The artifact `conduit apply` sends (`SafeApply`): read from a file, or compiled from a policy.
public enum GatewayApply {
  /// The artifact at `input`, read once and verified; or, when `input` is a policy (`.conduit`), the artifact
  /// `compile` makes of it.
  public static func artifact(at input: String, compiling request: CompileRequest) throws(PipelineStop)
    -> NftablesArtifact
  {
    try artifactAndPolicy(at: input, compiling: request).artifact
  }

  /// `apply` of the artifact at `input` (or compiled from the policy `input`): while it is read and verified, the
  /// state directory's confirmed artifact is read ahead on another core (`SafeApply.readAhead`), for `SafeApply.apply`
  /// to use once the record it reads under the lock shows that it is still the confirmed one.
  public static func apply(
    at input: String, compiling request: CompileRequest, options: SafeApplyOptions, waiting: (String) -> Void
  ) throws(PipelineStop) -> SafeApplyReport {
    let (read, readAhead) = inParallel(
      { Result { () throws(PipelineStop) in try artifact(at: input, compiling: request) } },
      { SafeApply.readAhead(options) })
    return try SafeApply.apply(try read.get(), options: options, readAhead: readAhead, waiting: waiting)
  }

  /// The artifact `artifact(at:compiling:)` gives, with the policy it was compiled from when `input` is a policy
  /// (nil for an artifact file), whose assets name the flows `apply --dry-run` shows.
  public static func artifactAndPolicy(at input: String, compiling request: CompileRequest) throws(PipelineStop)
    -> (artifact: NftablesArtifact, policy: Policy?)
  {
    do {
      return (try NftablesArtifact.read(contentsOf: input), nil)
    } catch  where error.isUnreadable {
      throw PipelineStop(.unusableInput, error.description)
    } catch  where !error.isNotAnArtifact {
      throw PipelineStop(.unusableInput, "'\(input)' is refused: \(error)")
    } catch {}
    guard input.hasSuffix(".conduit") else {
      throw PipelineStop(.unusableInput, "'\(input)' is neither a conduit nft artifact nor a policy (.conduit)")
    }
    var request = request
    request.policy.policyPath = input
    request.strict = false
    let compiled = try Pipeline.artifact(request)
    return (compiled.output, compiled.policy)
  }
}
