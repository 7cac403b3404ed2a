/// Text from the input made safe to print on a terminal: control characters (C0, DEL, C1), Unicode line and
/// paragraph separators and bidirectional overrides and isolates are shown as a visible escape (`\u{1B}`), so a
/// name can neither forge a line of output nor reorder or hide what is printed around it.
public enum TerminalText {
  /// Whether a scalar must not reach a terminal as it is.
  public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
    default: false
    }
  }

  /// `\u{HEX}` for one unsafe scalar.
  public static func escape(_ scalar: Unicode.Scalar) -> String {
    "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
  }

  /// `text` with every unsafe scalar replaced by its visible escape; `text` itself when it has none.
  public static func escaped(_ text: String) -> String {
    let plainASCII = text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    guard !plainASCII, text.unicodeScalars.contains(where: isUnsafe) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
      if isUnsafe(scalar) { out += escape(scalar) } else { out.unicodeScalars.append(scalar) }
    }
    return out
  }
}
