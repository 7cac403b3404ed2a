/// The ASCII bytes the readers look for.
enum ByteValue {
  static var tab: UInt8 { 0x09 }
  static var lineFeed: UInt8 { 0x0A }
  static var carriageReturn: UInt8 { 0x0D }
  static var space: UInt8 { 0x20 }
  static var quote: UInt8 { 0x22 }
  static var comma: UInt8 { 0x2C }
  static var minus: UInt8 { 0x2D }
  static var colon: UInt8 { 0x3A }
  static var semicolon: UInt8 { 0x3B }
  static var openingBracket: UInt8 { 0x5B }
  static var backslash: UInt8 { 0x5C }
  static var closingBracket: UInt8 { 0x5D }
  static var openingBrace: UInt8 { 0x7B }
  static var closingBrace: UInt8 { 0x7D }

  /// The length of a UTF-8 byte order mark at the start of `bytes`: 3 or 0.
  static func byteOrderMarkLength(_ bytes: [UInt8]) -> Int {
    bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
  }

  static func isJSONWhitespace(_ byte: UInt8) -> Bool {
    byte == space || byte == lineFeed || byte == carriageReturn || byte == tab
  }

  static func isDigit(_ byte: UInt8) -> Bool {
    byte >= 0x30 && byte <= 0x39
  }

  static func isLetterOrDigit(_ byte: UInt8) -> Bool {
    isDigit(byte) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
  }

  /// The value of a hexadecimal digit, or nil.
  static func hexDigitValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case 0x30...0x39: UInt32(byte - 0x30)
    case 0x41...0x46: UInt32(byte - 0x41 + 10)
    case 0x61...0x66: UInt32(byte - 0x61 + 10)
    default: nil
    }
  }
}

/// Turns UTF-8 bytes of the file into strings, replacing invalid sequences with U+FFFD, and hands out the position of
/// the first invalid sequence in the file once, so a file in another encoding yields one error rather than thousands.
struct UTF8TextDecoder {
  private var hasFoundInvalidSequence = false

  /// Decodes `bytes` (a slice of the file, so its indices are file offsets). Returns the text and, the first time
  /// invalid UTF-8 is met in the file, the byte range of the invalid sequence.
  mutating func decode(_ bytes: ArraySlice<UInt8>) -> (text: String, invalidRange: Range<Int>?) {
    let text = String(decoding: bytes, as: UTF8.self)
    return (text, Self.isExact(text, of: bytes) ? nil : firstInvalidRange(in: bytes))
  }

  /// Decodes `unescaped`, the text of the file's bytes `source` after unescaping; escapes are ASCII, so an invalid
  /// sequence in `unescaped` comes from `source`.
  mutating func decode(_ unescaped: [UInt8], source: ArraySlice<UInt8>) -> (text: String, invalidRange: Range<Int>?) {
    let text = String(decoding: unescaped, as: UTF8.self)
    return (text, Self.isExact(text, of: unescaped[...]) ? nil : firstInvalidRange(in: source))
  }

  /// Whether decoding `bytes` gave `text` without replacing anything, that is, whether `bytes` is valid UTF-8.
  private static func isExact(_ text: String, of bytes: ArraySlice<UInt8>) -> Bool {
    bytes.allSatisfy { $0 < 0x80 } || text.utf8.elementsEqual(bytes)
  }

  private mutating func firstInvalidRange(in bytes: ArraySlice<UInt8>) -> Range<Int>? {
    guard !hasFoundInvalidSequence else { return nil }
    hasFoundInvalidSequence = true
    var iterator = bytes.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    var offset = bytes.startIndex
    while true {
      switch parser.parseScalar(from: &iterator) {
      case .valid(let encodedScalar): offset += encodedScalar.count
      case .error(let length): return offset..<(offset + length)
      case .emptyInput: return bytes.startIndex..<bytes.endIndex
      }
    }
  }
}

/// Control characters other than tab (C0, DEL, C1): never part of a name or value, where they could end a line of
/// output, move the terminal's cursor or cut a C string short.
enum ControlCharacter {
  /// The byte range and code point of the first control character in `bytes` (a slice of the file), if any.
  static func first(in bytes: ArraySlice<UInt8>) -> (range: Range<Int>, codePoint: UInt32)? {
    var index = bytes.startIndex
    while index < bytes.endIndex {
      let byte = bytes[index]
      if byte < 0x20 && byte != ByteValue.tab || byte == 0x7F { return (index..<(index + 1), UInt32(byte)) }
      if byte == 0xC2, index + 1 < bytes.endIndex, (0x80...0x9F).contains(bytes[index + 1]) {
        return (index..<(index + 2), UInt32(bytes[index + 1]))
      }
      index += 1
    }
    return nil
  }

  /// Whether `scalar` is a control character other than tab.
  static func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 && scalar.value != 0x09 || (0x7F...0x9F).contains(scalar.value)
  }

  /// "control character U+000A in a field".
  static func message(_ codePoint: UInt32, in place: String) -> String {
    let digits = String(codePoint, radix: 16, uppercase: true)
    return "control character U+\(String(repeating: "0", count: max(0, 4 - digits.count)))\(digits) in \(place)"
  }
}
