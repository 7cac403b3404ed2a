import CNetlink
import CNftnl
import FlowSpace
import Foundation

/// Numbers of the nf_tables netlink interface and of nft's data types, in the shapes Swift needs.
enum NetlinkConstant {
  static let familyInet = UInt16(NFPROTO_INET)
  static let nfprotoIPv4: UInt8 = 2
  static let nfprotoIPv6: UInt8 = 10

  static let messageNewTable = UInt16(NFT_MSG_NEWTABLE.rawValue)
  static let messageDeleteTable = UInt16(NFT_MSG_DELTABLE.rawValue)
  static let messageNewChain = UInt16(NFT_MSG_NEWCHAIN.rawValue)
  /// The user data type of a chain comment.
  static let userDataChainComment = UInt8(NFTNL_UDATA_CHAIN_COMMENT.rawValue)
  static let userDataElementComment = UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue)
  static let messageNewSet = UInt16(NFT_MSG_NEWSET.rawValue)
  static let messageNewSetElement = UInt16(NFT_MSG_NEWSETELEM.rawValue)
  static let messageNewRule = UInt16(NFT_MSG_NEWRULE.rawValue)

  static let flagAck = UInt16(NLM_F_ACK)
  /// Set attributes newer kernels list and refuse on input (NFTA_SET_TYPE, the backend's name, and NFTA_SET_COUNT,
  /// the number of elements), beyond the headers built against.
  static let setBackendTypeAttribute: UInt16 = 19
  static let setElementCountAttribute: UInt16 = 20
  /// The table flags that tie a table to the socket that made it (NFT_TABLE_F_OWNER, NFT_TABLE_F_PERSIST).
  static let tableFlagsOfTheSocket: UInt32 = 0x2 | 0x4
  static let flagCreate = UInt16(NLM_F_CREATE)
  static let flagAppend = UInt16(NLM_F_APPEND)

  static let registerVerdict: UInt32 = 0

  /// The register holding the 32-bit word at `offset` (in words) of a concatenation: nft names 16-byte aligned
  /// words by their 128-bit register (NFT_REG_1…4) and the others by their 32-bit register (NFT_REG32_00…15).
  static func register(wordOffset offset: Int) -> UInt32 {
    offset % 4 == 0 ? UInt32(NFT_REG_1.rawValue) + UInt32(offset / 4) : UInt32(NFT_REG32_00.rawValue) + UInt32(offset)
  }

  static let verdictAccept = UInt32(bitPattern: NF_ACCEPT)
  static let verdictDrop = UInt32(bitPattern: NF_DROP)
  static let verdictJump = UInt32(bitPattern: NFT_JUMP.rawValue)
  static let verdictGoto = UInt32(bitPattern: NFT_GOTO.rawValue)
  static let dataVerdict = UInt32(NFT_DATA_VERDICT.rawValue)

  static let setAnonymous = UInt32(NFT_SET_ANONYMOUS.rawValue)
  static let setConstant = UInt32(NFT_SET_CONSTANT.rawValue)
  static let setInterval = UInt32(NFT_SET_INTERVAL.rawValue)
  static let setMap = UInt32(NFT_SET_MAP.rawValue)
  static let setConcat = UInt32(NFT_SET_CONCAT.rawValue)
  /// `flags dynamic`: the packet path adds elements (NFT_SET_EVAL).
  static let setDynamic = UInt32(NFT_SET_EVAL.rawValue)
  static let setTimeout = UInt32(NFT_SET_TIMEOUT.rawValue)
  /// The dynset operation conduit writes: add the key, or refresh its timeout (NFT_DYNSET_OP_UPDATE).
  static let dynsetUpdate = UInt32(NFT_DYNSET_OP_UPDATE.rawValue)
}

/// nft's data types (nftables `include/datatype.h`), which name the fields of set keys.
enum NftDataType: UInt32 {
  case verdict = 1
  case integer = 4
  case string = 5
  case ipv4Address = 7
  case ipv6Address = 8
  case inetProtocol = 12
  case inetService = 13
  case icmpType = 14
  case icmpv6Type = 29
  case interfaceName = 41

  /// The field's length in bytes.
  var length: Int {
    switch self {
    case .ipv4Address: 4
    case .ipv6Address: 16
    case .inetProtocol, .icmpType, .icmpv6Type: 1
    case .inetService: 2
    case .interfaceName: 16
    case .verdict, .integer, .string: 4
    }
  }

  /// The byte order nft records for the type (1 host, 2 big endian).
  var byteOrder: UInt32 {
    switch self {
    case .ipv4Address, .ipv6Address, .inetService: 2
    case .interfaceName, .string: 1
    default: 1
    }
  }

  /// nft's name of the type.
  var nftName: String {
    switch self {
    case .verdict: "verdict"
    case .integer: "integer"
    case .string: "string"
    case .ipv4Address: "ipv4_addr"
    case .ipv6Address: "ipv6_addr"
    case .inetProtocol: "inet_proto"
    case .inetService: "inet_service"
    case .icmpType: "icmp_type"
    case .icmpv6Type: "icmpv6_type"
    case .interfaceName: "ifname"
    }
  }

  /// The type id of a concatenation: six bits a field.
  static func concatenation(_ fields: [NftDataType]) -> UInt32 {
    fields.reduce(0) { ($0 << 6) | $1.rawValue }
  }
}

/// A set or map as nft creates it.
struct NftSet {
  var name: String
  var id: UInt32
  var key: [NftDataType]
  var flags: UInt32
  var isVerdictMap: Bool
  var counter: Bool
  /// A dynamic set's element timeout (`NFTA_SET_TIMEOUT`).
  var timeoutMilliseconds: UInt64? = nil
  /// The most elements (`NFTA_SET_DESC_SIZE`).
  var size: Int? = nil
  /// Elements: key (and key end for intervals) bytes, and for maps the verdict and chain.
  var elements: NftSetElements
  /// The index of the set's place (`BatchOrigins.places`).
  var origin: Int32

  /// The key length: every field of a concatenation occupies whole 32-bit words.
  var keyLength: Int {
    key.count == 1 ? key[0].length : key.reduce(0) { $0 + ($1.length + 3) / 4 * 4 }
  }
}

/// The elements of an `NftSet`, each made when its message is built (in parallel for large sets).
struct NftSetElements: Sendable {
  let count: Int
  let element: @Sendable (Int) -> NftSetElement

  init(count: Int, element: @escaping @Sendable (Int) -> NftSetElement) {
    self.count = count
    self.element = element
  }

  init(_ elements: [NftSetElement]) {
    self.init(count: elements.count) { elements[$0] }
  }

  var isEmpty: Bool { count == 0 }
}

/// One element of an `NftSet`.
struct NftSetElement: Sendable {
  var key: [UInt8]
  var keyEnd: [UInt8]?
  var verdict: (code: UInt32, chain: String)?
  /// The element's user data: its comment (`commentUserData`), or nil.
  var comment: [UInt8]?
  /// The index of the element's place (`BatchOrigins.places`).
  var origin: Int32

  /// A comment as nft writes it into an element's user data: one `NFTNL_UDATA_SET_ELEM_COMMENT` record, the text
  /// and its NUL (at most 128 bytes).
  static func commentUserData(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8.prefix(127)) + [0]
    return [UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue), UInt8(bytes.count)] + bytes
  }
}

/// One expression of a rule: one function per kind builds it (`NetlinkBatchWriter.expression`).
enum NftExpression {
  case meta(key: UInt32, register: UInt32)
  case compare(operation: UInt32, register: UInt32, data: [UInt8])
  case conntrack(key: UInt32, register: UInt32)
  case bitwise(register: UInt32, length: UInt32, mask: [UInt8], xor: [UInt8])
  case payload(base: UInt32, offset: UInt32, length: UInt32, register: UInt32)
  case byteOrder(register: UInt32, operation: UInt32, length: UInt32, size: UInt32)
  case lookup(register: UInt32, set: String, setID: UInt32, destination: UInt32?, inverted: Bool)
  /// `update @set { key }`: the key in `register` onward.
  case dynset(register: UInt32, set: String, setID: UInt32)
  case counter
  case verdict(code: UInt32, chain: String?)
  case limit(rate: UInt64, unit: UInt64, burst: UInt32)
  case log(prefix: String)
}

/// One rule: its chain, expressions and where it comes from.
struct NftRule {
  var chain: String
  var expressions: [NftExpression]
  /// The index of the rule's place (`BatchOrigins.places`).
  var origin: Int32
}

/// A base chain's hook, or nothing for a regular chain.
struct NftChain {
  var name: String
  var hook: (number: UInt32, priority: Int32, policy: UInt32)?
  /// The chain's comment (user data `NFTNL_UDATA_CHAIN_COMMENT`, as nft writes it).
  var comment: String?
  /// The index of the chain's place (`BatchOrigins.places`).
  var origin: Int32
}

/// Writes nf_tables netlink messages into one contiguous batch (begin, messages, end), remembering where each
/// message and each set element comes from (indices into the places of `BatchOrigins`).
struct NetlinkBatchWriter {
  private(set) var bytes: [UInt8] = []
  /// Sequence number to the index of the message's place.
  private(set) var messageOrigins: [UInt32: Int32] = [:]
  /// The index of the place of every set element written, in order.
  private(set) var elementOrigins: [Int32] = []
  private var sequence: UInt32 = 0
  private var scratch = [UInt8](repeating: 0, count: 1 << 17)
  let table: String

  init(table: String) {
    self.table = table
  }

  /// The first sequence number of the batch (the begin message).
  static let firstSequence: UInt32 = 1

  mutating func begin() {
    sequence = Self.firstSequence
    let sequence = self.sequence
    write { buffer in nftnl_batch_begin(buffer, sequence) }
  }

  mutating func end() {
    sequence += 1
    let sequence = self.sequence
    write { buffer in nftnl_batch_end(buffer, sequence) }
  }

  mutating func newTable(origin: Int32) {
    tableMessage(NetlinkConstant.messageNewTable, flags: NetlinkConstant.flagCreate, origin: origin)
  }

  mutating func deleteTable(origin: Int32) {
    tableMessage(NetlinkConstant.messageDeleteTable, flags: 0, origin: origin)
  }

  private mutating func tableMessage(_ type: UInt16, flags: UInt16, origin: Int32) {
    let table = nftnl_table_alloc()!
    defer { nftnl_table_free(table) }
    nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), self.table)
    nftnl_table_set_u32(table, UInt16(NFTNL_TABLE_FAMILY.rawValue), UInt32(NetlinkConstant.familyInet))
    message(type, flags: flags | NetlinkConstant.flagAck, origin: origin) { header in
      nftnl_table_nlmsg_build_payload(header, table)
    }
  }

  mutating func newChain(_ chain: NftChain) {
    let object = nftnl_chain_alloc()!
    defer { nftnl_chain_free(object) }
    nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_TABLE.rawValue), table)
    nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
    if let hook = chain.hook {
      nftnl_chain_set_u32(object, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), hook.number)
      nftnl_chain_set_s32(object, UInt16(NFTNL_CHAIN_PRIO.rawValue), hook.priority)
      nftnl_chain_set_u32(object, UInt16(NFTNL_CHAIN_POLICY.rawValue), hook.policy)
      nftnl_chain_set_str(object, UInt16(NFTNL_CHAIN_TYPE.rawValue), "filter")
    }
    let userData = nftnl_udata_buf_alloc(256)!
    defer { nftnl_udata_buf_free(userData) }
    if let comment = chain.comment {
      _ = nftnl_udata_put_strz(userData, UInt8(NFTNL_UDATA_CHAIN_COMMENT.rawValue), comment)
      nftnl_chain_set_data(
        object, UInt16(NFTNL_CHAIN_USERDATA.rawValue), nftnl_udata_buf_data(userData), nftnl_udata_buf_len(userData))
    }
    message(
      NetlinkConstant.messageNewChain, flags: NetlinkConstant.flagCreate | NetlinkConstant.flagAck,
      origin: chain.origin
    ) { header in nftnl_chain_nlmsg_build_payload(header, object) }
  }

  mutating func newSet(_ set: NftSet) {
    let object = makeSet(set)
    defer { nftnl_set_free(object) }
    let flags = set.flags
    nftnl_set_set_u32(object, UInt16(NFTNL_SET_FLAGS.rawValue), flags)
    nftnl_set_set_u32(object, UInt16(NFTNL_SET_KEY_TYPE.rawValue), NftDataType.concatenation(set.key))
    nftnl_set_set_u32(object, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(set.keyLength))
    if set.isVerdictMap {
      nftnl_set_set_u32(object, UInt16(NFTNL_SET_DATA_TYPE.rawValue), NetlinkConstant.dataVerdict)
      nftnl_set_set_u32(object, UInt16(NFTNL_SET_DATA_LEN.rawValue), 0)
    }
    if flags & NetlinkConstant.setAnonymous != 0 {
      nftnl_set_set_u32(object, UInt16(NFTNL_SET_DESC_SIZE.rawValue), UInt32(set.elements.count))
    } else if let size = set.size {
      nftnl_set_set_u32(object, UInt16(NFTNL_SET_DESC_SIZE.rawValue), UInt32(size))
    }
    if let timeout = set.timeoutMilliseconds {
      nftnl_set_set_u64(object, UInt16(NFTNL_SET_TIMEOUT.rawValue), timeout)
    }
    if set.key.count > 1, flags & NetlinkConstant.setInterval != 0 {
      var lengths = set.key.map { UInt8($0.length) }
      _ = lengths.withUnsafeMutableBytes { raw in
        nftnl_set_set_data(object, UInt16(NFTNL_SET_DESC_CONCAT.rawValue), raw.baseAddress, UInt32(raw.count))
      }
    }
    if set.counter, let counter = nftnl_expr_alloc("counter") {
      nftnl_set_add_expr(object, counter)
    }
    let userData = nftnl_udata_buf_alloc(64)!
    defer { nftnl_udata_buf_free(userData) }
    nftnl_udata_put_u32(
      userData, UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue), set.key.count == 1 ? set.key[0].byteOrder : 0)
    if set.isVerdictMap {
      nftnl_udata_put_u32(userData, UInt8(NFTNL_UDATA_SET_DATABYTEORDER.rawValue), 0)
    }
    nftnl_set_set_data(
      object, UInt16(NFTNL_SET_USERDATA.rawValue), nftnl_udata_buf_data(userData), nftnl_udata_buf_len(userData))
    message(
      NetlinkConstant.messageNewSet, flags: NetlinkConstant.flagCreate | NetlinkConstant.flagAck, origin: set.origin
    ) {
      header in nftnl_set_nlmsg_build_payload(header, object)
    }
    guard !set.elements.isEmpty else { return }
    let chunkCount = (set.elements.count + Self.elementsPerChunk - 1) / Self.elementsPerChunk
    let table = self.table
    let chunks = concurrentMap(count: chunkCount) { chunk in
      var writer = NetlinkBatchWriter(table: table)
      writer.setElementMessages(
        set, (chunk * Self.elementsPerChunk)..<min(set.elements.count, (chunk + 1) * Self.elementsPerChunk))
      return (writer.bytes, writer.elementOrigins)
    }
    bytes.reserveCapacity(bytes.count + chunks.reduce(0) { $0 + $1.0.count })
    elementOrigins.reserveCapacity(elementOrigins.count + set.elements.count)
    for (chunk, origins) in chunks {
      appendNumbering(chunk, origin: set.origin)
      elementOrigins += origins
    }
  }

  /// Set elements per group whose messages are built together (by one core); a group's last message may be short.
  static let elementsPerChunk = 4096

  /// Appends the elements `range` of `set` as element messages, each holding as many as fit (sequence numbers 0).
  private mutating func setElementMessages(_ set: NftSet, _ range: Range<Int>) {
    let elements = makeSet(set)
    defer { nftnl_set_free(elements) }
    for index in range {
      let element = set.elements.element(index)
      let object = nftnl_set_elem_alloc()!
      var key = element.key
      _ = key.withUnsafeMutableBytes { raw in
        nftnl_set_elem_set(object, UInt16(NFTNL_SET_ELEM_KEY), raw.baseAddress, UInt32(raw.count))
      }
      if var end = element.keyEnd {
        _ = end.withUnsafeMutableBytes { raw in
          nftnl_set_elem_set(object, UInt16(NFTNL_SET_ELEM_KEY_END), raw.baseAddress, UInt32(raw.count))
        }
      }
      if var comment = element.comment {
        _ = comment.withUnsafeMutableBytes { raw in
          nftnl_set_elem_set(object, UInt16(NFTNL_SET_ELEM_USERDATA), raw.baseAddress, UInt32(raw.count))
        }
      }
      if let verdict = element.verdict {
        nftnl_set_elem_set_u32(object, UInt16(NFTNL_SET_ELEM_VERDICT), verdict.code)
        nftnl_set_elem_set_str(object, UInt16(NFTNL_SET_ELEM_CHAIN), verdict.chain)
      }
      nftnl_set_elem_add(elements, object)
      elementOrigins.append(element.origin)
    }
    let iterator = nftnl_set_elems_iter_create(elements)!
    defer { nftnl_set_elems_iter_destroy(iterator) }
    while nftnl_set_elems_iter_cur(iterator) != nil {
      var more: Int32 = 0
      write { buffer in
        let header = nftnl_nlmsg_build_hdr(
          buffer, NetlinkConstant.messageNewSetElement, NetlinkConstant.familyInet,
          NetlinkConstant.flagCreate | NetlinkConstant.flagAck, 0)!
        more = nftnl_set_elems_nlmsg_build_payload_iter(header, iterator)
        return header
      }
      if more <= 0 { break }
    }
  }

  /// Appends whole messages built elsewhere, giving each the next sequence number and `origin`.
  private mutating func appendNumbering(_ messages: [UInt8], origin: Int32) {
    let start = bytes.count
    bytes += messages
    bytes.withUnsafeMutableBytes { raw in
      var offset = start
      while offset < raw.count {
        sequence += 1
        messageOrigins[sequence] = origin
        raw.storeBytes(of: sequence, toByteOffset: offset + 8, as: UInt32.self)
        offset += Int(raw.load(fromByteOffset: offset, as: UInt32.self))
      }
    }
  }

  private func makeSet(_ set: NftSet) -> OpaquePointer {
    let object = nftnl_set_alloc()!
    nftnl_set_set_str(object, UInt16(NFTNL_SET_TABLE.rawValue), table)
    nftnl_set_set_str(object, UInt16(NFTNL_SET_NAME.rawValue), set.name)
    nftnl_set_set_u32(object, UInt16(NFTNL_SET_FAMILY.rawValue), UInt32(NetlinkConstant.familyInet))
    nftnl_set_set_u32(object, UInt16(NFTNL_SET_ID.rawValue), set.id)
    return object
  }

  mutating func newRule(_ rule: NftRule) {
    let object = nftnl_rule_alloc()!
    defer { nftnl_rule_free(object) }
    nftnl_rule_set_str(object, UInt16(NFTNL_RULE_TABLE.rawValue), table)
    nftnl_rule_set_str(object, UInt16(NFTNL_RULE_CHAIN.rawValue), rule.chain)
    nftnl_rule_set_u32(object, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(NetlinkConstant.familyInet))
    for expression in rule.expressions {
      nftnl_rule_add_expr(object, Self.expression(expression))
    }
    message(
      NetlinkConstant.messageNewRule,
      flags: NetlinkConstant.flagCreate | NetlinkConstant.flagAppend | NetlinkConstant.flagAck, origin: rule.origin
    ) { header in nftnl_rule_nlmsg_build_payload(header, object) }
  }

  // MARK: - Expressions, one function per kind

  static func expression(_ expression: NftExpression) -> OpaquePointer {
    switch expression {
    case .meta(let key, let register): meta(key: key, register: register)
    case .compare(let operation, let register, let data): compare(operation: operation, register: register, data: data)
    case .conntrack(let key, let register): conntrack(key: key, register: register)
    case .bitwise(let register, let length, let mask, let xor):
      bitwise(register: register, length: length, mask: mask, xor: xor)
    case .payload(let base, let offset, let length, let register):
      payload(base: base, offset: offset, length: length, register: register)
    case .byteOrder(let register, let operation, let length, let size):
      byteOrder(register: register, operation: operation, length: length, size: size)
    case .lookup(let register, let set, let setID, let destination, let inverted):
      lookup(register: register, set: set, setID: setID, destination: destination, inverted: inverted)
    case .dynset(let register, let set, let setID): dynset(register: register, set: set, setID: setID)
    case .counter: counter()
    case .verdict(let code, let chain): verdict(code: code, chain: chain)
    case .limit(let rate, let unit, let burst): limit(rate: rate, unit: unit, burst: burst)
    case .log(let prefix): log(prefix: prefix)
    }
  }

  static func meta(key: UInt32, register: UInt32) -> OpaquePointer {
    let expression = nftnl_expr_alloc("meta")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_META_KEY), key)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_META_DREG), register)
    return expression
  }

  static func compare(operation: UInt32, register: UInt32, data: [UInt8]) -> OpaquePointer {
    let expression = nftnl_expr_alloc("cmp")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_CMP_SREG), register)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_CMP_OP), operation)
    setData(expression, UInt16(NFTNL_EXPR_CMP_DATA), data)
    return expression
  }

  static func conntrack(key: UInt32, register: UInt32) -> OpaquePointer {
    let expression = nftnl_expr_alloc("ct")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_CT_KEY), key)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_CT_DREG), register)
    return expression
  }

  static func bitwise(register: UInt32, length: UInt32, mask: [UInt8], xor: [UInt8]) -> OpaquePointer {
    let expression = nftnl_expr_alloc("bitwise")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BITWISE_SREG), register)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BITWISE_DREG), register)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BITWISE_LEN), length)
    setData(expression, UInt16(NFTNL_EXPR_BITWISE_MASK), mask)
    setData(expression, UInt16(NFTNL_EXPR_BITWISE_XOR), xor)
    return expression
  }

  static func payload(base: UInt32, offset: UInt32, length: UInt32, register: UInt32) -> OpaquePointer {
    let expression = nftnl_expr_alloc("payload")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_PAYLOAD_BASE), base)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_PAYLOAD_OFFSET), offset)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_PAYLOAD_LEN), length)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_PAYLOAD_DREG), register)
    return expression
  }

  static func byteOrder(register: UInt32, operation: UInt32, length: UInt32, size: UInt32) -> OpaquePointer {
    let expression = nftnl_expr_alloc("byteorder")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BYTEORDER_SREG), register)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BYTEORDER_DREG), register)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BYTEORDER_OP), operation)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BYTEORDER_LEN), length)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_BYTEORDER_SIZE), size)
    return expression
  }

  static func lookup(register: UInt32, set: String, setID: UInt32, destination: UInt32?, inverted: Bool)
    -> OpaquePointer
  {
    let expression = nftnl_expr_alloc("lookup")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LOOKUP_SREG), register)
    nftnl_expr_set_str(expression, UInt16(NFTNL_EXPR_LOOKUP_SET), set)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LOOKUP_SET_ID), setID)
    if let destination { nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LOOKUP_DREG), destination) }
    if inverted { nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LOOKUP_FLAGS), UInt32(NFT_LOOKUP_F_INV.rawValue)) }
    return expression
  }

  static func dynset(register: UInt32, set: String, setID: UInt32) -> OpaquePointer {
    let expression = nftnl_expr_alloc("dynset")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_DYNSET_SREG_KEY), register)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_DYNSET_OP), NetlinkConstant.dynsetUpdate)
    nftnl_expr_set_str(expression, UInt16(NFTNL_EXPR_DYNSET_SET_NAME), set)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_DYNSET_SET_ID), setID)
    return expression
  }

  static func counter() -> OpaquePointer {
    nftnl_expr_alloc("counter")!
  }

  static func verdict(code: UInt32, chain: String?) -> OpaquePointer {
    let expression = nftnl_expr_alloc("immediate")!
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_IMM_DREG), NetlinkConstant.registerVerdict)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_IMM_VERDICT), code)
    if let chain { nftnl_expr_set_str(expression, UInt16(NFTNL_EXPR_IMM_CHAIN), chain) }
    return expression
  }

  static func limit(rate: UInt64, unit: UInt64, burst: UInt32) -> OpaquePointer {
    let expression = nftnl_expr_alloc("limit")!
    nftnl_expr_set_u64(expression, UInt16(NFTNL_EXPR_LIMIT_RATE), rate)
    nftnl_expr_set_u64(expression, UInt16(NFTNL_EXPR_LIMIT_UNIT), unit)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LIMIT_BURST), burst)
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LIMIT_TYPE), UInt32(NFT_LIMIT_PKTS.rawValue))
    nftnl_expr_set_u32(expression, UInt16(NFTNL_EXPR_LIMIT_FLAGS), 0)
    return expression
  }

  static func log(prefix: String) -> OpaquePointer {
    let expression = nftnl_expr_alloc("log")!
    nftnl_expr_set_str(expression, UInt16(NFTNL_EXPR_LOG_PREFIX), prefix)
    return expression
  }

  private static func setData(_ expression: OpaquePointer, _ attribute: UInt16, _ data: [UInt8]) {
    var copy = data
    _ = copy.withUnsafeMutableBytes { raw in nftnl_expr_set(expression, attribute, raw.baseAddress, UInt32(raw.count)) }
  }

  // MARK: - Messages

  private mutating func message(
    _ type: UInt16, flags: UInt16, origin: Int32, payload: (UnsafeMutablePointer<nlmsghdr>) -> Void
  ) {
    sequence += 1
    messageOrigins[sequence] = origin
    let sequence = self.sequence
    write { buffer in
      let header = nftnl_nlmsg_build_hdr(buffer, type, NetlinkConstant.familyInet, flags, sequence)!
      payload(header)
      return header
    }
  }

  /// Builds one message in the zeroed scratch buffer and appends it. Only the message and what lies just past it are
  /// zeroed again: a builder writes beyond the final length only when it cancels the one set element that would
  /// overflow a 64 KiB nest, and no element comes near 4 KiB.
  private mutating func write(_ build: (UnsafeMutablePointer<CChar>) -> UnsafeMutablePointer<nlmsghdr>?) {
    var scratch: [UInt8] = []
    swap(&scratch, &self.scratch)
    scratch.withUnsafeMutableBytes { raw in
      let buffer = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
      guard let header = build(buffer) else { return }
      let length = Int(header.pointee.nlmsg_len)
      bytes.append(contentsOf: UnsafeRawBufferPointer(start: raw.baseAddress, count: length))
      UnsafeMutableRawBufferPointer(rebasing: raw[..<min(raw.count, length + 4096)]).initializeMemory(
        as: UInt8.self, repeating: 0)
    }
    swap(&scratch, &self.scratch)
  }
}
