import Crypto

/// How the backends turn policy names into the names of the objects they generate (tables, chains), so that the
/// checker and every backend agree on which names become one.
///
/// A character a backend cannot write in an object name is replaced by `_`; two names that become one are a
/// `name-collision` error. A name longer than the backend's limit is shortened to a prefix and a hash of the whole
/// replaced name, so length limits never make two names one.
public enum GeneratedName {
  /// The nftables form: ASCII letters, digits and `_`; every other character becomes `_`.
  public static func nftablesIdentifier(_ name: String) -> String {
    replacing(name) { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
  }

  /// The iptables form: ASCII letters, digits, `_`, `-` and `.`; every other character becomes `_`. (iptables
  /// would take more, but none of the rest reads the same in every tool that prints or parses a chain name.)
  public static func iptablesWord(_ name: String) -> String {
    replacing(name) {
      $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
    }
  }

  /// Text written into the strings of a backend's language (nft strings and comments, iptables comments and log
  /// prefixes), none of which has escapes: `"`, `$`, `\` and every character `TerminalText` escapes become `_`,
  /// the same for every backend.
  public static func stringText(_ text: String) -> String {
    replacing(text) { $0 != "\"" && $0 != "$" && $0 != "\\" && !TerminalText.isUnsafe($0) }
  }

  /// `text` with every scalar that `keeps` refuses replaced by `_`.
  public static func replacing(_ text: String, keeping keeps: (Unicode.Scalar) -> Bool) -> String {
    guard !text.unicodeScalars.allSatisfy(keeps) else { return text }
    return String(String.UnicodeScalarView(text.unicodeScalars.map { keeps($0) ? $0 : "_" }))
  }

  /// The longest table, chain or set name nftables accepts (NFT_NAME_MAXLEN, 256 with its NUL).
  public static let nftablesMaximumBytes = 255
  /// The longest chain name iptables accepts.
  public static let iptablesMaximumLength = 28

  /// The nftables chain of conduit `conduit`: `c_NAME`, shortened to leave room for the `_log` of its logging chain.
  public static func nftablesConduitChain(_ conduit: String) -> String {
    shortened("c_" + nftablesIdentifier(conduit), toBytes: nftablesMaximumBytes - 4)
  }

  /// An iptables chain: `name` in iptables' characters, shortened so that it fits iptables' limit with `suffix`,
  /// then `suffix`.
  public static func iptablesChain(_ name: String, suffix: String = "") -> String {
    shortened(iptablesWord(name), toBytes: iptablesMaximumLength - suffix.utf8.count, separator: "-") + suffix
  }

  /// The number of hexadecimal digits of the hash that ends a shortened name.
  public static let hashDigits = 8

  /// `name` itself when it has at most `limit` UTF-8 bytes; otherwise its longest prefix (cut between characters)
  /// that leaves room for `separator` and the first `hashDigits` hexadecimal digits of the SHA-256 of `name`,
  /// followed by them. The same name always gives the same result.
  public static func shortened(_ name: String, toBytes limit: Int, separator: String = "_") -> String {
    guard name.utf8.count > limit else { return name }
    let digest = SHA256.hash(data: Array(name.utf8)).prefix(hashDigits / 2)
    let hash = digest.map { byte in
      let digits = Array("0123456789abcdef")
      return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }.joined()
    return utf8Prefix(name, maximumBytes: max(0, limit - separator.utf8.count - hash.utf8.count)) + separator + hash
  }

  /// The longest prefix of `text` of at most `maximumBytes` UTF-8 bytes that ends between two Unicode scalars.
  public static func utf8Prefix(_ text: String, maximumBytes: Int) -> String {
    var bytes = 0
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      let width = String(scalar).utf8.count
      guard bytes + width <= maximumBytes else { break }
      bytes += width
      scalars.append(scalar)
    }
    return String(scalars)
  }
}
