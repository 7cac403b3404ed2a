import ArgumentParser
import Conntrack
import FirewallIR
import FlowSpace
import Foundation
import NftablesBackend
import PolicyLanguage
import PolicyModel

/// `conduit apply FILE|POLICY`: load an nft artifact (or compile a policy) into the kernel as one transaction that
/// replaces conduit's own table and nothing else.
struct ApplyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Apply an nft artifact (or a policy) to the kernel atomically.",
    discussion: """
      The artifact is verified (magic, version, SHA-256) before anything is sent; its interfaces must exist in the \
      target namespace unless --force. Exit status: 0 applied, 1 the kernel rejected the batch (nothing changed), \
      2 unreadable or damaged input, no permission or no such namespace, 64 usage.
      """)

  @Argument(help: "An artifact from `conduit compile --target nft`, or a policy file (.conduit).")
  var input: String

  @Option(help: "The gateway to compile for, when INPUT is a policy with several gateways.")
  var gateway: String?

  @Option(help: "Apply inside this network namespace (/run/netns/NAME).")
  var netns: String?

  @Flag(help: "Apply even when an interface the ruleset names does not exist.")
  var force = false

  @Option(name: .customLong("mitigation"), help: "When INPUT is a policy: compile this mitigation in (repeatable).")
  var mitigations: [String] = []

  @Option(help: "When INPUT is a policy: the asset baseline, overriding the policy's.")
  var baseline: String?

  @OptionGroup var date: DayOption

  @Option(help: "Keep the new ruleset only if `conduit confirm` follows within SECONDS (not available yet).")
  var confirm: Int?

  @Flag(help: "Show what would change without applying (not available yet).")
  var dryRun = false

  func validate() throws {
    if confirm != nil {
      throw ValidationError("'--confirm' arrives with the safe-apply work; it is not available yet")
    }
    if dryRun {
      throw ValidationError("'--dry-run' arrives with the safe-apply work; it is not available yet")
    }
  }

  func run() throws {
    let artifact = try loadArtifact()
    if let netns {
      do {
        try KernelSession.enterNetworkNamespace(netns)
      } catch {
        reportError("\(error)")
        throw ExitCode(2)
      }
    }
    let missing = artifact.interfaces.filter { if_nametoindex($0) == 0 }
    if !missing.isEmpty, !force {
      reportError(
        "interface\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) of gateway "
          + "'\(artifact.header.gateway ?? "-")' do not exist here; nothing was applied (use --force to apply anyway)")
      throw ExitCode(2)
    }
    do {
      let session = try KernelSession()
      try session.send(artifact.batch)
    } catch {
      if error.isPermissionDenied {
        printError(
          "conduit: error: permission denied: applying a ruleset needs CAP_NET_ADMIN (run as root); nothing was changed\n"
        )
        throw ExitCode(2)
      }
      reportError("\(error)")
      throw ExitCode(error.isRejection ? 1 : 2)
    }
    var unreported: StandardOutputError?
    func report(_ line: String) {
      guard unreported == nil else { return }
      do { try StandardStreams.write([Array((line + "\n").utf8)]) } catch { unreported = error }
    }
    report(
      "applied table inet \(artifact.header.table)"
        + (netns.map { " in network namespace \(TerminalText.escaped($0))" } ?? ""))
    do {
      let cut = try cutConnections(noLongerAllowedBy: artifact.flowTable)
      report("cut \(cut) tracked connection\(cut == 1 ? "" : "s") the new ruleset no longer allows")
    } catch {
      reportWarning("the ruleset is applied, but connection tracking could not be cleaned: \(error)")
    }
    if let unreported {
      reportError("\(unreported) (the ruleset is applied)")
      throw ExitCode(2)
    }
  }

  /// Deletes the conntrack entries of forwarded connections the new ruleset would not let start; connections of
  /// the gateway's own addresses are left alone.
  private func cutConnections(noLongerAllowedBy table: FlowTable) throws -> Int {
    let session = try ConntrackSession()
    let entries = try session.entries()
    guard !entries.isEmpty else { return 0 }
    let local = Self.localAddresses()
    let index = table.index()
    return try session.deleteEntries { entry in
      guard !local.contains(entry.source), !local.contains(entry.destination) else { return false }
      let selector = entry.destinationPort ?? entry.icmpType.map(UInt16.init)
      return !index.allows(
        source: entry.source, destination: entry.destination, protocolNumber: entry.protocolNumber, selector: selector)
    }
  }

  /// The addresses of this network namespace's interfaces.
  private static func localAddresses() -> Set<IPAddress> {
    var result: Set<IPAddress> = []
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { return result }
    defer { freeifaddrs(list) }
    var current = list
    while let entry = current {
      defer { current = entry.pointee.ifa_next }
      guard let address = entry.pointee.ifa_addr else { continue }
      var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
      let length = socklen_t(
        Int32(address.pointee.sa_family) == AF_INET6
          ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
      guard Int32(address.pointee.sa_family) == AF_INET || Int32(address.pointee.sa_family) == AF_INET6,
        getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0
      else { continue }
      let text = String(cString: host).split(separator: "%").first.map(String.init) ?? ""
      if let parsed = IPAddress(text) { result.insert(parsed) }
    }
    return result
  }

  /// The artifact at `input`, read once and verified; or, for a policy, the artifact compiled from it.
  private func loadArtifact() throws -> NftablesArtifact {
    do {
      return try NftablesArtifact.read(contentsOf: input)
    } catch where error.isUnreadable {
      reportError("\(error)")
      throw ExitCode(2)
    } catch where !error.isNotAnArtifact {
      reportError("'\(input)' is refused: \(error)")
      throw ExitCode(2)
    } catch {}
    guard input.hasSuffix(".conduit") else {
      reportError("'\(input)' is neither a conduit nft artifact nor a policy (.conduit)")
      throw ExitCode(2)
    }
    let pipeline = CompilePipeline(
      policyPath: input, resolveOptions: ResolveOptions(baselinePath: baseline),
      today: date.day, gateway: gateway, mitigations: mitigations, strict: false)
    let today = date.day
    return try CompilePipeline.unwrap(
      pipeline.compile { ruleset, policy, diagnostics in
        CompilePipeline.artifact(ruleset, policy, today: today, diagnostics: &diagnostics)
      }.output)
  }
}

extension KernelSessionError {
  /// Whether the kernel itself refused the transaction.
  var isRejection: Bool {
    if case .rejected = self { return true }
    return false
  }
}
