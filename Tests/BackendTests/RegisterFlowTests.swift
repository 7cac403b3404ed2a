import CNetlink
import Testing

@testable import NftablesBackend

/// Batches forged to match interfaces past the sets `apply` reads them from: the interfaces a batch matches are
/// derived from what its rules do with the registers, not from what its sets declare, so a forged batch either
/// names every interface it matches or is refused.
@Suite struct RegisterFlowTests {
  static let reg1 = UInt32(NFT_REG_1.rawValue)
  static let iifname = UInt32(NFT_META_IIFNAME.rawValue)
  static let oifname = UInt32(NFT_META_OIFNAME.rawValue)
  static let accept = NetlinkConstant.verdictAccept

  static func name(_ text: String) -> [UInt8] { Array(text.utf8) + [UInt8](repeating: 0, count: 16 - text.utf8.count) }

  static func set(
    _ name: String, id: UInt32, key: [NftDataType], interval: Bool = true, elements: [([UInt8], [UInt8])]
  ) -> NftSet {
    NftSet(
      name: name, id: id, key: key,
      flags: interval ? NetlinkConstant.setInterval | (key.count > 1 ? NetlinkConstant.setConcat : 0) : 0,
      isVerdictMap: false, counter: false,
      elements: NftSetElements(
        elements.map {
          NftSetElement(key: $0.0, keyEnd: interval ? $0.1 : nil, verdict: nil, origin: BatchOrigins.none)
        }),
      origin: BatchOrigins.none)
  }

  /// `eth0 . 10.0.0.0-10.0.0.255`, the shape of conduit's own zones set.
  static let zones = set(
    "zones_v4", id: 1, key: [.interfaceName, .ipv4Address],
    elements: [(name("eth0") + [10, 0, 0, 0], name("eth0") + [10, 0, 0, 255])])

  /// A batch of conduit's table with a forward chain, `sets` and one rule per expression list.
  static func batch(sets: [NftSet], rules: [[NftExpression]], deletingTheTable: Bool = true) -> [UInt8] {
    var writer = NetlinkBatchWriter(table: "conduit")
    writer.begin()
    writer.newTable(origin: BatchOrigins.none)
    if deletingTheTable { writer.deleteTable(origin: BatchOrigins.none) }
    writer.newTable(origin: BatchOrigins.none)
    writer.newChain(
      NftChain(
        name: "forward", hook: (UInt32(NF_INET_FORWARD.rawValue), 0, NetlinkConstant.verdictDrop),
        origin: BatchOrigins.none))
    for set in sets { writer.newSet(set) }
    for rule in rules { writer.newRule(NftRule(chain: "forward", expressions: rule, origin: BatchOrigins.none)) }
    writer.end()
    return writer.bytes
  }

  static let sourceAddress: NftExpression = .payload(
    base: UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue), offset: 12, length: 4,
    register: NetlinkConstant.register(wordOffset: 4))

  struct Case: CustomTestStringConvertible, Sendable {
    var label: String
    var batch: @Sendable () -> [UInt8]
    /// The interfaces derived, or the refusal's text.
    var expected: Result<[String], NetlinkBatchError>
    var testDescription: String { label }
  }

  static let cases: [Case] = [
    Case(
      label: "conduit's anti-spoofing lookup", batch: { batch(sets: [zones], rules: [antiSpoofing(.iifname)]) },
      expected: .success(["eth0"])),
    Case(
      label: "a set declared as addresses, looked up with an interface name",
      batch: {
        let disguised = set("disguised", id: 2, key: [.ipv6Address], interval: false, elements: [(name("eth9"), [])])
        return batch(
          sets: [zones, disguised],
          rules: [
            antiSpoofing(.iifname),
            [
              .meta(key: oifname, register: reg1),
              .lookup(register: reg1, set: "disguised", setID: 2, destination: nil, inverted: false),
              .verdict(code: accept, chain: nil),
            ],
          ])
      }, expected: .success(["eth0", "eth9"])),
    Case(
      label: "an interface name compared directly",
      batch: {
        batch(
          sets: [zones],
          rules: [
            [
              .meta(key: iifname, register: reg1),
              .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: reg1, data: name("eth7")),
              .verdict(code: accept, chain: nil),
            ]
          ])
      }, expected: .failure(refusal(7, "matches an interface name by cmp, not by looking it up in a set"))),
    Case(
      label: "an interface name masked (a wildcard)",
      batch: {
        batch(
          sets: [zones],
          rules: [
            [
              .meta(key: iifname, register: reg1),
              .bitwise(
                register: reg1, length: 16, mask: [UInt8](repeating: 0xFF, count: 3) + [UInt8](repeating: 0, count: 13),
                xor: [UInt8](repeating: 0, count: 16)),
              .verdict(code: accept, chain: nil),
            ]
          ])
      }, expected: .failure(refusal(7, "matches an interface name by bitwise, not by looking it up in a set"))),
    Case(
      label: "a register loaded by one rule and compared by the next",
      batch: {
        batch(
          sets: [zones],
          rules: [
            [.meta(key: iifname, register: reg1), .counter],
            [
              .compare(operation: UInt32(NFT_CMP_EQ.rawValue), register: reg1, data: name("eth7")),
              .verdict(code: accept, chain: nil),
            ],
          ])
      }, expected: .failure(refusal(8, "reads register 4, which the rule has not written"))),
    Case(
      label: "the first four bytes of a name looked up (a prefix match)",
      batch: {
        let prefix = set("prefix", id: 2, key: [.ipv4Address], interval: false, elements: [(Array("eth0".utf8), [])])
        return batch(
          sets: [zones, prefix],
          rules: [
            [
              .meta(key: iifname, register: reg1),
              .lookup(register: reg1, set: "prefix", setID: 2, destination: nil, inverted: false),
              .verdict(code: accept, chain: nil),
            ]
          ])
      }, expected: .failure(refusal(9, "looks up part of an interface name"))),
    Case(
      label: "a name partly overwritten, then looked up",
      batch: {
        let disguised = set("disguised", id: 2, key: [.ipv6Address], interval: false, elements: [(name("eth9"), [])])
        return batch(
          sets: [zones, disguised],
          rules: [
            [
              .meta(key: iifname, register: reg1),
              .payload(
                base: UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue), offset: 12, length: 4,
                register: NetlinkConstant.register(wordOffset: 1)),
              .lookup(register: reg1, set: "disguised", setID: 2, destination: nil, inverted: false),
              .verdict(code: accept, chain: nil),
            ]
          ])
      }, expected: .failure(refusal(9, "looks up part of an interface name"))),
    Case(
      label: "an element that is a range of interface names",
      batch: {
        let range = set(
          "zones_v4", id: 1, key: [.interfaceName, .ipv4Address],
          elements: [(name("eth0") + [10, 0, 0, 0], name("eth9") + [10, 0, 0, 255])])
        return batch(sets: [range], rules: [antiSpoofing(.iifname)])
      }, expected: .failure(refusal(6, "has an element that is a range of interface names"))),
    Case(
      label: "a lookup of a set the batch does not create",
      batch: {
        batch(
          sets: [zones],
          rules: [
            [
              .meta(key: iifname, register: reg1),
              .lookup(register: reg1, set: "elsewhere", setID: 9, destination: nil, inverted: false),
            ]
          ])
      }, expected: .failure(refusal(7, "looks up a set the batch does not create"))),
    Case(
      label: "sets beside those of the live table (no delete)",
      batch: { batch(sets: [zones], rules: [antiSpoofing(.iifname)], deletingTheTable: false) },
      expected: .failure(refusal(4, "creates a set before the batch deletes the table"))),
    Case(
      label: "conduit's drop tracking: the interface pair added to a dynamic set",
      batch: { batch(sets: [zones, dropInterfaces(dynamic: true)], rules: [antiSpoofing(.iifname), interfacePair]) },
      expected: .success(["eth0"])),
    Case(
      label: "an update of a set that is not dynamic",
      batch: { batch(sets: [zones, dropInterfaces(dynamic: false)], rules: [antiSpoofing(.iifname), interfacePair]) },
      expected: .failure(refusal(9, "updates a set that is not dynamic"))),
    Case(
      label: "a dynamic set filled with interface names by packets, then looked up",
      batch: {
        batch(
          sets: [zones, dropInterfaces(dynamic: true)],
          rules: [
            antiSpoofing(.iifname), interfacePair,
            [
              .meta(key: iifname, register: reg1), .meta(key: oifname, register: NFT_REG_2.rawValue),
              .lookup(register: reg1, set: "drop_interfaces", setID: 2, destination: nil, inverted: false),
              .verdict(code: accept, chain: nil),
            ],
          ])
      }, expected: .failure(refusal(10, "looks up a dynamic set"))),
    Case(
      label: "an update of a set the batch does not create",
      batch: { batch(sets: [zones], rules: [interfacePair]) },
      expected: .failure(refusal(7, "updates a set the batch does not create"))),
  ]

  /// `drop_interfaces` (`ifname . ifname`, no elements), dynamic as conduit declares it or not.
  static func dropInterfaces(dynamic: Bool) -> NftSet {
    var set = set("drop_interfaces", id: 2, key: [.interfaceName, .interfaceName], interval: false, elements: [])
    if dynamic { set.flags |= NetlinkConstant.setDynamic }
    return set
  }

  /// `update @drop_interfaces { iifname . oifname }`.
  static let interfacePair: [NftExpression] = [
    .meta(key: iifname, register: reg1), .meta(key: oifname, register: NFT_REG_2.rawValue),
    .dynset(register: reg1, set: "drop_interfaces", setID: 2),
  ]

  enum Direction { case iifname, oifname }

  static func antiSpoofing(_ direction: Direction) -> [NftExpression] {
    [
      .meta(key: direction == .iifname ? iifname : oifname, register: reg1), sourceAddress,
      .lookup(register: reg1, set: "zones_v4", setID: 1, destination: nil, inverted: true), .counter,
      .verdict(code: NetlinkConstant.verdictDrop, chain: nil),
    ]
  }

  /// The refusal of message `index` of the batch (the begin is 0; the table messages 1-3, the chain 4, then each
  /// set and its elements, then the rules).
  static func refusal(_ index: Int, _ text: String) -> NetlinkBatchError {
    NetlinkBatchError(description: "message \(index) \(text)")
  }

  @Test(arguments: cases)
  func interfacesAreDerivedFromTheRegistersOrTheBatchIsRefused(_ testCase: Case) {
    let result = Result { () throws(NetlinkBatchError) in try NetlinkBatchLayout(validating: testCase.batch()) }
    switch (result, testCase.expected) {
    case (.success(let layout), .success(let interfaces)): #expect(layout.interfaces == interfaces)
    case (.failure(let error), .failure(let expected)): #expect(error == expected)
    default: Issue.record("\(testCase.label): got \(result), expected \(testCase.expected)")
    }
  }
}
