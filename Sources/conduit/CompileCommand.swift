import ArgumentParser
import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyLanguage

/// `conduit compile POLICY`: check, lower for one gateway, and emit the artifact.
struct CompileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compile",
    abstract: "Check a policy and compile it for a gateway.",
    discussion: """
      Refuses (exit 1, no file written) when the check finds errors. Targets: nft (the netlink batch as an artifact \
      for `conduit apply`), nft-text (an nft -f script of the same ruleset that replaces conduit's table), iptables \
      and ip6tables (iptables-restore input for a dedicated gateway), flows (the allowed flows as JSON).
      """)

  enum Target: String, ExpressibleByArgument, CaseIterable {
    case nft
    case nftText = "nft-text"
    case iptables, ip6tables, flows
  }

  @OptionGroup var options: PolicyOptions

  @Option(help: "The gateway to compile for (required when the policy has several).")
  var gateway: String?

  @Option(help: "What to emit: nft, nft-text, iptables, ip6tables or flows.")
  var target: Target = .nft

  @Option(name: .customLong("mitigation"), help: "Compile this mitigation in (repeatable).")
  var mitigations: [String] = []

  @Flag(help: "Refuse on warnings too.")
  var strict = false

  @Option(name: .shortAndLong, help: "Write to this regular file (atomically) instead of standard output.")
  var output: String?

  func run() throws {
    let pipeline = CompilePipeline(
      policyPath: options.policy, resolveOptions: options.resolveOptions, today: options.day,
      gateway: gateway, mitigations: mitigations, strict: strict)
    let target = target
    let today = options.day
    let (compiled, diagnostics) = try pipeline.compile {
      ruleset, policy, diagnostics -> (Result<[[UInt8]], NftablesArtifact.ReadError>, [OutputFile.Input]) in
      let parts: Result<[[UInt8]], NftablesArtifact.ReadError>
      switch target {
      case .nft:
        parts = CompilePipeline.artifact(ruleset, policy, today: today, diagnostics: &diagnostics).map {
          $0.encodedParts()
        }
      case .nftText:
        let names = NftablesNames(ruleset, diagnostics: &diagnostics)
        parts = .success([Array(NftablesTextRenderer().render(ruleset, names: names).utf8)])
      case .iptables, .ip6tables:
        let family: AddressFamily = target == .iptables ? .ipv4 : .ipv6
        let names = IptablesNames(ruleset, family: family, diagnostics: &diagnostics)
        parts = .success([Array(IptablesRestoreRenderer().render(ruleset, family: family, names: names).utf8)])
      case .flows:
        parts = .success([Array(FlowsJSONRenderer().render(ruleset).utf8)])
      }
      return (parts, policy.inputFiles)
    }
    let parts = try CompilePipeline.unwrap(compiled.0)
    let inputs = compiled.1
    if !diagnostics.diagnostics.isEmpty { printError(TextDiagnosticRenderer().render(diagnostics.diagnostics)) }
    if target == .nft, output == nil, isatty(STDOUT_FILENO) != 0 {
      reportError("the nft artifact is binary; write it with -o FILE")
      throw ExitCode(64)
    }
    guard let output else { return try printOutput(parts) }
    do {
      try OutputFile.write(parts, to: output, inputs: inputs)
    } catch {
      reportError("\(error)")
      throw ExitCode(2)
    }
  }
}
