import Advisories
import FirewallIR
import FlowSpace
import Foundation
import PolicyAnalysis
import PolicyLanguage
import PolicyModel

/// What `impact --advisory` asks: the advisories (files or folders of them) against a policy and its baseline.
public struct AdvisoryImpactRequest: Sendable {
  public var policy: PolicyRequest
  /// Advisory files and folders (`--advisory`, repeatable); a folder stands for every `.json` file under it.
  public var advisoryPaths: [String]
  /// The mitigations the exposure is computed with.
  public var mitigations: [String]
  /// The mitigation to emit, when asked for.
  public var emission: MitigationEmission?

  /// Creates a request.
  public init(
    policy: PolicyRequest, advisoryPaths: [String], mitigations: [String] = [], emission: MitigationEmission? = nil
  ) {
    self.policy = policy
    self.advisoryPaths = advisoryPaths
    self.mitigations = mitigations
    self.emission = emission
  }
}

/// `--emit-mitigation NAME [--strategy isolate|revoke] [--keep RULE]…`.
public struct MitigationEmission: Sendable {
  public var name: String
  public var strategy: MitigationStrategy
  /// Rules written like an `allow` without the keyword: `SOURCES -> DESTINATIONS service ITEMS`.
  public var keeps: [String]

  /// Creates an emission request.
  public init(name: String, strategy: MitigationStrategy = .isolate, keeps: [String] = []) {
    self.name = name
    self.strategy = strategy
    self.keeps = keeps
  }
}

/// The answer to `impact --advisory`.
public struct AdvisoryImpactResult: Sendable {
  /// The findings, ranked.
  public var findings: [ImpactFinding]
  /// How many advisories were read.
  public var advisoryCount: Int
  /// What could not be read in advisories that were otherwise read.
  public var problems: [Advisory.Problem]
  /// Files that are no advisory at all (exit 2).
  public var unreadable: [String]
  /// The emitted mitigation block, checked with the policy.
  public var mitigation: String?
  /// The policy's assets, to name addresses by.
  public var names: FlowDescription
  /// The files read (policy, includes, baseline, advisories): `-o` never writes over one.
  public var inputFiles: [InputFile]

  /// Whether some matched asset is reachable through a gateway.
  public var hasExposedAsset: Bool { findings.contains(where: \.isExposed) }

  private var notes: [String] { unreadable + problems.map(\.description) }

  /// The report as text.
  public var text: String {
    ImpactTextRenderer().render(findings, advisories: advisoryCount, problems: notes, names: names)
  }

  /// The report as JSON.
  public var json: String { ImpactJSON.render(findings, advisories: advisoryCount, problems: notes, names: names) }
}

/// What `impact --isolate` asks.
public struct IsolationImpactRequest: Sendable {
  public var policy: PolicyRequest
  /// The endpoints to isolate, written as in a rule.
  public var endpoint: String
  public var mitigations: [String]

  /// Creates a request.
  public init(policy: PolicyRequest, endpoint: String, mitigations: [String] = []) {
    self.policy = policy
    self.endpoint = endpoint
    self.mitigations = mitigations
  }
}

/// The answer to `impact --isolate`.
public struct IsolationImpactResult: Sendable {
  public var impact: IsolationImpact
  public var endpoint: String
  public var names: FlowDescription

  /// The report as text.
  public var text: String { IsolationTextRenderer().render(impact, endpoint: endpoint, names: names) }
  /// The report as JSON.
  public var json: String { ImpactJSON.render(impact, endpoint: endpoint, names: names) }
}

extension Pipeline {
  /// `impact --advisory`: the policy checked (errors give no answer: `.unusableInput`), the advisories read (on
  /// every core), the baseline matched, the exposure of every match through the policy lowered for all gateways at
  /// once; with an emission, the mitigation block written and checked with the policy (it must check clean and
  /// compile with `--mitigation NAME`, else `.refused` with the findings).
  public static func impact(_ request: AdvisoryImpactRequest) throws(PipelineStop) -> AdvisoryImpactResult {
    let checked = try check(request.policy, mitigationsActive: !request.mitigations.isEmpty)
    if checked.hasErrors {
      throw PipelineStop(.unusableInput, "the policy has errors; no answer", diagnostics: checked.diagnostics)
    }
    let policy = checked.policy
    let paths = request.advisoryPaths
    let (read, matcher) = inParallel({ AdvisoryFiles.read(paths) }, { Impact.matcher(for: policy) })
    let (advisories, unreadable) = read
    let ruleset = try loweredForEveryGateway(policy, mitigations: request.mitigations)
    let findings = Impact.findings(of: advisories, in: policy, ruleset: ruleset, matcher: matcher)
    var result = AdvisoryImpactResult(
      findings: findings, advisoryCount: advisories.count, problems: advisories.flatMap(\.problems),
      unreadable: unreadable.map(\.description), mitigation: nil, names: FlowDescription([policy]),
      inputFiles: policy.inputFiles + advisories.map { InputFile(path: $0.file, role: "an advisory") })
    if let emission = request.emission {
      result.mitigation = try emitMitigation(emission, findings: findings, request: request.policy)
    }
    return result
  }

  /// The block, refused unless the policy with it appended checks clean with it active (no finding the policy did
  /// not have before) and lowers for every gateway with it.
  private static func emitMitigation(
    _ emission: MitigationEmission, findings: [ImpactFinding], request: PolicyRequest
  ) throws(PipelineStop) -> String {
    let block: String
    do throws(MitigationDraftError) {
      block = try MitigationDraft.write(
        name: emission.name, strategy: emission.strategy, findings: findings, keeps: emission.keeps)
    } catch {
      throw PipelineStop(.refused, "no mitigation written: \(error.message)")
    }
    var combined = request
    combined.appendedSource = "\n" + block
    let checked = try check(combined, mitigationsActive: true)
    let before = Set(try check(request, mitigationsActive: true).diagnostics.map(Self.findingKey))
    let unclean = checked.diagnostics.filter { $0.severity != .note && !before.contains(Self.findingKey($0)) }
    let clashes = checked.policy.mitigations.filter { $0.name == emission.name }.count
    if clashes > 1 {
      throw PipelineStop(
        .refused, "no mitigation written: the policy already has a mitigation named '\(emission.name)'",
        diagnostics: [])
    }
    if !unclean.isEmpty {
      throw PipelineStop(
        .refused, "no mitigation written: the block does not check clean with the policy", diagnostics: unclean)
    }
    var diagnostics = DiagnosticEngine()
    for gateway in checked.policy.gateways.map(\.name) + [nil] {
      do throws(LoweringError) {
        _ = try Lowering.lower(
          checked.policy,
          options: LoweringOptions(gateway: gateway, mitigations: [emission.name], ignoringGateways: gateway == nil),
          diagnostics: &diagnostics)
      } catch {
        throw PipelineStop(.refused, "no mitigation written: \(error.description)")
      }
    }
    if diagnostics.hasErrors {
      throw PipelineStop(
        .refused, "no mitigation written: it does not compile with --mitigation \(emission.name)",
        diagnostics: diagnostics.diagnostics)
    }
    return block
  }

  /// What identifies a finding across two checks of the same files (the second with text appended to the main one).
  private static func findingKey(_ diagnostic: Diagnostic) -> String {
    let place = diagnostic.range.map { range in
      let start = range.startLocation
      return "\(range.file.path):\(start.line):\(start.column)"
    }
    return "\(diagnostic.id.rawValue) \(diagnostic.severity) \(place ?? "-") \(diagnostic.message)"
  }

  /// `impact --isolate`: the policy checked, the endpoints parsed as in a rule (errors: `.usage`), then every flow
  /// isolating them cuts, with who loses it.
  public static func impact(_ request: IsolationImpactRequest) throws(PipelineStop) -> IsolationImpactResult {
    let checked = try check(request.policy, mitigationsActive: !request.mitigations.isEmpty)
    if checked.hasErrors {
      throw PipelineStop(.unusableInput, "the policy has errors; no answer", diagnostics: checked.diagnostics)
    }
    let policy = checked.policy
    var diagnostics = DiagnosticEngine()
    guard let isolated = addresses(request.endpoint, "--isolate", policy, &diagnostics), !diagnostics.hasErrors else {
      throw PipelineStop(.usage, nil, diagnostics: diagnostics.diagnostics)
    }
    let ruleset = try loweredForEveryGateway(policy, mitigations: request.mitigations)
    return IsolationImpactResult(
      impact: IsolationImpact.of(isolated, in: policy, ruleset: ruleset), endpoint: request.endpoint,
      names: FlowDescription([policy]))
  }
}

/// Reads advisory files and folders: every regular `.json` file under a folder (symbolic links not followed), each
/// read through one descriptor whose type is checked, at most `CSAFReader.maximumBytes`, parsed on every core.
enum AdvisoryFiles {
  static func read(_ paths: [String]) -> (advisories: [Advisory], unreadable: [AdvisoryReadError]) {
    var files: [String] = []
    var unreadable: [AdvisoryReadError] = []
    for path in paths {
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        files += jsonFiles(under: path)
      } else {
        files.append(path)
      }
    }
    let listed = files
    let results = concurrentMap(count: listed.count) { index -> Result<Advisory, AdvisoryReadError> in
      let file = listed[index]
      switch FileReader.readBytes(file, limit: CSAFReader.maximumBytes) {
      case .success(let bytes): return CSAFReader.read(bytes, file: file)
      case .failure(let error): return .failure(AdvisoryReadError(file: file, message: error.reason))
      }
    }
    var advisories: [Advisory] = []
    for result in results {
      switch result {
      case .success(let advisory): advisories.append(advisory)
      case .failure(let error): unreadable.append(error)
      }
    }
    return (advisories, unreadable)
  }

  /// The regular `.json` files under `folder`, sorted, without following symbolic links.
  static func jsonFiles(under folder: String) -> [String] {
    var found: [String] = []
    var pending = [folder]
    while let directory = pending.popLast() {
      guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
      for entry in entries {
        let path = directory.hasSuffix("/") ? directory + entry : directory + "/" + entry
        var status = stat()
        guard lstat(path, &status) == 0 else { continue }
        switch status.st_mode & S_IFMT {
        case S_IFDIR: pending.append(path)
        case S_IFREG where entry.lowercased().hasSuffix(".json"): found.append(path)
        default: continue
        }
      }
    }
    return found.sorted()
  }
}

extension Pipeline {
  /// The policy lowered for every gateway at once with `mitigations`: an unknown mitigation is `.usage`, mitigations
  /// that conflict give no answer (`.unusableInput` with the findings).
  fileprivate static func loweredForEveryGateway(_ policy: Policy, mitigations: [String]) throws(PipelineStop)
    -> Ruleset
  {
    var diagnostics = DiagnosticEngine()
    let ruleset: Ruleset
    do throws(LoweringError) {
      ruleset = try Lowering.lower(
        policy, options: LoweringOptions(mitigations: mitigations, ignoringGateways: true), diagnostics: &diagnostics)
    } catch {
      throw PipelineStop(.usage, error.description)
    }
    if diagnostics.hasErrors {
      throw PipelineStop(
        .unusableInput, "the policy with these mitigations has errors; no answer", diagnostics: diagnostics.diagnostics)
    }
    return ruleset
  }
}
