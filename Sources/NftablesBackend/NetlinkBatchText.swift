import CNetlink
import CNftnl
import PolicyLanguage

extension NftablesBatch {
  /// The batch as text, message by message, the way `nft --debug=netlink` and nftables' `tests/py/*.payload` files
  /// show it: each message parsed back by libnftnl and printed with its `snprintf` (rules as their expressions, one
  /// per line; sets with their elements), after a line with its sequence number, type and policy place. Reviewing
  /// this text shows every change of the bytes `apply` sends without a kernel.
  public func payloadText() -> String {
    var text = ""
    var offset = 0
    var elementOrdinal = 0
    while offset + 20 <= bytes.count {
      let length = Int(NetlinkBatchLayout.u32(bytes, offset))
      guard length >= 20, offset + length <= bytes.count else {
        text += "# bytes \(offset)... are not a message\n"
        break
      }
      let type = NetlinkBatchLayout.u16(bytes, offset + 4)
      let sequence = NetlinkBatchLayout.u32(bytes, offset + 8)
      let message = offset..<(offset + length)
      let elements = BatchOrigins.elementRanges(bytes, message: message)
      let place = origins.place(ofMessage: sequence).map { " from \(TerminalText.escaped($0))" } ?? ""
      text += "# \(sequence) \(Self.messageName(type))\(place)\n"
      text += bytes.withUnsafeBytes { raw in
        let header = UnsafeRawPointer(raw.baseAddress! + offset).assumingMemoryBound(to: nlmsghdr.self)
        return Self.describe(header, type: type)
      }
      if type & 0xFF == NetlinkConstant.messageNewSet { text += setText(message) }
      for (index, element) in elements.enumerated() {
        let ordinal = elementOrdinal + index
        let place = ordinal < origins.elements.count ? origins.place(origins.elements[ordinal]) : nil
        text += "  element " + elementText(element) + (place.map { " from \(TerminalText.escaped($0))" } ?? "")
        text += "\n"
      }
      elementOrdinal += elements.count
      offset += (length + 3) & ~3
    }
    return text
  }

  private static func messageName(_ type: UInt16) -> String {
    if type == UInt16(NFNL_MSG_BATCH_BEGIN) { return "batch begin" }
    if type == UInt16(NFNL_MSG_BATCH_END) { return "batch end" }
    switch type & 0xFF {
    case NetlinkConstant.messageNewTable: return "new table"
    case NetlinkConstant.messageDeleteTable: return "delete table"
    case NetlinkConstant.messageNewChain: return "new chain"
    case NetlinkConstant.messageNewSet: return "new set"
    case NetlinkConstant.messageNewSetElement: return "new set elements"
    case NetlinkConstant.messageNewRule: return "new rule"
    default: return "message type \(type)"
    }
  }

  /// libnftnl's text of one message, each line indented; empty for the batch's begin and end.
  private static func describe(_ header: UnsafePointer<nlmsghdr>, type: UInt16) -> String {
    let message = UnsafeMutablePointer(mutating: header)
    guard type >> 8 == UInt16(NFNL_SUBSYS_NFTABLES) else { return "" }
    let printed: String?
    switch type & 0xFF {
    case NetlinkConstant.messageNewTable, NetlinkConstant.messageDeleteTable:
      let object = nftnl_table_alloc()!
      defer { nftnl_table_free(object) }
      printed = nftnl_table_nlmsg_parse(message, object) < 0 ? nil : text { nftnl_table_snprintf($0, $1, object, 0, 0) }
    case NetlinkConstant.messageNewChain:
      let object = nftnl_chain_alloc()!
      defer { nftnl_chain_free(object) }
      printed = nftnl_chain_nlmsg_parse(message, object) < 0 ? nil : text { nftnl_chain_snprintf($0, $1, object, 0, 0) }
    case NetlinkConstant.messageNewSet:
      let object = nftnl_set_alloc()!
      defer { nftnl_set_free(object) }
      printed = nftnl_set_nlmsg_parse(message, object) < 0 ? nil : text { nftnl_set_snprintf($0, $1, object, 0, 0) }
    case NetlinkConstant.messageNewSetElement:
      return ""
    case NetlinkConstant.messageNewRule:
      let object = nftnl_rule_alloc()!
      defer { nftnl_rule_free(object) }
      printed = nftnl_rule_nlmsg_parse(message, object) < 0 ? nil : text { nftnl_rule_snprintf($0, $1, object, 0, 0) }
    default:
      return ""
    }
    guard let printed else { return "  (libnftnl cannot parse this message)\n" }
    return printed.split(separator: "\n", omittingEmptySubsequences: true).map {
      "  " + TerminalText.escaped(String($0).trimmingTrailingSpaces()) + "\n"
    }.joined()
  }

  /// What libnftnl's text of a set leaves out: its id, key type and length, and what a map maps to.
  private func setText(_ message: Range<Int>) -> String {
    guard
      let attributes = try? NetlinkBatchLayout.attributes(
        bytes, (message.lowerBound + 20)..<message.upperBound, message: 0)
    else { return "" }
    func value(_ attribute: nft_set_attributes) -> String {
      NetlinkBatchLayout.u32Attribute(bytes, attributes, type: UInt16(attribute.rawValue)).map {
        "0x" + String($0, radix: 16)
      } ?? "-"
    }
    return "  id \(value(NFTA_SET_ID)) key type \(value(NFTA_SET_KEY_TYPE)) length \(value(NFTA_SET_KEY_LEN))"
      + " data type \(value(NFTA_SET_DATA_TYPE)) length \(value(NFTA_SET_DATA_LEN))\n"
  }

  /// One element of an element message (`range` holds its attribute, header included): its key, the key's end in
  /// an interval set and its verdict, values as 32-bit words in hex as libnftnl shows registers.
  private func elementText(_ range: Range<Int>) -> String {
    guard let parts = try? NetlinkBatchLayout.attributes(bytes, (range.lowerBound + 4)..<range.upperBound, message: 0)
    else { return "(malformed)" }
    var text: [String] = []
    for part in parts {
      let nested = (try? NetlinkBatchLayout.attributes(bytes, part.range, message: 0)) ?? []
      switch part.type {
      case UInt16(NFTA_SET_ELEM_KEY.rawValue), UInt16(NFTA_SET_ELEM_KEY_END.rawValue):
        let value = nested.first { $0.type == UInt16(NFTA_DATA_VALUE.rawValue) }.map { words(bytes[$0.range]) } ?? "?"
        text.append(part.type == UInt16(NFTA_SET_ELEM_KEY.rawValue) ? value : "- " + value)
      case UInt16(NFTA_SET_ELEM_DATA.rawValue):
        let verdict = nested.first { $0.type == UInt16(NFTA_DATA_VERDICT.rawValue) }
        let fields = verdict.flatMap { try? NetlinkBatchLayout.attributes(bytes, $0.range, message: 0) } ?? []
        let code = NetlinkBatchLayout.u32Attribute(bytes, fields, type: UInt16(NFTA_VERDICT_CODE.rawValue))
        let chain = fields.first { $0.type == UInt16(NFTA_VERDICT_CHAIN.rawValue) }.flatMap {
          NetlinkBatchLayout.string(bytes, $0.range)
        }
        text.append(": " + Self.verdictName(code) + (chain.map { " " + TerminalText.escaped($0) } ?? ""))
      default:
        text.append("attribute \(part.type)")
      }
    }
    return text.joined(separator: " ")
  }

  private static func verdictName(_ code: UInt32?) -> String {
    switch code.map({ Int32(bitPattern: $0) }) {
    case 0: "drop"
    case 1: "accept"
    case -1: "continue"
    case -2: "break"
    case -3: "jump"
    case -4: "goto"
    case -5: "return"
    case let other: "verdict \(other.map(String.init) ?? "?")"
    }
  }

  /// Bytes as 32-bit words in hex, the last word short when the length is not a multiple of four.
  private func words(_ value: ArraySlice<UInt8>) -> String {
    stride(from: value.startIndex, to: value.endIndex, by: 4).map { start in
      value[start..<min(start + 4, value.endIndex)].map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }.joined(separator: " ")
  }

  /// The text a libnftnl `snprintf` writes, in a buffer grown until it fits.
  private static func text(_ print: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> String {
    var size = 1 << 12
    while true {
      var buffer = [CChar](repeating: 0, count: size)
      let written = buffer.withUnsafeMutableBufferPointer { print($0.baseAddress!, $0.count) }
      if written < 0 { return "" }
      if Int(written) < size {
        return String(decoding: buffer.prefix(Int(written)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
      }
      size = Int(written) + 1
    }
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }

  fileprivate func trimmingTrailingSpaces() -> String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
