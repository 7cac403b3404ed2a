import ArgumentParser
import ConduitKit
import PolicyAnalysis

/// `conduit impact POLICY --advisory FILE|DIR… | --isolate ENDPOINT`: which assets an advisory hits and how exposed
/// they are, or what cutting an endpoint off would break; and the mitigation, ready to review.
struct ImpactCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "impact",
    abstract: "Show which assets advisories hit and who reaches them, or what isolating an endpoint cuts.",
    discussion: """
      --advisory reads CSAF 2.0 advisories (files, or folders of .json files) and matches them against the \
      policy's baseline: per matched asset the advisory, its CVEs and scores, the match evidence, and every flow \
      that reaches the asset by source zone, lower-SL and outside zones flagged; ranked by criticality, then \
      exposure, then score. --emit-mitigation writes a mitigation block that checks clean with the policy (to -o \
      FILE, else to standard output instead of the report). --isolate lists the flows isolating the endpoints \
      would cut and the assets that lose each. Exit status: 0 nothing matched or nothing exposed (or, with \
      --isolate, nothing cut), 1 a matched asset is exposed (something cut; a mitigation refused), 2 an advisory \
      or the policy could not be read, 64 usage.
      """)

  enum Format: String, ExpressibleByArgument, CaseIterable {
    case text, json
  }

  @OptionGroup var options: PolicyOptions

  @Option(name: .customLong("advisory"), help: "A CSAF advisory, or a folder of them (repeatable).")
  var advisories: [String] = []

  @Option(help: "Endpoints to isolate, written as in a rule.")
  var isolate: String?

  @Option(name: .customLong("mitigation"), help: "Answer as compiled with this mitigation (repeatable).")
  var mitigations: [String] = []

  @Option(name: .customLong("emit-mitigation"), help: "Write a mitigation block of this name for the matches.")
  var emitMitigation: String?

  @Option(help: "How the emitted mitigation counters the advisory: isolate (the default) or revoke.")
  var strategy: MitigationStrategy = .isolate

  @Option(
    name: .customLong("keep"),
    help: "A flow the mitigation keeps, written like a rule: 'SOURCES -> DESTINATIONS service ITEMS' (repeatable).")
  var keeps: [String] = []

  @Option(name: .shortAndLong, help: "Write the emitted mitigation to this file instead of standard output.")
  var output: String?

  @Option(help: "Output format: text or json.")
  var format: Format = .text

  func validate() throws {
    if advisories.isEmpty == (isolate == nil) {
      throw ValidationError("give either --advisory FILE|DIR (repeatable) or --isolate ENDPOINT")
    }
    if isolate != nil, emitMitigation != nil {
      throw ValidationError("--emit-mitigation works with --advisory")
    }
    if emitMitigation == nil, !keeps.isEmpty || output != nil {
      throw ValidationError("--keep and -o go with --emit-mitigation")
    }
  }

  func run() throws {
    if let isolate {
      let request = IsolationImpactRequest(policy: options.request, endpoint: isolate, mitigations: mitigations)
      let result = try stage { () throws(PipelineStop) in try Pipeline.impact(request) }
      try printOutput(format == .json ? result.json : result.text)
      if !result.impact.isEmpty { throw ExitCode(1) }
      return
    }
    let emission = emitMitigation.map { MitigationEmission(name: $0, strategy: strategy, keeps: keeps) }
    let request = AdvisoryImpactRequest(
      policy: options.request, advisoryPaths: advisories, mitigations: mitigations, emission: emission)
    let result = try stage { () throws(PipelineStop) in try Pipeline.impact(request) }
    if let mitigation = result.mitigation, let output {
      do {
        try OutputFile.write([Array(mitigation.utf8)], to: output, inputs: result.inputFiles)
      } catch {
        reportError("\(error)")
        throw ExitCode(2)
      }
    }
    if let mitigation = result.mitigation, output == nil {
      try printOutput(mitigation)
    } else {
      try printOutput(format == .json ? result.json : result.text)
    }
    if !result.unreadable.isEmpty { throw ExitCode(2) }
    if result.hasExposedAsset { throw ExitCode(1) }
  }
}

extension MitigationStrategy: ExpressibleByArgument {}
