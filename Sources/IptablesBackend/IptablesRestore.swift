import FirewallIR
import FlowSpace
import PolicyLanguage

/// The chain names of the iptables backend, within iptables' 28 characters.
public struct IptablesNames: Sendable {
  /// The longest chain name iptables accepts.
  public static let maximumLength = GeneratedName.iptablesMaximumLength

  /// Anti-spoofing: traffic entering an interface must come from its zones.
  public var ingress = "conduit-ingress"
  /// Traffic leaving an interface must go to its zones.
  public var egress = "conduit-egress"
  /// Per ordered zone pair with flows: its chain.
  public var zonePairs: [ZonePairKey: String] = [:]
  /// Per conduit chain of the ruleset: the chain that counts and accepts, and the one that logs first.
  public var conduitChains: [String]
  public var logChains: [String]

  /// An ordered pair of zones.
  public struct ZonePairKey: Hashable, Sendable, Comparable {
    public var source: String
    public var destination: String

    public static func < (lhs: ZonePairKey, rhs: ZonePairKey) -> Bool {
      (lhs.source, lhs.destination) < (rhs.source, rhs.destination)
    }
  }

  /// The last instant `-m time --datestart` expresses (2038-01-19 03:14:07 UTC): iptables caps later dates into a
  /// rule that never matches.
  static let latestDateStart: Int64 = 2_147_483_647

  /// `--datestart` of the expiry of `chain` (`YYYY-MM-DDT00:00:00`, UTC: the end of its `expires` day), nil without
  /// expiry or when the date is beyond what iptables can express.
  public static func expiryStart(_ chain: ConduitChain) -> String? {
    guard let expiresAt = chain.expiresAt, expiresAt <= latestDateStart, let day = chain.expiryStartDay else {
      return nil
    }
    return day + "T00:00:00"
  }

  /// Names for a ruleset's chains of one family: policy names with the characters iptables cannot write replaced
  /// by `_` and, when longer than 28 characters, shortened with a hash suffix. Two objects whose names still
  /// coincide are a `name-collision` error.
  public init(_ ruleset: Ruleset, family: AddressFamily, diagnostics: inout DiagnosticEngine) {
    conduitChains = ruleset.chains.map { Self.shortened("c-" + $0.conduit) }
    logChains = ruleset.chains.map { Self.shortened("c-" + $0.conduit, suffix: "-log") }
    for element in ruleset.elements where element.family == family {
      zonePairs[Self.key(element, ruleset)] = ""
    }
    for key in zonePairs.keys { zonePairs[key] = Self.shortened("z-\(key.source)-\(key.destination)") }

    var owners: [String: (what: String, range: SourceRange?)] = [
      ingress: ("the ingress chain", nil), egress: ("the egress chain", nil),
    ]
    func claim(_ name: String, _ what: String, _ range: SourceRange?) {
      if let first = owners[name], first.what != what {
        diagnostics.error(
          .nameCollision, "\(what) and \(first.what) both become the iptables chain '\(name)'",
          at: range, notes: first.range.map { [DiagnosticNote("\(first.what) is declared here", at: $0)] } ?? [])
      } else {
        owners[name] = (what, range)
      }
    }
    for chain in ruleset.chains where chain.expiresAt != nil && Self.expiryStart(chain) == nil {
      diagnostics.warning(
        .expiryNotEnforced,
        "conduit '\(chain.conduit)' expires after 2038-01-18: iptables' time match cannot express the date, so the "
          + "kernel will not stop it; recompile before it expires, or use nftables", at: chain.range)
    }
    for (index, chain) in ruleset.chains.enumerated() {
      claim(conduitChains[index], "conduit '\(chain.conduit)'", chain.range)
      claim(logChains[index], "the logging chain of conduit '\(chain.conduit)'", chain.range)
    }
    var chainsByZones: [Set<String>: Int] = [:]
    for (index, chain) in ruleset.chains.enumerated() where chainsByZones[Set(chain.zones)] == nil {
      chainsByZones[Set(chain.zones)] = index
    }
    for key in zonePairs.keys.sorted() {
      let conduit = chainsByZones[[key.source, key.destination]].map { ruleset.chains[$0] }
      claim(zonePairs[key]!, "zone pair '\(key.source)' -> '\(key.destination)'", conduit?.range)
    }
  }

  static func key(_ element: FlowElement, _ ruleset: Ruleset) -> ZonePairKey {
    let rule = ruleset.rules[element.rules[0]]
    return ZonePairKey(source: rule.sourceZone, destination: rule.destinationZone)
  }

  /// `name` in iptables' characters within 28 characters, `suffix` included.
  static func shortened(_ name: String, suffix: String = "") -> String {
    GeneratedName.iptablesChain(name, suffix: suffix)
  }
}

/// Renders a ruleset as `iptables-restore` (or `ip6tables-restore`) input that replaces the filter table of a
/// dedicated gateway: FORWARD policy DROP, INPUT DROP only with `management` lines, OUTPUT ACCEPT; one chain per
/// zone pair, dispatched by interface and prefix; conntrack return traffic; comments on the rules themselves.
public struct IptablesRestoreRenderer: Sendable {
  /// Creates a renderer.
  public init() {}

  /// The restore input for one family.
  public func render(_ ruleset: Ruleset, family: AddressFamily, names: IptablesNames) -> String {
    let elements = ruleset.elements.filter { $0.family == family }
    let elementsByPair = Dictionary(grouping: elements) { IptablesNames.key($0, ruleset) }
    let interfaceZones = ruleset.interfaceZones.filter { $0.addresses.family == family }
    let interfaceZonesByZone = Dictionary(grouping: interfaceZones, by: \.zone)
    let management = ruleset.management?.filter { $0.family == family }
    var lines: [String] = []
    let tool = family == .ipv4 ? "iptables-restore" : "ip6tables-restore"
    lines.append(
      "# conduit ruleset for \(tool)"
        + (ruleset.gateway.map { ", gateway \(IptablesArgument.sanitized($0))" } ?? ", no gateway"))
    lines.append("*filter")
    lines.append(":INPUT \(management == nil ? "ACCEPT" : "DROP") [0:0]")
    lines.append(":FORWARD DROP [0:0]")
    lines.append(":OUTPUT ACCEPT [0:0]")
    let usesInterfaces = !ruleset.interfaces.isEmpty
    var chainNames: [String] = []
    if usesInterfaces { chainNames += [names.ingress, names.egress] }
    let pairs = names.zonePairs.keys.sorted()
    chainNames += pairs.map { names.zonePairs[$0]! }
    let usedChains = Set(elements.map(\.chain))
    for index in ruleset.chains.indices where usedChains.contains(index) {
      chainNames += [names.conduitChains[index], names.logChains[index]]
    }
    lines += chainNames.map { ":\($0) - [0:0]" }

    if usesInterfaces {
      for member in interfaceZones {
        for prefix in prefixes(member.addresses) {
          lines.append(
            "-A \(names.ingress) -i \(IptablesArgument.word(member.interface)) -s \(prefix) -m comment --comment \(IptablesArgument.comment("zone \(member.zone)")) -j RETURN"
          )
        }
      }
      lines.append("-A \(names.ingress) -m comment --comment \"source not in a zone of its interface\" -j DROP")
      for member in interfaceZones {
        for prefix in prefixes(member.addresses) {
          lines.append(
            "-A \(names.egress) -o \(IptablesArgument.word(member.interface)) -d \(prefix) -m comment --comment \(IptablesArgument.comment("zone \(member.zone)")) -j RETURN"
          )
        }
      }
      lines.append("-A \(names.egress) -m comment --comment \"destination not in a zone of its interface\" -j DROP")
    }

    lines.append("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
    lines.append("-A FORWARD -m conntrack --ctstate INVALID -j DROP")
    if usesInterfaces {
      lines.append("-A FORWARD -j \(names.ingress)")
      lines.append("-A FORWARD -j \(names.egress)")
    }
    for pair in pairs {
      let chain = names.zonePairs[pair]!
      let comment = "-m comment --comment \(IptablesArgument.comment("\(pair.source) -> \(pair.destination)"))"
      if usesInterfaces {
        let sources = interfaceZonesByZone[pair.source] ?? []
        let destinations = interfaceZonesByZone[pair.destination] ?? []
        for source in sources {
          for destination in destinations where destination.interface != source.interface {
            for sourcePrefix in prefixes(source.addresses) {
              for destinationPrefix in prefixes(destination.addresses) {
                lines.append(
                  "-A FORWARD -i \(IptablesArgument.word(source.interface)) -s \(sourcePrefix) -o \(IptablesArgument.word(destination.interface)) -d \(destinationPrefix) \(comment) -j \(chain)"
                )
              }
            }
          }
        }
      } else {
        var seen: Set<String> = []
        for element in elementsByPair[pair] ?? [] {
          let match = "\(sourceMatch(element.sources)) \(destinationMatch(element.destinations))"
          if seen.insert(match).inserted { lines.append("-A FORWARD \(match) \(comment) -j \(chain)") }
        }
      }
    }
    lines.append("-A FORWARD -m limit --limit 10/sec -j LOG --log-prefix \"conduit drop \"")

    for pair in pairs {
      let chain = names.zonePairs[pair]!
      for element in elementsByPair[pair] ?? [] {
        let target = element.log ? names.logChains[element.chain] : names.conduitChains[element.chain]
        let origin = element.rules.map { ruleset.rules[$0].location }
        let comment = IptablesArgument.comment(
          "\(ruleset.chains[element.chain].conduit): \(origin.joined(separator: " "))")
        for selector in selectorMatches(element.kind, element.selectors, family) {
          lines.append(
            "-A \(chain) \(sourceMatch(element.sources)) \(destinationMatch(element.destinations)) \(selector) -m comment --comment \(comment) -j \(target)"
          )
        }
      }
    }
    for index in ruleset.chains.indices where usedChains.contains(index) {
      let conduit = ruleset.chains[index].conduit
      let comment = IptablesArgument.comment("conduit \(conduit)")
      if let start = IptablesNames.expiryStart(ruleset.chains[index]) {
        let expired = "-A \(names.conduitChains[index]) -m time --datestart \(start)"
        lines.append(
          "\(expired) -m limit --limit 10/sec -j LOG --log-prefix "
            + IptablesArgument.logPrefix("conduit exp", naming: conduit))
        lines.append("\(expired) -j DROP")
      }
      lines.append("-A \(names.conduitChains[index]) -m comment --comment \(comment) -j ACCEPT")
      lines.append(
        "-A \(names.logChains[index]) -j LOG --log-prefix \(IptablesArgument.logPrefix("conduit", naming: conduit))")
      lines.append("-A \(names.logChains[index]) -j \(names.conduitChains[index])")
    }

    if let management {
      lines.append("-A INPUT -i lo -j ACCEPT")
      lines.append("-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT")
      lines.append("-A INPUT -m conntrack --ctstate INVALID -j DROP")
      if family == .ipv6 {
        for type in [
          "router-solicitation", "router-advertisement", "neighbour-solicitation", "neighbour-advertisement",
        ] {
          lines.append("-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type \(type) -m hl --hl-eq 255 -j ACCEPT")
        }
      }
      if usesInterfaces { lines.append("-A INPUT -j \(names.ingress)") }
      for element in management {
        let comment = IptablesArgument.comment(
          "management: " + element.lines.map { "\($0.file.path):\($0.startLocation.line)" }.joined(separator: " "))
        for selector in selectorMatches(element.kind, element.selectors, family) {
          lines.append("-A INPUT \(sourceMatch(element.sources)) \(selector) -m comment --comment \(comment) -j ACCEPT")
        }
      }
      lines.append("-A INPUT -m limit --limit 10/sec -j LOG --log-prefix \"conduit input drop \"")
    }
    lines.append("COMMIT")
    return lines.joined(separator: "\n") + "\n"
  }

  private func prefixes(_ range: AddressRange) -> [String] {
    FlowSpace.prefixes(from: range.first, through: range.last).map(\.addressDescription)
  }

  private func sourceMatch(_ range: AddressRange) -> String {
    range.prefix.map { "-s \($0.addressDescription)" } ?? "-m iprange --src-range \(range.first)-\(range.last)"
  }

  private func destinationMatch(_ range: AddressRange) -> String {
    range.prefix.map { "-d \($0.addressDescription)" } ?? "-m iprange --dst-range \(range.first)-\(range.last)"
  }

  private func selectorMatches(_ kind: MatchKind, _ selectors: ClosedRange<UInt16>, _ family: AddressFamily)
    -> [String]
  {
    switch kind {
    case .tcp, .udp:
      let ports =
        selectors.lowerBound == selectors.upperBound
        ? "\(selectors.lowerBound)" : "\(selectors.lowerBound):\(selectors.upperBound)"
      return ["-p \(kind) -m \(kind) --dport \(ports)"]
    case .icmp:
      return selectors.map { "-p icmp -m icmp --icmp-type \($0)" }
    case .icmpv6:
      return selectors.map { "-p ipv6-icmp -m icmp6 --icmpv6-type \($0)" }
    case .proto:
      return selectors.map { "-p \($0)" }
    }
  }
}
