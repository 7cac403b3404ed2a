import ArgumentParser
import ConduitKit
import Foundation
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

  /// A target: the name of one of `Backends.all`.
  struct Target: ExpressibleByArgument {
    let name: String

    init?(argument: String) {
      guard Backends.named(argument) != nil else { return nil }
      name = argument
    }

    static var allValueStrings: [String] { Backends.all.map(\.target) }

    var defaultValueDescription: String { name }
  }

  @OptionGroup var options: PolicyOptions

  @Option(help: "The gateway to compile for (required when the policy has several).")
  var gateway: String?

  @Option(help: "What to emit.")
  var target = Target(argument: "nft")!

  @Option(name: .customLong("mitigation"), help: "Compile this mitigation in (repeatable).")
  var mitigations: [String] = []

  @Flag(help: "Refuse on warnings too.")
  var strict = false

  @Option(name: .shortAndLong, help: "Write to this regular file (atomically) instead of standard output.")
  var output: String?

  func run() throws {
    let backend = Backends.named(target.name)!
    let request = CompileRequest(
      policy: options.request, gateway: gateway, mitigations: mitigations, strict: strict)
    let compiled = try stage { () throws(PipelineStop) in try Pipeline.compile(request, backend: backend) }
    HeldUntilExit.hold(compiled)
    if !compiled.diagnostics.isEmpty { printError(TextDiagnosticRenderer().render(compiled.diagnostics)) }
    if backend.capabilities.isBinary, output == nil, isatty(STDOUT_FILENO) != 0 {
      reportError("the \(backend.target) artifact is binary; write it with -o FILE")
      throw ExitCode(64)
    }
    guard let output else { return try printOutput(compiled.output) }
    do {
      try OutputFile.write(compiled.output, to: output, inputs: compiled.inputFiles)
    } catch {
      reportError("\(error)")
      throw ExitCode(2)
    }
  }
}
