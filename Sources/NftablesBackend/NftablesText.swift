import FirewallIR
import FlowSpace
import PolicyLanguage
import PolicyModel

/// The names the nftables backends give to conduit's table, chains, sets and maps.
public struct NftablesNames: Sendable {
  /// `conduit_SITE` (or `conduit`).
  public var table: String
  /// Per chain of the ruleset: the conduit's chain.
  public var conduitChains: [String]
  /// Per chain of the ruleset: its logging chain.
  public var logChains: [String]

  /// Names for a ruleset; two conduits whose names map to the same chain name are a `name-collision` error.
  public init(_ ruleset: Ruleset, diagnostics: inout DiagnosticEngine) {
    table = "conduit" + (ruleset.site.map { "_" + Self.identifier($0) } ?? "")
    conduitChains = ruleset.chains.map { "c_" + Self.identifier($0.conduit) }
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

  /// Letters, digits and `_`; every other character becomes `_`.
  static func identifier(_ name: String) -> String {
    String(
      name.unicodeScalars.map { scalar in
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
          ? Character(scalar) : "_"
      })
  }
}

/// Renders a ruleset as an `nft -f` script that replaces conduit's table: `table` (create), `delete table`, then
/// the whole table, so loading it twice or over an older version is harmless.
public struct NftablesTextRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The script.
  public func render(_ ruleset: Ruleset, names: NftablesNames) -> String {
    var out = TextWriter()
    let table = "inet \(names.table)"
    out.line(
      "# conduit ruleset" + (ruleset.gateway.map { " for gateway \($0)" } ?? " (address matching only, no gateway)"))
    if !ruleset.mitigations.isEmpty { out.line("# mitigations: \(ruleset.mitigations.joined(separator: ", "))") }
    out.line("table \(table)")
    out.line("delete table \(table)")
    out.open("table \(table)")
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases { interfaceSet(ruleset, family, &out) }
    }
    for family in AddressFamily.allCases {
      for kind in MatchKind.kinds(of: family) { flowMap(ruleset, family, kind, names, &out) }
    }
    if let management = ruleset.management {
      for family in AddressFamily.allCases {
        for kind in MatchKind.kinds(of: family) { managementSet(management, family, kind, &out) }
      }
    }
    for (index, chain) in ruleset.chains.enumerated() {
      out.open("chain \(names.conduitChains[index])")
      out.line("counter accept")
      out.close()
      out.open("chain \(names.logChains[index])")
      out.line("log prefix \(quoted("conduit \(chain.conduit) ")) goto \(names.conduitChains[index])")
      out.close()
    }
    forwardChain(ruleset, &out)
    if ruleset.management != nil { inputChain(ruleset, &out) }
    out.close()
    return out.text
  }

  private func interfaceSet(_ ruleset: Ruleset, _ family: AddressFamily, _ out: inout TextWriter) {
    let members = ruleset.interfaceZones.filter { $0.addresses.family == family }
    out.open("set \(Self.zonesSet(family))")
    out.line("type ifname . \(Self.addressType(family)); flags interval")
    elements(members.map { "\(quoted($0.interface)) . \(address($0.addresses))" }, &out)
    out.close()
  }

  private func flowMap(
    _ ruleset: Ruleset, _ family: AddressFamily, _ kind: MatchKind, _ names: NftablesNames, _ out: inout TextWriter
  ) {
    guard let name = Self.flowMapName(family, kind) else { return }
    let members = ruleset.elements.filter { $0.family == family && (kind == $0.kind || Self.sharesMap(kind, $0.kind)) }
    out.open("map \(name)")
    let addressType = Self.addressType(family)
    out.line("type \(addressType) . \(addressType) . \(Self.selectorType(kind)) : verdict; flags interval; counter")
    elements(
      members.map { element in
        let chain = element.log ? names.logChains[element.chain] : names.conduitChains[element.chain]
        return
          "\(address(element.sources)) . \(address(element.destinations)) . \(selector(element)) : jump \(chain)"
      }, &out)
    out.close()
  }

  private func managementSet(
    _ management: [ManagementElement], _ family: AddressFamily, _ kind: MatchKind, _ out: inout TextWriter
  ) {
    guard let name = Self.managementSetName(family, kind) else { return }
    let members = management.filter { $0.family == family && (kind == $0.kind || Self.sharesMap(kind, $0.kind)) }
    out.open("set \(name)")
    out.line("type \(Self.addressType(family)) . \(Self.selectorType(kind)); flags interval")
    elements(members.map { "\(address($0.sources)) . \(selector($0.kind, $0.selectors))" }, &out)
    out.close()
  }

  private func forwardChain(_ ruleset: Ruleset, _ out: inout TextWriter) {
    out.open("chain forward")
    out.line("type filter hook forward priority filter; policy drop;")
    out.line("ct state established,related accept")
    out.line("ct state invalid counter drop")
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases {
        let (nfproto, header) = Self.familyMatch(family)
        out.line("meta nfproto \(nfproto) iifname . \(header) saddr != @\(Self.zonesSet(family)) counter drop")
        out.line("meta nfproto \(nfproto) oifname . \(header) daddr != @\(Self.zonesSet(family)) counter drop")
      }
    }
    for family in AddressFamily.allCases {
      let (nfproto, header) = Self.familyMatch(family)
      let icmp = family == .ipv4 ? "icmp" : "icmpv6"
      let suffix = family == .ipv4 ? "v4" : "v6"
      out.line(
        "meta nfproto \(nfproto) meta l4proto { tcp, udp } \(header) saddr . \(header) daddr . meta l4proto . th dport vmap @flows_\(suffix)"
      )
      out.line(
        "meta nfproto \(nfproto) meta l4proto \(icmp) \(header) saddr . \(header) daddr . \(icmp) type vmap @\(icmp)_\(suffix)"
      )
      out.line("meta nfproto \(nfproto) \(header) saddr . \(header) daddr . meta l4proto vmap @proto_\(suffix)")
    }
    out.line("counter limit rate 10/second log prefix \"conduit drop \"")
    out.close()
  }

  private func inputChain(_ ruleset: Ruleset, _ out: inout TextWriter) {
    out.open("chain input")
    out.line("type filter hook input priority filter; policy drop;")
    out.line("iif lo accept")
    out.line("ct state established,related accept")
    out.line("ct state invalid drop")
    out.line(
      "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } ip6 hoplimit 255 accept"
    )
    if !ruleset.interfaces.isEmpty {
      for family in AddressFamily.allCases {
        let (nfproto, header) = Self.familyMatch(family)
        out.line("meta nfproto \(nfproto) iifname . \(header) saddr != @\(Self.zonesSet(family)) counter drop")
      }
    }
    for family in AddressFamily.allCases {
      let (nfproto, header) = Self.familyMatch(family)
      let icmp = family == .ipv4 ? "icmp" : "icmpv6"
      let suffix = family == .ipv4 ? "v4" : "v6"
      out.line(
        "meta nfproto \(nfproto) meta l4proto { tcp, udp } \(header) saddr . meta l4proto . th dport @management_\(suffix) accept"
      )
      out.line(
        "meta nfproto \(nfproto) meta l4proto \(icmp) \(header) saddr . \(icmp) type @management_\(icmp)_\(suffix) accept"
      )
      out.line("meta nfproto \(nfproto) \(header) saddr . meta l4proto @management_proto_\(suffix) accept")
    }
    out.line("counter limit rate 10/second log prefix \"conduit input drop \"")
    out.close()
  }

  private func elements(_ items: [String], _ out: inout TextWriter) {
    guard !items.isEmpty else { return }
    out.open("elements =")
    for (index, item) in items.enumerated() { out.line(item + (index == items.count - 1 ? "" : ",")) }
    out.close()
  }

  private func address(_ range: AddressRange) -> String { range.description }

  private func selector(_ element: FlowElement) -> String {
    switch element.kind {
    case .transport(let transport): "\(transport.rawValue) . \(Self.range(element.selectors))"
    default: selector(element.kind, element.selectors)
    }
  }

  private func selector(_ kind: MatchKind, _ selectors: ClosedRange<UInt16>) -> String {
    switch kind {
    case .transport(let transport): "\(transport.rawValue) . \(Self.range(selectors))"
    case .icmp, .icmpv6, .proto: Self.range(selectors)
    }
  }

  private func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  static func range(_ range: ClosedRange<UInt16>) -> String {
    range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
  }

  static func sharesMap(_ kind: MatchKind, _ other: MatchKind) -> Bool {
    if case .transport = kind, case .transport = other { return true }
    return false
  }

  static func flowMapName(_ family: AddressFamily, _ kind: MatchKind) -> String? {
    let suffix = family == .ipv4 ? "v4" : "v6"
    switch kind {
    case .transport(.tcp): return "flows_\(suffix)"
    case .transport(.udp): return nil
    case .icmp: return "icmp_v4"
    case .icmpv6: return "icmpv6_v6"
    case .proto: return "proto_\(suffix)"
    }
  }

  static func managementSetName(_ family: AddressFamily, _ kind: MatchKind) -> String? {
    flowMapName(family, kind).map { name in
      "management_" + (name.hasPrefix("flows_") ? String(name.dropFirst("flows_".count)) : name)
    }
  }

  static func zonesSet(_ family: AddressFamily) -> String { family == .ipv4 ? "zones_v4" : "zones_v6" }

  static func addressType(_ family: AddressFamily) -> String { family == .ipv4 ? "ipv4_addr" : "ipv6_addr" }

  static func selectorType(_ kind: MatchKind) -> String {
    switch kind {
    case .transport: "inet_proto . inet_service"
    case .icmp: "icmp_type"
    case .icmpv6: "icmpv6_type"
    case .proto: "inet_proto"
    }
  }

  static func familyMatch(_ family: AddressFamily) -> (nfproto: String, header: String) {
    family == .ipv4 ? ("ipv4", "ip") : ("ipv6", "ip6")
  }
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
