import PolicyLanguage

/// Text written into nft strings (log prefixes, interface names) and nft comments. nft strings have no escapes
/// and expand `$variables`, so the characters they cannot carry are replaced by `_`: `"`, `$`, `\`, and what
/// `TerminalText` would escape (control characters, line separators, bidirectional overrides). The program holds
/// the replaced text, so the script and the netlink batch carry the same bytes.
enum NftablesString {
  /// The kernel's limit for a log prefix (NF_LOG_PREFIXLEN, 128 with its NUL); nft 1.0.6 crashes on longer ones.
  static let maximumLogPrefixBytes = 127

  /// `text` with every character an nft string cannot carry replaced by `_`.
  static func sanitized(_ text: String) -> String { GeneratedName.stringText(text) }

  /// `"TEXT"`, sanitized.
  static func quoted(_ text: String) -> String { "\"" + sanitized(text) + "\"" }

  /// An interface name as nft strings in sets and `iifname` carry it: literally, `$` included (nft expands
  /// variables in log prefixes, not there), with only what the checker refuses in interface names (`"`, `\`,
  /// control characters) replaced by `_`.
  static func interfaceName(_ name: String) -> String {
    GeneratedName.replacing(name) { $0 != "\"" && $0 != "\\" && !TerminalText.isUnsafe($0) }
  }

  /// `LEAD NAME ` within the kernel's limit: the name sanitized, and shortened with a hash suffix when too long,
  /// so the prefixes of two long names stay apart.
  static func logPrefix(_ lead: String, naming name: String) -> String {
    let room = maximumLogPrefixBytes - lead.utf8.count - 2
    return lead + " " + GeneratedName.shortened(sanitized(name), toBytes: room) + " "
  }
}
