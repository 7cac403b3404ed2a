import Foundation
import PolicyTestSupport
import Testing

/// The absolute paths of the programs that kernel tests run.
struct KernelTools: Sendable {
  /// `ip` from iproute2.
  var ip: String
  /// `nft` from nftables.
  var nft: String
  /// `iptables-restore`.
  var iptablesRestore: String
  /// `ip6tables-restore`.
  var ip6tablesRestore: String
  /// `iptables-save`.
  var iptablesSave: String
  /// `ip6tables-save`.
  var ip6tablesSave: String
  /// The Python 3 interpreter itself (not a shim that starts it), for listeners and clients.
  var python: String
  /// A POSIX shell, for writing sysctls inside a namespace.
  var shell: String
}

/// Why kernel tests cannot run here.
struct KernelTestsUnavailable: Error, CustomStringConvertible, Sendable {
  /// What is missing, e.g. "not running as root".
  var reason: String

  /// The reason, with how the gate treats it.
  var description: String {
    "kernel tests cannot run: \(reason)"
      + (KernelTestGate.isRequired ? " (and \(KernelTestGate.requiredVariable)=1 requires them)" : "")
  }
}

/// Decides whether tests that need network namespaces run, are skipped, or fail.
///
/// Kernel tests need root and a working `ip netns`. Where either is missing they are skipped, unless
/// `CONDUIT_REQUIRE_KERNEL_TESTS=1` is set (as in CI): then `available` is true anyway, so the test runs and fails when
/// it builds its `NetworkLab`, with the reason. Gate a test with `@Test(.kernelTests)`, or with
/// `@Test(.enabled(if: KernelTestGate.available))`.
enum KernelTestGate {
  /// The environment variable that turns a missing capability from a skip into a failure.
  static let requiredVariable = KernelTestRequirement.variable

  /// Whether kernel tests must run (the environment sets `CONDUIT_REQUIRE_KERNEL_TESTS=1`).
  static var isRequired: Bool { KernelTestRequirement.isRequired }

  /// Whether a gated test should run: when the capability is there, or when it is required (to fail if missing).
  static var available: Bool {
    isRequired || missingCapability == nil
  }

  /// Why kernel tests cannot run, or nil when they can. Checked once per process.
  static var missingCapability: String? {
    if case .failure(let failure) = capability { return failure.reason }
    return nil
  }

  /// The tools to use, or the reason kernel tests cannot run.
  static func requireCapability() throws -> KernelTools {
    try capability.get()
  }

  private static let capability: Result<KernelTools, KernelTestsUnavailable> = checkCapability()

  private static func checkCapability() -> Result<KernelTools, KernelTestsUnavailable> {
    if let missing = KernelTestRequirement.missingNamespaces(probe: "cdt-\(NetworkLab.randomIdentifier())-gate") {
      return .failure(KernelTestsUnavailable(reason: missing))
    }
    let names = [
      "ip", "nft", "iptables-restore", "ip6tables-restore", "iptables-save", "ip6tables-save", "python3", "sh",
    ]
    var paths: [String: String] = [:]
    for name in names {
      guard let path = KernelTestRequirement.locate(name) else {
        return .failure(KernelTestsUnavailable(reason: "`\(name)` is not installed"))
      }
      paths[name] = path
    }
    let python: String
    do {
      python = try Command.run(paths["python3"]!, ["-I", "-S", "-c", "import sys; print(sys.executable)"])
        .check("python3").standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    } catch {
      return .failure(KernelTestsUnavailable(reason: "python3 does not run: \(error)"))
    }
    return .success(
      KernelTools(
        ip: paths["ip"]!, nft: paths["nft"]!, iptablesRestore: paths["iptables-restore"]!,
        ip6tablesRestore: paths["ip6tables-restore"]!, iptablesSave: paths["iptables-save"]!,
        ip6tablesSave: paths["ip6tables-save"]!, python: python.isEmpty ? paths["python3"]! : python,
        shell: paths["sh"]!))
  }
}

extension Trait where Self == ConditionTrait {
  /// Runs the test where kernel tests can run, and also where they are required (so that it fails there).
  static var kernelTests: Self {
    .enabled(
      if: KernelTestGate.available,
      "needs root and `ip netns`; \(KernelTestGate.requiredVariable)=1 turns this skip into a failure")
  }
}
