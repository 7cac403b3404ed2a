import CNetlink

/// The attributes conduit's messages carry, and nothing else: what a batch may hold beyond its framing.
///
/// The kernel keeps the last of two attributes of one type and looks a table up by its handle before its name, so a
/// message that names conduit's table once may still act on another (a second table name, a table handle). It also
/// reads attributes conduit never writes: table flags (dormant, owned by the sending socket), chain devices, and
/// expressions that do more than match (`dup`, `queue`, `nat`, packet and conntrack writes, `log` to a netlink group,
/// xtables compatibility) and the queue verdict. Every message is held to the attribute types conduit writes for its kind, each at most
/// once, every expression to the kinds and attributes conduit writes and every verdict to the ones conduit writes,
/// so a forged batch can do no more than filter packets in conduit's table.
enum NetlinkMessageGrammar {
  /// Allowed attribute types: leaves, the grammar of each nested one, and for some 32-bit leaves the values allowed.
  /// Every type conduit writes is below 64, so `check` tests a type against bit masks and finds what a nested type
  /// holds by its number, allocating nothing.
  final class Grammar: Sendable {
    let values: [UInt16: Set<UInt32>]
    /// The leaves and nested types, as bits.
    private let allowed: UInt64
    /// The types with limited values, as bits.
    private let limited: UInt64
    /// What each nested type holds, by type (nil for a leaf or a type not allowed).
    private let nestedByType: [Nested?]

    init(leaves: Set<UInt16>, nested: [UInt16: Nested] = [:], values: [UInt16: Set<UInt32>] = [:]) {
      precondition(leaves.union(nested.keys).union(values.keys).allSatisfy { $0 < 64 })
      self.values = values
      allowed = leaves.union(nested.keys).reduce(0) { $0 | 1 << $1 }
      limited = values.keys.reduce(0) { $0 | 1 << $1 }
      var nestedByType = [Nested?](repeating: nil, count: 64)
      for (type, inner) in nested { nestedByType[Int(type)] = inner }
      self.nestedByType = nestedByType
    }

    func allows(_ type: UInt16) -> Bool { type < 64 && allowed & 1 << type != 0 }

    /// What the nested type `type` holds, nil for a leaf.
    func nestedContent(_ type: UInt16) -> Nested? { type < 64 ? nestedByType[Int(type)] : nil }

    /// Whether the values of `type` are limited (`values`).
    func limitsValues(_ type: UInt16) -> Bool { type < 64 && limited & 1 << type != 0 }
  }

  /// What a nested attribute holds.
  indirect enum Nested: Sendable {
    /// Attributes of `Grammar`, each at most once.
    case attributes(Grammar)
    /// A list of items, each holding `Nested` (libnftnl numbers set elements 1, 2, …; the kernel reads any type).
    case list(Nested)
    /// One expression (`NFTA_EXPR_NAME`, `NFTA_EXPR_DATA`) of the kinds given.
    case expression(Set<String>)
  }

  private static func attr<T: RawRepresentable>(_ value: T) -> UInt16 where T.RawValue: BinaryInteger {
    UInt16(value.rawValue)
  }

  /// The attributes of each expression kind conduit writes; the ones that write registers into packets or
  /// conntrack (`*_SREG`) and `log`'s netlink group are not among them.
  static let expressionData: [String: Set<UInt16>] = [
    "meta": [attr(NFTA_META_KEY), attr(NFTA_META_DREG)],
    "cmp": [attr(NFTA_CMP_SREG), attr(NFTA_CMP_OP), attr(NFTA_CMP_DATA)],
    "ct": [attr(NFTA_CT_KEY), attr(NFTA_CT_DREG), attr(NFTA_CT_DIRECTION)],
    "bitwise": [
      attr(NFTA_BITWISE_SREG), attr(NFTA_BITWISE_DREG), attr(NFTA_BITWISE_LEN), attr(NFTA_BITWISE_MASK),
      attr(NFTA_BITWISE_XOR), attr(NFTA_BITWISE_OP), attr(NFTA_BITWISE_DATA),
    ],
    "payload": [attr(NFTA_PAYLOAD_DREG), attr(NFTA_PAYLOAD_BASE), attr(NFTA_PAYLOAD_OFFSET), attr(NFTA_PAYLOAD_LEN)],
    "byteorder": [
      attr(NFTA_BYTEORDER_SREG), attr(NFTA_BYTEORDER_DREG), attr(NFTA_BYTEORDER_OP), attr(NFTA_BYTEORDER_LEN),
      attr(NFTA_BYTEORDER_SIZE),
    ],
    "lookup": [
      attr(NFTA_LOOKUP_SET), attr(NFTA_LOOKUP_SREG), attr(NFTA_LOOKUP_DREG), attr(NFTA_LOOKUP_SET_ID),
      attr(NFTA_LOOKUP_FLAGS),
    ],
    "counter": [attr(NFTA_COUNTER_BYTES), attr(NFTA_COUNTER_PACKETS)],
    "immediate": [attr(NFTA_IMMEDIATE_DREG), attr(NFTA_IMMEDIATE_DATA)],
    "limit": [
      attr(NFTA_LIMIT_RATE), attr(NFTA_LIMIT_UNIT), attr(NFTA_LIMIT_BURST), attr(NFTA_LIMIT_TYPE),
      attr(NFTA_LIMIT_FLAGS),
    ],
    "log": [attr(NFTA_LOG_PREFIX)],
    "dynset": [
      attr(NFTA_DYNSET_SET_NAME), attr(NFTA_DYNSET_SET_ID), attr(NFTA_DYNSET_OP), attr(NFTA_DYNSET_SREG_KEY),
    ],
  ]

  /// The values some 32-bit expression attributes may take: a dynset only updates (adds a key or refreshes its
  /// timeout); it neither deletes elements nor writes map data or expressions of its own.
  static let expressionValueLimits: [String: [UInt16: Set<UInt32>]] = [
    "dynset": [attr(NFTA_DYNSET_OP): [NetlinkConstant.dynsetUpdate]]
  ]

  /// The attributes of an expression kind that hold data (`NFTA_DATA_VALUE` or `NFTA_DATA_VERDICT`).
  static let expressionValues: [String: Set<UInt16>] = [
    "cmp": [attr(NFTA_CMP_DATA)], "immediate": [attr(NFTA_IMMEDIATE_DATA)],
    "bitwise": [attr(NFTA_BITWISE_MASK), attr(NFTA_BITWISE_XOR), attr(NFTA_BITWISE_DATA)],
  ]

  /// The verdicts conduit writes: accept, drop, continue, break, jump, goto and return; not queue (packets to
  /// userspace) nor a code with parameters in its upper bits.
  static let verdictCodes = Set([0, 1] + (1...5).map { UInt32(bitPattern: Int32(-$0)) })

  /// Data: a value, or a verdict (a code and, for a jump, a chain of the same table).
  static let data = Grammar(
    leaves: [attr(NFTA_DATA_VALUE)],
    nested: [
      attr(NFTA_DATA_VERDICT): .attributes(
        Grammar(
          leaves: [attr(NFTA_VERDICT_CODE), attr(NFTA_VERDICT_CHAIN)],
          values: [attr(NFTA_VERDICT_CODE): verdictCodes]))
    ])

  /// Top-level attributes by nf_tables message type.
  static let messages: [UInt16: Grammar] = {
    let table = Grammar(leaves: [attr(NFTA_TABLE_NAME)])
    let hook = Grammar(leaves: [attr(NFTA_HOOK_HOOKNUM), attr(NFTA_HOOK_PRIORITY)])
    let chain = Grammar(
      leaves: [
        attr(NFTA_CHAIN_TABLE), attr(NFTA_CHAIN_NAME), attr(NFTA_CHAIN_POLICY), attr(NFTA_CHAIN_TYPE),
        attr(NFTA_CHAIN_USERDATA),
      ],
      nested: [attr(NFTA_CHAIN_HOOK): .attributes(hook)])
    let counterOnly = Nested.expression(["counter"])
    let field = Grammar(leaves: [attr(NFTA_SET_FIELD_LEN)])
    let descriptor = Grammar(
      leaves: [attr(NFTA_SET_DESC_SIZE)], nested: [attr(NFTA_SET_DESC_CONCAT): .list(.attributes(field))])
    let set = Grammar(
      leaves: [
        attr(NFTA_SET_TABLE), attr(NFTA_SET_NAME), attr(NFTA_SET_FLAGS), attr(NFTA_SET_KEY_TYPE),
        attr(NFTA_SET_KEY_LEN), attr(NFTA_SET_DATA_TYPE), attr(NFTA_SET_DATA_LEN), attr(NFTA_SET_POLICY),
        attr(NFTA_SET_ID), attr(NFTA_SET_USERDATA), attr(NFTA_SET_TIMEOUT),
      ],
      nested: [
        attr(NFTA_SET_DESC): .attributes(descriptor), attr(NFTA_SET_EXPR): counterOnly,
        attr(NFTA_SET_EXPRESSIONS): .list(counterOnly),
      ])
    let element = Grammar(
      leaves: [attr(NFTA_SET_ELEM_USERDATA)],
      nested: [
        attr(NFTA_SET_ELEM_KEY): .attributes(data), attr(NFTA_SET_ELEM_KEY_END): .attributes(data),
        attr(NFTA_SET_ELEM_DATA): .attributes(data),
      ])
    let elements = Grammar(
      leaves: [attr(NFTA_SET_ELEM_LIST_TABLE), attr(NFTA_SET_ELEM_LIST_SET), attr(NFTA_SET_ELEM_LIST_SET_ID)],
      nested: [attr(NFTA_SET_ELEM_LIST_ELEMENTS): .list(.attributes(element))])
    let rule = Grammar(
      leaves: [attr(NFTA_RULE_TABLE), attr(NFTA_RULE_CHAIN), attr(NFTA_RULE_USERDATA)],
      nested: [attr(NFTA_RULE_EXPRESSIONS): .list(.expression(Set(expressionData.keys)))])
    return [
      NetlinkConstant.messageNewTable: table, NetlinkConstant.messageDeleteTable: table,
      NetlinkConstant.messageNewChain: chain, NetlinkConstant.messageNewSet: set,
      NetlinkConstant.messageNewSetElement: elements, NetlinkConstant.messageNewRule: rule,
    ]
  }()

  /// The grammar of the data of each expression kind: its leaves, and its data attributes holding `data`.
  static let expressionGrammars: [String: Grammar] = Dictionary(
    uniqueKeysWithValues: expressionData.map { name, allowed in
      let values = expressionValues[name] ?? []
      let grammar = Grammar(
        leaves: allowed.subtracting(values),
        nested: Dictionary(uniqueKeysWithValues: values.map { ($0, Nested.attributes(data)) }),
        values: expressionValueLimits[name] ?? [:])
      return (name, grammar)
    })

  /// An expression: its name and its data.
  private static let expression = Grammar(leaves: [attr(NFTA_EXPR_NAME), attr(NFTA_EXPR_DATA)])

  /// Checks `attributes`, the top level of a message of nf_tables type `type`, and everything nested in them.
  static func check(
    _ bytes: [UInt8], _ attributes: [NetlinkBatchLayout.Attribute], messageType type: UInt16, message: Int
  ) throws(NetlinkBatchError) {
    guard let grammar = messages[type] else {
      throw NetlinkBatchError(description: "message \(message) has type \(type), which conduit never sends")
    }
    var seen: UInt64 = 0
    for attribute in attributes { try check(bytes, attribute, grammar, seen: &seen, message: message) }
    if type == NetlinkConstant.messageNewChain,
      let chainType = attributes.first(where: { $0.type == attr(NFTA_CHAIN_TYPE) }),
      NetlinkBatchLayout.string(bytes, chainType.range) != "filter"
    {
      throw NetlinkBatchError(description: "message \(message) creates a chain that is not of type filter")
    }
  }

  /// Checks the attributes in `range` against `grammar`.
  private static func check(_ bytes: [UInt8], attributesIn range: Range<Int>, _ grammar: Grammar, message: Int)
    throws(NetlinkBatchError)
  {
    var seen: UInt64 = 0
    try NetlinkBatchLayout.forEachAttribute(bytes, range, message: message) { (attribute) throws(NetlinkBatchError) in
      try check(bytes, attribute, grammar, seen: &seen, message: message)
    }
  }

  /// Checks one attribute of a list held to `grammar`; `seen` holds the types met before it in the list.
  private static func check(
    _ bytes: [UInt8], _ attribute: NetlinkBatchLayout.Attribute, _ grammar: Grammar, seen: inout UInt64,
    message: Int
  ) throws(NetlinkBatchError) {
    // A type of 64 or more is never allowed, so it is refused the first time it appears.
    if attribute.type < 64 {
      guard seen & 1 << attribute.type == 0 else {
        throw NetlinkBatchError(description: "message \(message) has more than one attribute \(attribute.type)")
      }
      seen |= 1 << attribute.type
    }
    guard grammar.allows(attribute.type) else {
      throw NetlinkBatchError(
        description: "message \(message) carries attribute \(attribute.type), which conduit never sends there")
    }
    if let nested = grammar.nestedContent(attribute.type) {
      try check(bytes, attribute.range, nested, message: message)
    }
    if grammar.limitsValues(attribute.type), let values = grammar.values[attribute.type] {
      let value = attribute.range.count == 4 ? bytes[attribute.range].reduce(0) { $0 << 8 | UInt32($1) } : nil
      guard let value, values.contains(value) else {
        throw NetlinkBatchError(
          description: "message \(message) has attribute \(attribute.type) with a value conduit never sends")
      }
    }
  }

  private static func check(_ bytes: [UInt8], _ range: Range<Int>, _ nested: Nested, message: Int)
    throws(NetlinkBatchError)
  {
    switch nested {
    case .attributes(let grammar):
      try check(bytes, attributesIn: range, grammar, message: message)
    case .list(let element):
      try NetlinkBatchLayout.forEachAttribute(bytes, range, message: message) { (item) throws(NetlinkBatchError) in
        try check(bytes, item.range, element, message: message)
      }
    case .expression(let kinds):
      try check(bytes, attributesIn: range, expression, message: message)
      var nameRange: Range<Int>?
      var dataRange: Range<Int>?
      try NetlinkBatchLayout.forEachAttribute(bytes, range, message: message) { (attribute) throws(NetlinkBatchError) in
        if attribute.type == attr(NFTA_EXPR_NAME) { nameRange = attribute.range }
        if attribute.type == attr(NFTA_EXPR_DATA) { dataRange = attribute.range }
      }
      guard let nameRange, let name = NetlinkBatchLayout.string(bytes, nameRange), kinds.contains(name),
        let grammar = expressionGrammars[name]
      else {
        throw NetlinkBatchError(description: "message \(message) holds an expression conduit never sends")
      }
      if let dataRange { try check(bytes, attributesIn: dataRange, grammar, message: message) }
    }
  }
}
