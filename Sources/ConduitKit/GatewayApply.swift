import Conntrack
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyLanguage

/// What `apply` did.
public struct ApplyReport: Sendable {
  /// conduit's table as applied (`conduit_SITE`).
  public var table: String
  /// The network namespace it was applied in (nil: the caller's).
  public var networkNamespace: String?
  /// How many tracked connections the new ruleset no longer allows were cut, or why connection tracking could not
  /// be cleaned (the ruleset is applied either way).
  public var cutConnections: Result<Int, ConntrackError>
}

/// `conduit apply`: an nft artifact (read from a file, or compiled from a policy) sent to the kernel as one
/// transaction, then the tracked connections it no longer allows cut.
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

  /// Applies `artifact` in the network namespace `/run/netns/NAME` (on a thread of its own, so no thread of the
  /// caller changes namespace) or in the caller's: refused (`.failed`) when an interface it names is missing there
  /// unless `force`; `.rejected` when the kernel refuses the transaction (nothing changed).
  public static func apply(_ artifact: NftablesArtifact, networkNamespace: String?, force: Bool) throws(PipelineStop)
    -> ApplyReport
  {
    guard let networkNamespace else { return try applyHere(artifact, force: force) }
    let result = onThreadOfItsOwn { () -> Result<ApplyReport, PipelineStop> in
      do throws(KernelSessionError) {
        try KernelSession.enterNetworkNamespace(networkNamespace)
      } catch {
        return .failure(PipelineStop(.failed, error.description))
      }
      do throws(PipelineStop) {
        var report = try applyHere(artifact, force: force)
        report.networkNamespace = networkNamespace
        return .success(report)
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  private static func applyHere(_ artifact: NftablesArtifact, force: Bool) throws(PipelineStop) -> ApplyReport {
    let missing = artifact.interfaces.filter { if_nametoindex($0) == 0 }
    if !missing.isEmpty, !force {
      throw PipelineStop(
        .failed,
        "interface\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) of gateway "
          + "'\(artifact.header.gateway ?? "-")' do not exist here; nothing was applied (use --force to apply anyway)")
    }
    do {
      let session = try KernelSession()
      try session.send(artifact.batch)
    } catch {
      if error.isPermissionDenied {
        throw PipelineStop(
          .failed, "permission denied: applying a ruleset needs CAP_NET_ADMIN (run as root); nothing was changed")
      }
      if case .rejected = error { throw PipelineStop(.rejected, error.description) }
      throw PipelineStop(.failed, error.description)
    }
    let cut = Result { () throws(ConntrackError) in try ConnectionCut.cut(noLongerAllowedBy: artifact.flowTable) }
    return ApplyReport(table: artifact.header.table, networkNamespace: nil, cutConnections: cut)
  }
}
