import ArgumentParser
import FirewallIR
import FlowSpace
import Foundation
import IptablesBackend
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// `conduit compile POLICY`: check, lower for one gateway, and emit the artifact.
struct CompileCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compile",
    abstract: "Check a policy and compile it for a gateway.",
    discussion: """
      Refuses (exit 1, no file written) when the check finds errors. Targets: nft-text (an nft -f script that \
      replaces conduit's table), iptables and ip6tables (iptables-restore input for a dedicated gateway), flows \
      (the allowed flows as JSON). The binary nft artifact arrives with the netlink backend.
      """)

  enum Target: String, ExpressibleByArgument, CaseIterable {
    case nft
    case nftText = "nft-text"
    case iptables, ip6tables, flows
  }

  @OptionGroup var options: PolicyOptions

  @Option(help: "The gateway to compile for (required when the policy has several).")
  var gateway: String?

  @Option(help: "What to emit: nft-text, iptables, ip6tables or flows.")
  var target: Target = .nftText

  @Option(name: .customLong("mitigation"), help: "Compile this mitigation in (repeatable).")
  var mitigations: [String] = []

  @Flag(help: "Refuse on warnings too.")
  var strict = false

  @Option(name: .shortAndLong, help: "Write to this file (atomically) instead of standard output.")
  var output: String?

  func validate() throws {
    if target == .nft {
      throw ValidationError(
        "the binary 'nft' artifact is not available yet; use '--target nft-text' (an nft -f script of the same ruleset)"
      )
    }
  }

  func run() throws {
    let checked: CheckedPolicy
    do {
      checked = try checkPolicy(
        at: options.policy, resolveOptions: options.resolveOptions,
        checkOptions: CheckOptions(
          today: options.day ?? CheckOptions.currentDay, mitigationsActive: !mitigations.isEmpty))
    } catch {
      printError("conduit: error: \(error)\n")
      throw ExitCode(2)
    }
    var diagnostics = DiagnosticEngine()
    diagnostics.replaceAll(with: checked.diagnostics)
    guard !refuses(diagnostics) else { throw ExitCode(1) }

    let ruleset: Ruleset
    do {
      ruleset = try Lowering.lower(
        checked.policy, options: LoweringOptions(gateway: gateway, mitigations: mitigations), diagnostics: &diagnostics)
    } catch {
      printError("conduit: error: \(error)\n")
      throw ExitCode(64)
    }
    let text: String
    switch target {
    case .nft, .nftText:
      let names = NftablesNames(ruleset, diagnostics: &diagnostics)
      text = NftablesTextRenderer().render(ruleset, names: names)
    case .iptables, .ip6tables:
      let family: AddressFamily = target == .iptables ? .ipv4 : .ipv6
      let names = IptablesNames(ruleset, family: family, diagnostics: &diagnostics)
      text = IptablesRestoreRenderer().render(ruleset, family: family, names: names)
    case .flows:
      text = FlowsJSONRenderer().render(ruleset)
    }
    guard !refuses(diagnostics) else { throw ExitCode(1) }
    printError(
      diagnostics.diagnostics.isEmpty ? "" : TextDiagnosticRenderer().render(diagnostics.diagnostics))
    do {
      try OutputFile.write(Data(text.utf8), to: output)
    } catch {
      printError("conduit: error: cannot write '\(output ?? "-")': \(error.localizedDescription)\n")
      throw ExitCode(2)
    }
  }

  /// Prints the findings and says whether they stop the compile.
  private func refuses(_ diagnostics: DiagnosticEngine) -> Bool {
    let findings = diagnostics.diagnostics
    let errors = findings.contains { $0.severity == .error && $0.acceptedRisk == nil }
    let warnings = findings.contains { $0.severity == .warning && $0.acceptedRisk == nil }
    guard errors || (strict && warnings) else { return false }
    printError(TextDiagnosticRenderer().render(findings) + "conduit: compile refused; nothing was written\n")
    return true
  }
}
