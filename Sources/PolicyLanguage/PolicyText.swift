import Foundation

/// Writes names and strings in the policy language (LANGUAGE.md, lexical rules), for the policy text conduit
/// generates: what it writes reads back as the same name or string, or it is refused.
public enum PolicyText {
  /// `plc-1` as written, `"HMI 2"` quoted (spaces, a leading digit, a reserved word); nil when the name cannot be
  /// written at all (a control character, a line break, or empty).
  public static func name(_ name: String) -> String? {
    guard !name.isEmpty, isWritableInString(name) else { return nil }
    return isBareName(name) ? name : quoted(name)
  }

  /// A string literal with `"` and `\` escaped; control characters (which a string may not hold) become spaces.
  public static func string(_ text: String) -> String { quoted(withoutControls(text)) }

  /// A line comment: `# ` and the text, control characters (line breaks among them) as spaces.
  public static func comment(_ text: String) -> String { "# " + withoutControls(text) }

  private static func withoutControls(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
      let isLineBreak = scalar == "\u{2028}" || scalar == "\u{2029}" || scalar == "\u{85}"
      scalars.append(scalar.properties.generalCategory == .control || isLineBreak ? " " : scalar)
    }
    return String(scalars)
  }

  /// Whether `name` is a bare name: `[A-Za-z_][A-Za-z0-9_.-]*`, not ending in `-` or `.`, not a reserved word.
  public static func isBareName(_ name: String) -> Bool {
    let bytes = Array(name.utf8)
    guard let first = bytes.first, let last = bytes.last, Keyword(rawValue: name) == nil else { return false }
    func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") }
    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    guard isLetter(first) || first == UInt8(ascii: "_"), last != UInt8(ascii: "-"), last != UInt8(ascii: ".") else {
      return false
    }
    return bytes.allSatisfy {
      isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
    }
  }

  private static func isWritableInString(_ text: String) -> Bool {
    !text.unicodeScalars.contains { $0.properties.generalCategory == .control }
  }

  private static func quoted(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}
