import FirewallIR
import FlowSpace
import PolicyLanguage

/// The names the nftables backends give to conduit's table, chains, sets and maps.
public struct NftablesNames: Sendable {
  /// `conduit_SITE` (or `conduit`).
  public var table: String
  /// Per chain of the ruleset: the conduit's chain.
  public var conduitChains: [String]
  /// Per chain of the ruleset: its logging chain.
  public var logChains: [String]

  /// The longest table, chain or set name the kernel accepts (NFT_NAME_MAXLEN, 256 with its NUL).
  public static let maximumNameBytes = GeneratedName.nftablesMaximumBytes

  /// Names for a ruleset: policy names with the characters nft cannot write replaced by `_` and, when longer than
  /// the kernel's limit, shortened with a hash suffix. Two conduits whose names become the same chain name are a
  /// `name-collision` error (the checker reports them first; this is the backend's own guard).
  public init(_ ruleset: Ruleset, diagnostics: inout DiagnosticEngine) {
    table = GeneratedName.shortened(
      "conduit" + (ruleset.site.map { "_" + GeneratedName.nftablesIdentifier($0) } ?? ""),
      toBytes: Self.maximumNameBytes)
    conduitChains = ruleset.chains.map { GeneratedName.nftablesConduitChain($0.conduit) }
    logChains = conduitChains.map { $0 + "_log" }
    var owners: [String: ConduitChain] = [:]
    for (index, chain) in ruleset.chains.enumerated() {
      for name in [conduitChains[index], logChains[index]] {
        if let first = owners[name], first.conduitID != chain.conduitID {
          diagnostics.error(
            .nameCollision,
            "conduit '\(chain.conduit)' and conduit '\(first.conduit)' both become the nftables chain '\(name)'",
            at: chain.range, notes: [DiagnosticNote("conduit '\(first.conduit)' is declared here", at: first.range)])
        }
        owners[name] = owners[name] ?? chain
      }
    }
  }
}

/// Renders a ruleset as an `nft -f` script that replaces conduit's table: `table` (create), `delete table`, then
/// the whole table, so loading it twice or over an older version is harmless.
public struct NftablesTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The script, with the identity chain when `identity` is given.
  public func render(_ ruleset: Ruleset, names: NftablesNames, identity: NftablesIdentity? = nil) -> String {
    let program = NftablesProgram(ruleset, names: names, identity: identity)
    var out = TextWriter()
    let table = "inet \(program.table)"
    out.line(
      "# conduit ruleset"
        + (ruleset.gateway.map { " for gateway \(NftablesString.sanitized($0))" }
          ?? " (address matching only, no gateway)"))
    if !ruleset.mitigations.isEmpty {
      out.line("# mitigations: \(NftablesString.sanitized(ruleset.mitigations.joined(separator: ", ")))")
    }
    out.line("table \(table)")
    out.line("delete table \(table)")
    out.open("table \(table)")
    for set in program.sets { render(set, &out) }
    for chain in program.chains { render(chain, &out) }
    out.close()
    return out.text
  }

  private func render(_ set: ProgramSet, _ out: inout TextWriter) {
    out.open("\(set.isVerdictMap ? "map" : "set") \(set.name)")
    let key = set.key.map(\.nftName).joined(separator: " . ")
    let flags =
      (set.isInterval ? ["interval"] : []) + (set.isDynamic ? ["dynamic"] : [])
      + (set.timeoutSeconds != nil ? ["timeout"] : [])
    out.line(
      "type \(key)" + (set.isVerdictMap ? " : verdict" : "")
        + (flags.isEmpty ? "" : "; flags " + flags.joined(separator: ","))
        + (set.timeoutSeconds.map { "; timeout \($0)s" } ?? "") + (set.size.map { "; size \($0)" } ?? "")
        + (set.counter ? "; counter" : ""))
    if !set.elements.isEmpty {
      out.open("elements =")
      for (index, element) in set.elements.enumerated() {
        let verdict = element.jump.map { " : jump \($0)" } ?? ""
        let comment = element.comment.map { " comment \(NftablesString.quoted($0))" } ?? ""
        out.line(fields(element) + comment + verdict + (index == set.elements.count - 1 ? "" : ","))
      }
      out.close()
    }
    out.close()
  }

  private func fields(_ element: ProgramElement) -> String {
    zip(element.low, element.high).map { low, high in
      switch (low, high) {
      case (.interface(let name), _): return "\"" + NftablesString.interfaceName(name) + "\""
      case (.address(let first), .address(let last)): return AddressRange(first: first, last: last).description
      case (.protocolNumber(let first), .protocolNumber(let last)):
        if first == last, let name = Self.protocolNames[first] { return name }
        return first == last ? "\(first)" : "\(first)-\(last)"
      case (.port(let first), .port(let last)):
        return first == last ? "\(first)" : "\(first)-\(last)"
      case (.icmpType(let first), .icmpType(let last)):
        return first == last ? "\(first)" : "\(first)-\(last)"
      default: return "?"
      }
    }.joined(separator: " . ")
  }

  private func render(_ chain: ProgramChain, _ out: inout TextWriter) {
    out.open("chain \(chain.name)")
    switch chain.hook {
    case .forward: out.line("type filter hook forward priority filter; policy drop;")
    case .input: out.line("type filter hook input priority filter; policy drop;")
    case nil: break
    }
    if let comment = chain.comment { out.line("comment \(NftablesString.quoted(comment))") }
    for rule in chain.rules { out.line(rule.map(text).joined(separator: " ")) }
    out.close()
  }

  private func text(_ statement: ProgramStatement) -> String {
    switch statement {
    case .ctState(let invalid): invalid ? "ct state invalid" : "ct state established,related"
    case .nfproto(let family): "meta nfproto \(family == .ipv4 ? "ipv4" : "ipv6")"
    case .l4protoIn(let numbers):
      "meta l4proto { \(numbers.map { Self.protocolNames[$0] ?? "\($0)" }.joined(separator: ", ")) }"
    case .l4protoNotIn(let numbers):
      "meta l4proto != { \(numbers.map { Self.protocolNames[$0] ?? "\($0)" }.joined(separator: ", ")) }"
    case .l4proto(let number): "meta l4proto \(Self.protocolNames[number] ?? "\(number)")"
    case .icmpv6TypeIn(let types):
      "icmpv6 type { \(types.map { Self.icmpv6Names[$0] ?? "\($0)" }.joined(separator: ", ")) }"
    case .hopLimit(let limit): "ip6 hoplimit \(limit)"
    case .loopbackInput: "iif lo"
    case .lookup(let fields, let set, let inverted, let verdictMap):
      fields.map(text).joined(separator: " . ") + (verdictMap ? " vmap @\(set)" : inverted ? " != @\(set)" : " @\(set)")
    case .update(let fields, let set): "update @\(set) { \(fields.map(text).joined(separator: " . ")) }"
    case .counter: "counter"
    case .timeAtLeast(let seconds): "meta time >= \(seconds)"
    case .limitPerSecond(let rate): "limit rate \(rate)/second"
    case .log(let prefix): "log prefix \(NftablesString.quoted(prefix))"
    case .accept: "accept"
    case .drop: "drop"
    case .goto(let chain): "goto \(chain)"
    }
  }

  private func text(_ field: ProgramField) -> String {
    switch field {
    case .inputInterface: "iifname"
    case .outputInterface: "oifname"
    case .ipv4Source: "ip saddr"
    case .ipv4Destination: "ip daddr"
    case .ipv6Source: "ip6 saddr"
    case .ipv6Destination: "ip6 daddr"
    case .l4proto: "meta l4proto"
    case .destinationPort: "th dport"
    case .icmpType: "icmp type"
    case .icmpv6Type: "icmpv6 type"
    }
  }

  static let protocolNames: [UInt8: String] = [6: "tcp", 17: "udp", 1: "icmp", 58: "icmpv6"]
  static let icmpv6Names: [UInt8: String] = [
    133: "nd-router-solicit", 134: "nd-router-advert", 135: "nd-neighbor-solicit", 136: "nd-neighbor-advert",
  ]
}

/// Indented lines.
struct TextWriter {
  private(set) var text = ""
  private var depth = 0

  mutating func line(_ content: String) {
    text += String(repeating: "  ", count: depth) + content + "\n"
  }

  /// `header {` and one level deeper.
  mutating func open(_ header: String) {
    line(header + " {")
    depth += 1
  }

  /// One level back and `}`.
  mutating func close() {
    depth -= 1
    line("}")
  }
}
