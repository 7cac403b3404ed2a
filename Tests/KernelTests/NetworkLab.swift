import FlowSpace
import Foundation

/// One interface of a lab's gateway: its name there, the hosts behind it, and the prefixes routed through it.
struct LabInterface: Sendable, Hashable {
  /// The interface name inside the gateway namespace, as a ruleset names it (`eth1`, `ens2f0.40`, `br-ctl`, `a$b`):
  /// 1 to 15 bytes without whitespace, control characters or what `ip -batch` reads (`"`, `'`, `\`, `#`), `/` or `:`.
  var name: String
  /// The addresses of the hosts behind the interface, IPv4 or IPv6; each gets its own address in the side namespace.
  var hosts: [String]
  /// The prefixes the gateway routes through this interface (`0.0.0.0/0` and `::/0` too); hosts outside them get a
  /// host route of their own.
  var prefixes: [String]

  /// Describes an interface named `name` with `hosts` behind it and `prefixes` routed through it.
  init(_ name: String, hosts: [String], prefixes: [String] = []) {
    self.name = name
    self.hosts = hosts
    self.prefixes = prefixes
  }
}

/// A mistake in a lab description or a probe, or a lab step that failed.
enum NetworkLabError: Error, CustomStringConvertible, Sendable {
  /// The lab description is invalid.
  case invalidDescription(String)
  /// A probe names an address or interface the lab does not have, or cannot cross the gateway.
  case invalidProbe(Probe, String)
  /// The namespaces could not be set up as described.
  case setupFailed(String)
  /// A listener or client could not even start (a harness failure, not a blocked packet).
  case probeFailed(Probe?, String)
  /// The lab is closed.
  case closed

  /// A readable explanation.
  var description: String {
    switch self {
    case .invalidDescription(let reason): "invalid lab: \(reason)"
    case .invalidProbe(let probe, let reason): "invalid probe \(probe): \(reason)"
    case .setupFailed(let reason): "lab setup failed: \(reason)"
    case .probeFailed(let probe?, let reason): "probe \(probe) could not run: \(reason)"
    case .probeFailed(nil, let reason): "probe could not run: \(reason)"
    case .closed: "the lab is closed"
    }
  }
}

/// The packet and byte counts of one rule of the gateway's ruleset that has a counter.
struct RuleCounter: Sendable, Hashable {
  /// The rule as the listing prints it, without its counter (nft) or its `[packets:bytes]` prefix (iptables-save).
  var rule: String
  /// Packets counted.
  var packets: Int
  /// Bytes counted.
  var bytes: Int
}

/// A gateway in a network namespace with one side namespace per interface holding the hosts behind it.
///
/// The gateway forwards IPv4 and IPv6 between its interfaces (rp_filter off) and routes each interface's prefixes to
/// that side. Each side namespace holds its hosts' addresses on `lo` and a default route via the gateway. Interface
/// `n` (from 0) is a veth pair on transit subnet `100.64.0.4n/30` and `fd00:cd7:0:n::/64`: the gateway is `.1` /
/// `::1`, the side `.2` / `::2`. Rules load into the gateway namespace only; nothing touches the host's namespace.
/// `close()` (or `deinit`) kills what runs in the lab's namespaces and deletes them.
final class NetworkLab {
  /// The gateway namespace, `cdt-<id>-gw`.
  let gatewayNamespace: String
  /// The side namespace of each interface, in the order of `interfaces`: `cdt-<id>-1`, `cdt-<id>-2`, ….
  let sideNamespaces: [String]
  /// The interfaces as described.
  let interfaces: [LabInterface]
  /// How long a probe waits for a TCP handshake, an echo reply or a datagram, in seconds.
  var probeTimeout: Double

  /// The programs the lab runs.
  let tools: KernelTools
  /// The six hex digits in the lab's names.
  let identifier: String
  /// A temporary directory for listener and client output, deleted by `close()`.
  let workDirectory: URL
  /// The index in `interfaces` of the side holding each host.
  let hostSides: [IPAddress: Int]
  /// How many probe batches have run, for unique tokens and file names.
  var batchCount = 0
  private let ownerRecord: URL
  private var createdNamespaces: [String] = []
  /// Whether `close()` has run.
  private(set) var isClosed = false

  /// Builds the namespaces, links, addresses and routes described by `interfaces`.
  ///
  /// Throws `KernelTestsUnavailable` when kernel tests cannot run here, and `NetworkLabError.invalidDescription`
  /// for a bad description.
  init(interfaces: [LabInterface], probeTimeout: Double = 1.0) throws {
    hostSides = try Self.validate(interfaces)
    tools = try KernelTestGate.requireCapability()
    _ = NetworkLab.removeAbandonedLabs
    self.interfaces = interfaces
    self.probeTimeout = probeTimeout
    var identifier = Self.randomIdentifier()
    while FileManager.default.fileExists(atPath: "/run/netns/cdt-\(identifier)-gw") {
      identifier = Self.randomIdentifier()
    }
    self.identifier = identifier
    gatewayNamespace = "cdt-\(identifier)-gw"
    sideNamespaces = interfaces.indices.map { "cdt-\(identifier)-\($0 + 1)" }
    workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("cdt-\(identifier)")
    ownerRecord = Self.ownerDirectory.appendingPathComponent(identifier)
    do {
      try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
      try build()
    } catch {
      close()
      throw error
    }
  }

  deinit {
    close()
  }

  /// All the lab's namespaces: the gateway first, then the sides.
  var namespaces: [String] {
    [gatewayNamespace] + sideNamespaces
  }

  /// The gateway's own address on the transit link of `interface`: what a host behind it reaches the gateway at.
  func gatewayAddress(on interface: String, family: AddressFamily) throws -> String {
    guard let index = interfaces.firstIndex(where: { $0.name == interface }) else {
      throw NetworkLabError.invalidDescription("the gateway has no interface \(interface)")
    }
    return Self.transitAddress(index: index, family: family, gatewaySide: true)
  }

  /// Kills every process left in the lab's namespaces, deletes the namespaces and the lab's files. Safe to repeat.
  func close() {
    guard !isClosed else { return }
    isClosed = true
    Self.remove(namespaces: createdNamespaces, ip: tools.ip)
    try? FileManager.default.removeItem(at: workDirectory)
    try? FileManager.default.removeItem(at: ownerRecord)
  }

  /// The names of all network namespaces on this machine (`ip netns list`).
  static func existingNamespaces() throws -> Set<String> {
    let ip = try KernelTestGate.requireCapability().ip
    let listing = try Command.run(ip, ["netns", "list"]).check("ip netns list").standardOutput
    return Set(listing.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
  }

  /// Six random lowercase hex digits.
  static func randomIdentifier() -> String {
    String(format: "%06x", UInt32.random(in: 0..<0x100_0000))
  }

  // MARK: Rules

  /// Loads an nft script into the gateway namespace with `nft -f -`.
  func loadNftables(script: String) throws {
    try runInGateway(tools.nft, ["-f", "-"], input: script).check("nft -f - in \(gatewayNamespace)")
  }

  /// Loads `iptables-restore` input for IPv4 and `ip6tables-restore` input for IPv6 into the gateway namespace.
  func loadIptables(ipv4: String?, ipv6: String?) throws {
    if let ipv4 {
      try runInGateway(tools.iptablesRestore, [], input: ipv4).check("iptables-restore in \(gatewayNamespace)")
    }
    if let ipv6 {
      try runInGateway(tools.ip6tablesRestore, [], input: ipv6).check("ip6tables-restore in \(gatewayNamespace)")
    }
  }

  /// Removes every table from the gateway namespace (`nft flush ruleset`), including those iptables-nft made.
  func flushRuleset() throws {
    try runInGateway(tools.nft, ["flush", "ruleset"]).check("nft flush ruleset in \(gatewayNamespace)")
  }

  /// The gateway's ruleset as `nft list ruleset` prints it.
  func nftListRuleset() throws -> String {
    try runInGateway(tools.nft, ["list", "ruleset"]).check("nft list ruleset in \(gatewayNamespace)").standardOutput
  }

  /// The gateway's ruleset as `nft list ruleset` prints it, with the elements of every set one to a line and
  /// sorted: the kernel lists a hash set's elements in the order of its buckets, which a random seed per set decides,
  /// so two loads of one table list the same elements in different orders.
  func nftListRulesetWithSortedElements() throws -> String {
    Self.sortingElements(try nftListRuleset())
  }

  /// `listing` with the elements of every `elements = { … }` one to a line and sorted.
  static func sortingElements(_ listing: String) -> String {
    var lines: [Substring] = []
    var elements: [Substring]?
    for line in listing.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if elements == nil, let start = line.range(of: "elements = { ") {
        lines.append(line[..<start.upperBound])
        elements = [line[start.upperBound...]]
      } else if elements != nil {
        elements?.append(Substring(trimmed))
      } else {
        lines.append(line)
      }
      if let collected = elements, trimmed.hasSuffix("}") {
        let joined = collected.joined(separator: " ")
        let items = joined.dropLast(joined.hasSuffix(" }") ? 2 : 1).split(separator: ", ").map {
          $0.trimmingCharacters(in: .whitespaces)
        }
        lines += items.sorted().map { "\t\t\t" + Substring($0) }
        lines.append("\t\t}")
        elements = nil
      }
    }
    return lines.joined(separator: "\n")
  }

  /// The rules of one nft chain that have a `counter`, in order, with their counts.
  func nftRuleCounters(family: String = "inet", table: String, chain: String) throws -> [RuleCounter] {
    let listing = try runInGateway(tools.nft, ["list", "chain", family, table, chain])
      .check("nft list chain \(family) \(table) \(chain) in \(gatewayNamespace)").standardOutput
    let counter = /counter packets (\d+) bytes (\d+)/
    return listing.split(separator: "\n").compactMap { line in
      guard let match = line.firstMatch(of: counter) else { return nil }
      let rule = line.replacing(counter, with: "counter").trimmingCharacters(in: .whitespaces)
      return RuleCounter(rule: rule, packets: Int(match.1) ?? 0, bytes: Int(match.2) ?? 0)
    }
  }

  /// The rules of one iptables (or, with `ipv6`, ip6tables) chain with their counts, from `iptables-save -c`.
  func iptablesRuleCounters(ipv6: Bool = false, table: String = "filter", chain: String) throws -> [RuleCounter] {
    let save = ipv6 ? tools.ip6tablesSave : tools.iptablesSave
    let listing = try runInGateway(save, ["-c", "-t", table]).check("\(save) -c in \(gatewayNamespace)").standardOutput
    let rule = /^\[(\d+):(\d+)\] (-A (\S+) .*)$/
    return listing.split(separator: "\n").compactMap { line in
      guard let match = line.wholeMatch(of: rule), match.4 == chain else { return nil }
      return RuleCounter(rule: String(match.3), packets: Int(match.1) ?? 0, bytes: Int(match.2) ?? 0)
    }
  }

  /// Runs a program inside the gateway namespace.
  func runInGateway(_ executable: String, _ arguments: [String], input: String? = nil) throws -> CommandOutput {
    guard !isClosed else { throw NetworkLabError.closed }
    return try Command.run(tools.ip, ["netns", "exec", gatewayNamespace, executable] + arguments, input: input)
  }

  // MARK: Building

  private static func validate(_ interfaces: [LabInterface]) throws -> [IPAddress: Int] {
    guard !interfaces.isEmpty else { throw NetworkLabError.invalidDescription("a gateway needs an interface") }
    let refused = Set("\"'\\#/:".unicodeScalars)
    let transit = [IPPrefix("100.64.0.0/10")!, IPPrefix("fd00:cd7::/32")!]
    var names: Set<String> = []
    var hostSides: [IPAddress: Int] = [:]
    for (index, interface) in interfaces.enumerated() {
      let name = interface.name
      let isPlain = name.unicodeScalars.allSatisfy {
        $0.value > 0x20 && $0.value != 0x7F && !$0.properties.isWhitespace && !refused.contains($0)
      }
      guard (1...15).contains(name.utf8.count), isPlain, name != ".", name != "..", name != "lo" else {
        throw NetworkLabError.invalidDescription(
          "interface name \"\(name)\" must be 1 to 15 bytes without whitespace, control characters or \"'\\#/:")
      }
      guard names.insert(name).inserted else { throw NetworkLabError.invalidDescription("two interfaces \(name)") }
      for text in interface.hosts {
        guard let host = IPAddress(text) else {
          throw NetworkLabError.invalidDescription("host \(text) behind \(name) is not an address")
        }
        guard !transit.contains(where: { $0.contains(host) }) else {
          throw NetworkLabError.invalidDescription("host \(text) lies in the lab's transit ranges \(transit)")
        }
        guard hostSides.updateValue(index, forKey: host) == nil else {
          throw NetworkLabError.invalidDescription("host \(text) is behind two interfaces")
        }
      }
      for text in interface.prefixes {
        guard let prefix = IPPrefix(text) else {
          throw NetworkLabError.invalidDescription("prefix \(text) behind \(name) is not a prefix")
        }
        guard !transit.contains(where: { $0.contains(prefix) }) else {
          throw NetworkLabError.invalidDescription("prefix \(text) lies in the lab's transit ranges \(transit)")
        }
      }
    }
    return hostSides
  }

  private func build() throws {
    for namespace in namespaces {
      try writeOwnerRecord(adding: namespace)
      try Command.run(tools.ip, ["netns", "add", namespace]).check("ip netns add \(namespace)")
      createdNamespaces.append(namespace)
    }
    try writeOwnerRecord(adding: nil)
    var settings = [
      "net/ipv4/conf/all/rp_filter=0", "net/ipv4/conf/default/rp_filter=0", "net/ipv6/conf/all/accept_dad=0",
      "net/ipv6/conf/default/accept_dad=0",
    ]
    for namespace in sideNamespaces { try writeSysctls(settings, in: namespace) }
    settings += ["net/ipv4/ip_forward=1", "net/ipv6/conf/all/forwarding=1"]
    try writeSysctls(settings, in: gatewayNamespace)

    var gateway = ["link set lo up"]
    var sides: [[String]] = []
    var routes: [String] = []
    for (index, interface) in interfaces.enumerated() {
      let gatewayV4 = Self.transitAddress(index: index, family: .ipv4, gatewaySide: true)
      let gatewayV6 = Self.transitAddress(index: index, family: .ipv6, gatewaySide: true)
      let sideV4 = Self.transitAddress(index: index, family: .ipv4, gatewaySide: false)
      let sideV6 = Self.transitAddress(index: index, family: .ipv6, gatewaySide: false)
      // A veth with the same index as its peer gets its carrier late (non-urgent linkwatch): IPv6 fails for ~1 s.
      gateway += [
        "link add name \(interface.name) index \(10 + index) type veth peer name uplink netns \(sideNamespaces[index])",
        "addr add \(gatewayV4)/30 dev \(interface.name)", "addr add \(gatewayV6)/64 dev \(interface.name) nodad",
        "link set \(interface.name) up",
      ]
      let hosts = interface.hosts.compactMap { IPAddress($0) }
      sides.append(
        ["link set lo up"]
          + hosts.map { $0.family == .ipv4 ? "addr add \($0)/32 dev lo" : "addr add \($0)/128 dev lo nodad" }
          + [
            "addr add \(sideV4)/30 dev uplink", "addr add \(sideV6)/64 dev uplink nodad", "link set uplink up",
            "route add default via \(gatewayV4)", "route add default via \(gatewayV6)",
          ])
      let prefixes = interface.prefixes.compactMap { IPPrefix($0) }
      let uncovered = hosts.filter { host in !prefixes.contains { $0.contains(host) } }.map { IPPrefix(host: $0) }
      routes += (prefixes + uncovered).map { prefix in
        "route add \(prefix) via \(prefix.family == .ipv4 ? sideV4 : sideV6) dev \(interface.name)"
      }
    }
    try runBatch(gateway, in: gatewayNamespace)
    for (commands, namespace) in zip(sides, sideNamespaces) { try runBatch(commands, in: namespace) }
    try runBatch(routes, in: gatewayNamespace)
    try waitUntilLinksAreUp()
  }

  /// Waits for the kernel to report every veth up: until then IPv6 has no link-local address and drops packets.
  private func waitUntilLinksAreUp() throws {
    let deadline = Date().addingTimeInterval(5)
    var pending = namespaces
    while !pending.isEmpty {
      pending = try pending.filter { namespace in
        let links = try Command.run(tools.ip, ["-n", namespace, "-br", "link", "show"]).check("ip link in \(namespace)")
        return links.standardOutput.split(separator: "\n").contains { line in
          let columns = line.split(separator: " ", omittingEmptySubsequences: true)
          return columns.count > 1 && columns[0] != "lo" && columns[1] != "UP"
        }
      }
      guard Date() < deadline else { throw NetworkLabError.setupFailed("links still down after 5 s in \(pending)") }
      if !pending.isEmpty { usleep(10_000) }
    }
  }

  private func runBatch(_ commands: [String], in namespace: String) throws {
    guard !commands.isEmpty else { return }
    try Command.run(tools.ip, ["-n", namespace, "-batch", "-"], input: commands.joined(separator: "\n") + "\n")
      .check("ip -n \(namespace) -batch")
  }

  private func writeSysctls(_ settings: [String], in namespace: String) throws {
    let script = #"for setting; do echo "${setting#*=}" > "/proc/sys/${setting%%=*}" || exit 1; done"#
    try Command.run(tools.ip, ["netns", "exec", namespace, tools.shell, "-c", script, "sysctl"] + settings)
      .check("sysctls in \(namespace)")
  }

  /// The address of the gateway's (or, with `gatewaySide` false, the side's) end of transit link `index`.
  static func transitAddress(index: Int, family: AddressFamily, gatewaySide: Bool) -> String {
    switch family {
    case .ipv4:
      let base = UInt32(100) << 24 | UInt32(64) << 16
      return IPv4Address(base + UInt32(index) * 4 + (gatewaySide ? 1 : 2)).description
    case .ipv6:
      return "fd00:cd7:0:\(String(index, radix: 16))::\(gatewaySide ? 1 : 2)"
    }
  }

  // MARK: Cleanup

  private static let ownerDirectory = URL(fileURLWithPath: "/run/conduit-kernel-tests")

  /// Records this process as the owner of the namespaces created so far and of `namespace`, about to be created.
  private func writeOwnerRecord(adding namespace: String?) throws {
    try FileManager.default.createDirectory(at: Self.ownerDirectory, withIntermediateDirectories: true)
    let owned = createdNamespaces + (namespace.map { [$0] } ?? [])
    let record = ([Self.processStamp(getpid()) ?? "", workDirectory.path] + owned).joined(separator: "\n")
    try Data(record.utf8).write(to: ownerRecord)
  }

  private static func remove(namespaces: [String], ip: String) {
    for namespace in namespaces {
      let pids = (try? Command.run(ip, ["netns", "pids", namespace]).standardOutput) ?? ""
      for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
    }
    for namespace in namespaces {
      _ = try? Command.run(ip, ["netns", "delete", namespace])
    }
  }

  /// A process id and its start time, which together name one process even when ids are reused.
  private static func processStamp(_ pid: Int32) -> String? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
      let end = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    return fields.count > 19 ? "\(pid) \(fields[19])" : nil
  }

  /// Deletes the namespaces and files of labs whose test process died without closing them (killed, or crashed).
  /// Each lab records its owner (process id and start time) in `/run/conduit-kernel-tests`. Runs once per process.
  private static let removeAbandonedLabs: Void = {
    guard let ip = try? KernelTestGate.requireCapability().ip,
      let records = try? FileManager.default.contentsOfDirectory(at: ownerDirectory, includingPropertiesForKeys: nil)
    else { return }
    for record in records {
      guard let lines = try? String(contentsOf: record, encoding: .utf8).split(separator: "\n").map(String.init),
        let owner = lines.first
      else { continue }
      let pid = owner.split(separator: " ").first.flatMap { Int32($0) } ?? 0
      guard pid > 0, processStamp(pid) != owner else { continue }
      remove(namespaces: lines.dropFirst(2).filter { $0.hasPrefix("cdt-") }, ip: ip)
      if lines.count > 1, URL(fileURLWithPath: lines[1]).lastPathComponent.hasPrefix("cdt-") {
        try? FileManager.default.removeItem(atPath: lines[1])
      }
      try? FileManager.default.removeItem(at: record)
    }
  }()
}
