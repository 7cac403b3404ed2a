import Advisories
import BaselineFormat
import Crypto
import Foundation
import NftablesBackend
import PolicyChecker
import PolicyLanguage
import PolicyModel

/// What conduit does with the bytes of one fuzz input, for every reader of untrusted input. The libFuzzer
/// executables under Fuzz/ call `run(_:)` from `LLVMFuzzerTestOneInput`; the regression tests replay stored inputs
/// through the same call without sanitizers.
public enum FuzzEntry: String, CaseIterable, Sendable {
  /// A policy parsed, resolved and checked, its findings rendered as text and JSON. The input is the policy text,
  /// optionally followed by a line `--- baseline.csv` or `--- baseline.json` and the baseline; without one, the
  /// policy is checked against `FixedInputs.baselineCSV`.
  case policy
  /// A CSV baseline read as a table from its raw bytes, then, as the command line reads it, interpreted and checked
  /// with `FixedInputs.policy`.
  case csvBaseline = "csv-baseline"
  /// A JSON baseline read as a table from its raw bytes, then, as the command line reads it, interpreted and checked
  /// with `FixedInputs.policy`.
  case jsonBaseline = "json-baseline"
  /// An nft artifact decoded and verified, as `conduit apply` reads it: once as given, and once with the SHA-256 at
  /// its end recomputed, so that mutations reach the header, the batch validation and the flow table behind the
  /// digest (what a forger who knows the format writes).
  case nftArtifact = "nft-artifact"
  /// A CSAF advisory read as `conduit impact` reads it: its products with their version ranges, its
  /// vulnerabilities, and the problems it reports.
  case csaf

  /// Runs the input through the readers (for `csaf`, also the baseline matcher against assets made from the
  /// advisory's own products, and the port finder); every problem is a finding, and nothing the input holds may crash it.
  public func run(_ bytes: [UInt8]) -> FuzzOutcome {
    switch self {
    case .policy:
      let (policy, baseline) = PolicyInput.split(bytes)
      return PolicyInput.check(policy: policy, baseline: baseline ?? (FixedInputs.baselineCSV, "csv"))
    case .csvBaseline:
      let table = BaselineTable.read(bytes, pathExtension: "csv")
      var outcome = PolicyInput.check(policy: FixedInputs.policy, baseline: (bytes, "csv"))
      outcome.findings += table.errors.map(\.description)
      return outcome
    case .jsonBaseline:
      let table = BaselineTable.read(bytes, pathExtension: "json")
      var outcome = PolicyInput.check(policy: FixedInputs.policy, baseline: (bytes, "json"))
      outcome.findings += table.errors.map(\.description)
      return outcome
    case .nftArtifact:
      var outcome = FuzzOutcome(findings: [], rendered: "")
      for input in [bytes, Self.resealed(bytes)] {
        do {
          let artifact = try NftablesArtifact(decoding: input)
          outcome.rendered += "a valid artifact for table \(artifact.header.table)\n"
        } catch {
          outcome.findings.append("\(error)")
          outcome.rendered += "\(error)\n"
        }
      }
      return outcome
    case .csaf:
      switch CSAFReader.read(bytes, file: "fuzz.json") {
      case .success(let advisory):
        let products = advisory.products.map { "\($0.productID) \($0.name ?? "-") \($0.versions?.description ?? "-")" }
        let assets = advisory.products.prefix(64).enumerated().map { index, product in
          AssetIdentity(
            name: "asset-\(index)", vendor: product.vendor, product: product.name, model: product.modelNumbers.first,
            version: index % 2 == 0 ? "1.0" : product.name)
        }
        let matches = AdvisoryMatcher(assets: assets).matches(advisory).map {
          "\($0.asset) \($0.productID) \($0.evidence.rawValue) \(advisory.vulnerabilities(of: $0.productID).count)"
        }
        let ports = advisory.namedPorts.map(\.description)
        return FuzzOutcome(
          findings: advisory.problems.map(\.description),
          rendered: ([advisory.id] + products + advisory.vulnerabilities.map { $0.cve ?? "-" } + matches + ports)
            .joined(separator: "\n"))
      case .failure(let error):
        return FuzzOutcome(findings: [error.description], rendered: error.description)
      }
    }
  }
}

extension FuzzEntry {
  /// `bytes` with their last 32 bytes replaced by the SHA-256 of the bytes before them.
  static func resealed(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.count >= 32 else { return bytes }
    let sealed = bytes.dropLast(32)
    return Array(sealed) + SHA256.hash(data: sealed)
  }
}

/// The result of one fuzz input.
public struct FuzzOutcome: Sendable {
  /// Every problem found: a diagnostic's check id and message, a reader's error (warnings too).
  public var findings: [String]
  /// What the user would see (the rendered diagnostics, or the decoded artifact's table).
  public var rendered: String
}

/// The policy entry's input format and pipeline.
enum PolicyInput {
  /// The start of the line that separates the policy from its baseline; the line ends in `csv` or `json`.
  static let separatorStart = Array("\n--- baseline.".utf8)

  /// The policy and, after the first separator line, the baseline with its path extension.
  static func split(_ bytes: [UInt8]) -> (policy: [UInt8], baseline: (bytes: [UInt8], pathExtension: String)?) {
    var lineEnd = bytes.startIndex
    while let start = bytes[lineEnd...].firstIndex(of: UInt8(ascii: "\n")) {
      lineEnd = start + 1
      guard bytes[start...].starts(with: separatorStart) else { continue }
      let rest = bytes[(start + separatorStart.count)...]
      for pathExtension in ["csv", "json"] where rest.starts(with: (pathExtension + "\n").utf8) {
        let baselineStart = start + separatorStart.count + pathExtension.utf8.count + 1
        return (Array(bytes[..<start]), (Array(bytes[baselineStart...]), pathExtension))
      }
    }
    return (bytes, nil)
  }

  /// Parses, resolves and checks `policy` against `baseline`. Both are written to a directory of their own and read
  /// back the way the command line reads them; the policy's `include` and `baseline` statements name no file that
  /// is read (the baseline is given as `--baseline` is), so an input never reaches outside that directory. Inputs
  /// are checked one at a time, always at the same paths, so that the same input gives the same diagnostics.
  /// The source files read from that directory are forgotten after each input: kept, they would grow the heap input
  /// by input, and libFuzzer runs a leak check (a scan of the whole heap) after every input that allocates more than
  /// it frees.
  static func check(policy: [UInt8], baseline: (bytes: [UInt8], pathExtension: String)) -> FuzzOutcome {
    inputDirectory.lock.withLock {
      let policyPath = inputDirectory.path + "/policy.conduit"
      let baselinePath = inputDirectory.path + "/baseline." + baseline.pathExtension
      write(policy, to: policyPath)
      write(baseline.bytes, to: baselinePath)
      defer {
        unlink(policyPath)
        unlink(baselinePath)
      }
      return SourceFile.forgettingFiles(under: inputDirectory.path + "/") {
        check(policyPath: policyPath, baselinePath: baselinePath)
      }
    }
  }

  /// The directory inputs are written to: one per process, removed when the process exits normally. It is made in
  /// CONDUIT_FUZZ_INPUT_DIRECTORY (scripts/fuzz gives one it removes, since libFuzzer's exits skip `atexit`), else in
  /// memory (/dev/shm) where there is one, since the fuzzers write two files per input.
  static let inputDirectory: (path: String, lock: NSLock) = {
    let parent =
      ProcessInfo.processInfo.environment["CONDUIT_FUZZ_INPUT_DIRECTORY"]
      ?? (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    var template = Array((parent + "/conduit-fuzz-XXXXXX").utf8CString)
    guard let created = mkdtemp(&template) else { fatalError("cannot create a directory in '\(parent)'") }
    atexit { rmdir(PolicyInput.inputDirectory.path) }
    return (String(cString: created), NSLock())
  }()

  private static func write(_ bytes: [UInt8], to path: String) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600)
    guard descriptor >= 0 else { fatalError("cannot write the fuzz input to '\(path)'") }
    defer { close(descriptor) }
    var written = 0
    while written < bytes.count {
      let count = bytes.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + written, $0.count - written) }
      guard count > 0 else { fatalError("cannot write the fuzz input to '\(path)'") }
      written += count
    }
  }

  private static func check(policyPath: String, baselinePath: String) -> FuzzOutcome {
    var diagnostics = DiagnosticEngine()
    let source: SourceFile
    switch FileReader.readSource(policyPath) {
    case .success(let read): source = read
    case .failure(let error): return FuzzOutcome(findings: [error.description], rendered: error.description)
    }
    let parsed = Parser.parse(source, diagnostics: &diagnostics)
    let resolved: Policy
    do throws(InputFileError) {
      resolved = try Resolver.resolve(
        [parsed], options: ResolveOptions(baselinePath: baselinePath), diagnostics: &diagnostics)
    } catch {
      return FuzzOutcome(findings: [error.description], rendered: error.description)
    }
    Checker.check(resolved, options: CheckOptions(today: FixedInputs.today), diagnostics: &diagnostics)
    let found = diagnostics.diagnostics
    let rendered = TextDiagnosticRenderer().render(found) + JSONDiagnosticRenderer().render(found)
    return FuzzOutcome(findings: found.map { "\($0.id.rawValue): \($0.message)" }, rendered: rendered)
  }
}

/// The fixed half of the inputs that fuzz only one file.
enum FixedInputs {
  /// The day the checks take as today.
  static let today = CalendarDay("2026-06-01")!

  /// The policy the baseline entries check their baseline against: zones that hold the samples' address ranges,
  /// and rules by role and name pattern, so that baseline rows reach the zone, role and glob resolution.
  static let policy = Array(
    """
    site fuzz
    zone control { level 1; security-level 3; network 10.0.0.0/9, fd00::/9; tags sis }
    zone operations { level 3; security-level 2; network 10.128.0.0/9, 172.16.0.0/12, fd80::/9 }
    zone enterprise { level 4; security-level 1; network outside }
    service engineering s7comm, ssh, tcp/8000-8010
    conduit operations-control {
      between operations and control
      owner "ot-engineering"
      justification "supervision"
      allow role hmi, role scada -> role plc service modbus, s7comm log
      allow eng-* -> zone control service engineering
    }
    conduit enterprise-operations {
      between enterprise and operations
      owner "it"
      justification "reporting"
      allow zone enterprise -> role historian service https
    }

    """.utf8)

  /// The baseline the policy entry checks a policy against when the input carries none.
  static let baselineCSV = Array(
    """
    name,ip,role,vendor,model,firmware,criticality,sl-c,zone
    plc-1,10.40.0.10,plc,Siemens,SIMATIC S7-1500,V2.9.4,critical,3,control
    hmi-1,10.30.0.31,hmi,Siemens,SIMATIC IPC477E,,high,2,
    eng-ws-1,10.30.0.40;fd00:30::40,engineering,Dell,Precision 3660,,medium,2,

    """.utf8)
}
