import PolicyLanguage

/// Arguments of `iptables-restore` lines. Its tokenizer splits a line at spaces and tabs, joins what stands
/// between double quotes, and reads `\` as an escape inside them; a line break ends the rule. Words from the
/// policy are written so that none of this applies to them: comments and log prefixes always quoted, with the
/// characters they cannot carry (`"`, `$`, `\`, control characters, line separators, bidirectional overrides)
/// replaced by `_`, and within the kernel's limits.
enum IptablesArgument {
  /// The comment match's limit (XT_MAX_COMMENT_LEN, 256 with its NUL).
  static let maximumCommentBytes = 255
  /// The LOG target's limit for a prefix (29 characters).
  static let maximumLogPrefixBytes = 29

  /// `text` with every character a quoted argument cannot carry replaced by `_`.
  static func sanitized(_ text: String) -> String { GeneratedName.stringText(text) }

  /// `"TEXT"`: sanitized, and cut (between characters, marked `...`) to the comment match's limit.
  static func comment(_ text: String) -> String {
    let clean = sanitized(text)
    guard clean.utf8.count > maximumCommentBytes else { return "\"" + clean + "\"" }
    return "\"" + GeneratedName.utf8Prefix(clean, maximumBytes: maximumCommentBytes - 3) + "...\""
  }

  /// `"LEAD NAME "` within the LOG target's limit: the name sanitized, and shortened with a hash suffix when too
  /// long, so the prefixes of two long names stay apart.
  static func logPrefix(_ lead: String, naming name: String) -> String {
    let room = maximumLogPrefixBytes - lead.utf8.count - 2
    return "\"" + lead + " " + GeneratedName.shortened(sanitized(name), toBytes: room, separator: "-") + " \""
  }

  /// One word (an interface name): as it is when it holds nothing the tokenizer would read (`$` is nothing to it),
  /// quoted and sanitized otherwise. The checker allows only interface names that are written as they are.
  static func word(_ text: String) -> String {
    let isPlain =
      !text.isEmpty
      && text.unicodeScalars.allSatisfy {
        $0.value > 32 && $0 != "\"" && $0 != "'" && $0 != "\\" && !TerminalText.isUnsafe($0)
      }
    return isPlain ? text : "\"" + sanitized(text) + "\""
  }
}
