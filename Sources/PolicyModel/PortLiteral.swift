import FlowSpace
import PolicyLanguage

/// Reads port literals (`tcp/502`, `udp/2222`, `tcp/49152-65535`, `tcp`, `icmp/echo-request`, `proto/47`).
public enum PortLiteral {
  /// Why a literal is rejected; the message names the proper form.
  public struct Problem: Error, Hashable, Sendable {
    public var message: String
  }

  /// ICMP query types by nft's names; error types are rejected.
  static let icmpQueryTypes: [String: UInt8] = [
    "echo-reply": 0, "echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
    "timestamp-request": 13, "timestamp-reply": 14, "info-request": 15, "info-reply": 16,
    "address-mask-request": 17, "address-mask-reply": 18,
  ]
  static let icmpErrorTypes: Set<String> = [
    "destination-unreachable", "source-quench", "redirect", "time-exceeded", "parameter-problem",
  ]
  static let icmpv6QueryTypes: [String: UInt8] = [
    "echo-request": 128, "echo-reply": 129, "mld-listener-query": 130, "mld-listener-report": 131,
    "mld-listener-done": 132, "mld-listener-reduction": 132, "nd-router-solicit": 133, "nd-router-advert": 134,
    "nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137, "router-renumbering": 138,
    "ind-neighbor-solicit": 141, "ind-neighbor-advert": 142, "mld2-listener-report": 143,
  ]
  static let icmpv6ErrorTypes: Set<String> = [
    "destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem",
  ]

  /// nft's name of an ICMP (or ICMPv6) query type, as a literal writes it; nil for a type that has none.
  public static func icmpTypeName(_ type: UInt8, icmpv6: Bool) -> String? {
    (icmpv6 ? icmpv6QueryTypes : icmpQueryTypes).filter { $0.value == type }.map(\.key).min()
  }

  /// Parses one literal.
  public static func parse(_ text: String) -> Result<ServiceMatch, Problem> {
    let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    let protocolName = parts[0]
    let argument = parts.count > 1 ? parts[1] : nil
    switch protocolName {
    case "tcp", "udp":
      let transport = TransportProtocol(rawValue: protocolName)!
      guard let argument else { return .success(.ports(transport, .full)) }
      return parsePorts(argument, literal: text).map { .ports(transport, $0) }
    case "icmp", "icmpv6":
      let queries = protocolName == "icmp" ? icmpQueryTypes : icmpv6QueryTypes
      let errors = protocolName == "icmp" ? icmpErrorTypes : icmpv6ErrorTypes
      guard let argument else {
        return .failure(
          Problem(
            message: "a bare '\(protocolName)' is not allowed: name the query type, e.g. '\(protocolName)/echo-request'"
          ))
      }
      if errors.contains(argument) {
        return .failure(
          Problem(
            message:
              "'\(text)' is an ICMP error type: errors are never listed, they pass as related to an allowed connection")
        )
      }
      guard let type = queries[argument] else {
        let guess = Spelling.closest(to: argument, in: queries.keys).map { "; did you mean '\(protocolName)/\($0)'?" }
        return .failure(Problem(message: "unknown \(protocolName) type '\(argument)'" + (guess ?? "")))
      }
      return .success(protocolName == "icmp" ? .icmp(type: type, name: argument) : .icmpv6(type: type, name: argument))
    case "proto":
      guard let argument, let number = decimal(argument), number <= 255 else {
        return .failure(Problem(message: "'\(text)' is not a protocol number: write proto/N with N from 0 to 255"))
      }
      switch number {
      case 1: return .failure(Problem(message: "write ICMP as 'icmp/TYPE' (e.g. icmp/echo-request), not proto/1"))
      case 6: return .failure(Problem(message: "write TCP as 'tcp/PORT', not proto/6"))
      case 17: return .failure(Problem(message: "write UDP as 'udp/PORT', not proto/17"))
      case 58:
        return .failure(Problem(message: "write ICMPv6 as 'icmpv6/TYPE' (e.g. icmpv6/echo-request), not proto/58"))
      default: return .success(.proto(UInt8(number)))
      }
    default:
      return .failure(
        Problem(
          message: "unknown protocol '\(protocolName)': use tcp/PORT, udp/PORT, icmp/TYPE, icmpv6/TYPE or proto/N"))
    }
  }

  private static func parsePorts(_ text: String, literal: String) -> Result<PortSet, Problem> {
    let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    guard (1...2).contains(bounds.count), let low = decimal(bounds[0]), let high = decimal(bounds.last!) else {
      return .failure(
        Problem(message: "'\(literal)' is not a port or port range (write e.g. tcp/502 or tcp/5000-5010)"))
    }
    guard low <= 65535, high <= 65535 else {
      return .failure(Problem(message: "port \(max(low, high)) in '\(literal)' is outside 0-65535"))
    }
    guard low <= high else {
      return .failure(Problem(message: "the range '\(literal)' is empty: its first port is above its last"))
    }
    return .success(PortSet(UInt16(low)...UInt16(high)))
  }

  private static func decimal(_ text: String) -> Int? {
    guard !text.isEmpty, text.count <= 6, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
    return Int(text)
  }
}

/// The services every policy can use without defining them (a policy may redefine any).
public enum BuiltinServices {
  /// Name to port literals.
  public static let definitions: [String: [String]] = [
    "modbus": ["tcp/502"], "s7comm": ["tcp/102"], "mms": ["tcp/102"], "dnp3": ["tcp/20000", "udp/20000"],
    "iec104": ["tcp/2404"], "enip": ["tcp/44818", "udp/44818"], "enip-io": ["udp/2222"], "opcua": ["tcp/4840"],
    "bacnet": ["udp/47808"], "mqtt": ["tcp/1883"], "mqtts": ["tcp/8883"], "profinet-cm": ["udp/34964"],
    "ssh": ["tcp/22"], "https": ["tcp/443"], "http": ["tcp/80"], "ntp": ["udp/123"], "syslog": ["udp/514"],
    "snmp": ["udp/161"], "dns": ["udp/53", "tcp/53"], "rdp": ["tcp/3389"],
    "ping": ["icmp/echo-request", "icmpv6/echo-request"],
  ]

  /// The matches of a built-in service.
  public static func matches(of name: String) -> [ServiceMatch]? {
    definitions[name]?.map { literal in
      guard case .success(let match) = PortLiteral.parse(literal) else { preconditionFailure(literal) }
      return match
    }
  }
}
