/// A port an advisory's text names: `TCP port 102`, `502/tcp`, `UDP/8211`, `ports 80 and 443`, `port 44818`.
public struct NamedPort: Hashable, Sendable, Comparable, CustomStringConvertible {
  /// The transport protocols a named port can have.
  public enum Transport: String, Hashable, Sendable, Comparable {
    case tcp, udp

    public static func < (lhs: Transport, rhs: Transport) -> Bool { lhs.rawValue < rhs.rawValue }
  }

  /// The transport named with it; nil when the text names none (then both are meant).
  public var transport: Transport?
  public var port: UInt16

  /// A named port.
  public init(transport: Transport?, port: UInt16) {
    self.transport = transport
    self.port = port
  }

  /// `tcp/102`, or `port 44818` when no transport is named.
  public var description: String { transport.map { "\($0.rawValue)/\(port)" } ?? "port \(port)" }

  public static func < (lhs: NamedPort, rhs: NamedPort) -> Bool {
    (lhs.port, lhs.transport?.rawValue ?? "") < (rhs.port, rhs.transport?.rawValue ?? "")
  }
}

/// Finds the ports an advisory's free text names. The forms are the ones CISA's OT advisories use: `N/tcp`,
/// `tcp/N`, `TCP port N`, `TCP and UDP port N`, `ports N, M and K/tcp`, `port N` (no transport: both). A port is a
/// number from 1 to 65,535 right after `port`/`ports` (or joined to a transport by `/`); any other number is not one.
public enum NamedPorts {
  /// The distinct ports `text` names, in order.
  public static func named(in text: String) -> [NamedPort] {
    guard mayNamePorts(text) else { return [] }
    let words = Self.words(text)
    var found: [NamedPort] = []
    func add(_ transports: [NamedPort.Transport?], _ number: Substring) {
      guard let port = UInt16(number), port > 0 else { return }
      for transport in transports {
        let named = NamedPort(transport: transport, port: port)
        if !found.contains(named) { found.append(named) }
      }
    }
    var index = 0
    while index < words.count {
      let word = words[index]
      if let (transport, number) = joined(word) {
        add([transport], number)
      } else if word == "port" || word == "ports" {
        var transports = precedingTransports(words, before: index)
        var next = index + 1
        var numbers: [Substring] = []
        var suffixed: [(NamedPort.Transport, Substring)] = []
        while next < words.count, numbers.count + suffixed.count < 16 {
          let candidate = words[next]
          if candidate.allSatisfy(\.isNumber) {
            numbers.append(Substring(candidate))
          } else if let (transport, number) = joined(candidate), number.allSatisfy(\.isNumber) {
            suffixed.append((transport, number))
          } else if candidate == "and" || candidate == "or" {
          } else if let transport = NamedPort.Transport(rawValue: candidate), transports.isEmpty,
            !numbers.isEmpty
          {
            transports = [transport]
          } else {
            break
          }
          next += 1
        }
        if transports.isEmpty, let only = Set(suffixed.map(\.0)).first, Set(suffixed.map(\.0)).count == 1 {
          transports = [only]
        }
        for number in numbers { add(transports.isEmpty ? [nil] : transports, number) }
        for (transport, number) in suffixed { add([transport], number) }
        index = next
        continue
      }
      index += 1
    }
    return found
  }

  /// Whether `text` holds `port`, `tcp` or `udp` in any case: without one it names no port.
  static func mayNamePorts(_ text: String) -> Bool {
    var last3: UInt32 = 0
    for byte in text.utf8 {
      last3 = (last3 << 8 | UInt32(byte | 0x20)) & 0xFF_FFFF
      if last3 == 0x70_6F72 || last3 == 0x74_6370 || last3 == 0x75_6470 { return true }
    }
    return false
  }

  /// The text's ASCII words (letters, digits and `/`), lower-cased; every other byte separates words.
  static func words(_ text: String) -> [String] {
    var words: [String] = []
    var current: [UInt8] = []
    func flush() {
      if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
      current.removeAll(keepingCapacity: true)
    }
    for byte in text.utf8 {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): current.append(byte | 0x20)
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"):
        current.append(byte)
      default: flush()
      }
    }
    flush()
    return words
  }

  /// `502/tcp` or `tcp/502`: the transport and the number.
  static func joined(_ word: String) -> (NamedPort.Transport, Substring)? {
    let parts = word.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2 else { return nil }
    if let transport = NamedPort.Transport(rawValue: String(parts[1])), parts[0].allSatisfy(\.isNumber),
      !parts[0].isEmpty
    {
      return (transport, parts[0])
    }
    if let transport = NamedPort.Transport(rawValue: String(parts[0])), parts[1].allSatisfy(\.isNumber),
      !parts[1].isEmpty
    {
      return (transport, parts[1])
    }
    return nil
  }

  /// The transports written just before `port` at `index`: `TCP`, `UDP`, `TCP/UDP`, `TCP and UDP`.
  static func precedingTransports(_ words: [String], before index: Int) -> [NamedPort.Transport?] {
    guard index > 0 else { return [] }
    let previous = words[index - 1]
    if previous == "tcp/udp" || previous == "udp/tcp" { return [.tcp, .udp] }
    guard let last = NamedPort.Transport(rawValue: previous) else { return [] }
    if index >= 3, words[index - 2] == "and" || words[index - 2] == "or",
      let first = NamedPort.Transport(rawValue: words[index - 3]), first != last
    {
      return [first, last]
    }
    return [last]
  }
}
