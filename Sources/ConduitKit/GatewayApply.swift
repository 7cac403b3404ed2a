import Conntrack
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyLanguage

/// The artifact `conduit apply` sends (`SafeApply`): read from a file, or compiled from a policy.
public enum GatewayApply {
  /// The artifact at `input`, read once and verified; or, when `input` is a policy (`.conduit`), the artifact
  /// `compile` makes of it.
  public static func artifact(at input: String, compiling request: CompileRequest) throws(PipelineStop)
    -> NftablesArtifact
  {
    do {
      return try NftablesArtifact.read(contentsOf: input)
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
    return try Pipeline.artifact(request).output
  }
}
