import CNetlink
import ConduitKit
import FirewallIR
import FlowSpace
import Foundation
import PolicyModel
import Testing

@testable import NftablesBackend

/// `ComparableTable` without a kernel: tables built from messages as a dump lists them, compared with the batch
/// that creates them.
@Suite struct TableComparisonTests {
  /// nf_tables messages of table `t`, built attribute by attribute.
  enum Build {
    static func attribute<T: RawRepresentable>(_ type: T, _ value: [UInt8], nested: Bool = false) -> [UInt8]
    where T.RawValue: BinaryInteger { raw(UInt16(type.rawValue), value, nested: nested) }

    static func raw(_ type: UInt16, _ value: [UInt8], nested: Bool = false) -> [UInt8] {
      var out = withUnsafeBytes(of: UInt16(value.count + 4).littleEndian) { Array($0) }
      out += withUnsafeBytes(of: (type | (nested ? 0x8000 : 0)).littleEndian) { Array($0) }
      return out + value + [UInt8](repeating: 0, count: (4 - value.count % 4) % 4)
    }

    static func string(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }
    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    static func message(_ type: UInt16, _ attributes: [[UInt8]]) -> [UInt8] {
      var out = [UInt8](repeating: 0, count: 20)
      out[4] = UInt8(type)
      out[5] = UInt8(NFNL_SUBSYS_NFTABLES)
      out[16] = UInt8(NFPROTO_INET)
      out += attributes.joined()
      out.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(out.count).littleEndian) { Array($0) })
      return out
    }

    static func table() -> [UInt8] {
      message(NetlinkConstant.messageNewTable, [attribute(NFTA_TABLE_NAME, string("conduit_t"))])
    }

    static func chain(_ name: String, hook: Bool = false, comment: String? = nil, extra: [[UInt8]] = []) -> [UInt8] {
      var attributes = [attribute(NFTA_CHAIN_TABLE, string("conduit_t")), attribute(NFTA_CHAIN_NAME, string(name))]
      if hook {
        attributes.append(
          attribute(
            NFTA_CHAIN_HOOK,
            attribute(NFTA_HOOK_HOOKNUM, u32(2)) + attribute(NFTA_HOOK_PRIORITY, u32(0)), nested: true))
        attributes.append(attribute(NFTA_CHAIN_POLICY, u32(0)))
        attributes.append(attribute(NFTA_CHAIN_TYPE, string("filter")))
      }
      if let comment {
        let text = Array(comment.utf8) + [0]
        attributes.append(
          attribute(NFTA_CHAIN_USERDATA, [NetlinkConstant.userDataChainComment, UInt8(text.count)] + text))
      }
      return message(NetlinkConstant.messageNewChain, attributes + extra)
    }

    static func set(_ name: String, flags: UInt32 = 0, id: UInt32, extra: [[UInt8]] = []) -> [UInt8] {
      message(
        NetlinkConstant.messageNewSet,
        [
          attribute(NFTA_SET_TABLE, string("conduit_t")), attribute(NFTA_SET_NAME, string(name)),
          attribute(NFTA_SET_FLAGS, u32(flags)), attribute(NFTA_SET_KEY_TYPE, u32(7)),
          attribute(NFTA_SET_KEY_LEN, u32(4)), attribute(NFTA_SET_ID, u32(id)),
        ] + extra)
    }

    /// Elements of IPv4 addresses `10.0.0.N`, each element with `extra` attributes.
    static func elements(_ set: String, _ hosts: [UInt8], extra: [[UInt8]] = [], setID: UInt32? = nil) -> [UInt8] {
      let items = hosts.map { host in
        raw(
          1,
          attribute(NFTA_SET_ELEM_KEY, attribute(NFTA_DATA_VALUE, [10, 0, 0, host]), nested: true) + extra.joined(),
          nested: true)
      }
      var attributes = [
        attribute(NFTA_SET_ELEM_LIST_TABLE, string("conduit_t")), attribute(NFTA_SET_ELEM_LIST_SET, string(set)),
        attribute(NFTA_SET_ELEM_LIST_ELEMENTS, Array(items.joined()), nested: true),
      ]
      if let setID { attributes.append(attribute(NFTA_SET_ELEM_LIST_SET_ID, u32(setID))) }
      return message(NetlinkConstant.messageNewSetElement, attributes)
    }

    static func expression(_ name: String, _ data: [[UInt8]]) -> [UInt8] {
      raw(
        1,
        attribute(NFTA_EXPR_NAME, string(name)) + attribute(NFTA_EXPR_DATA, Array(data.joined()), nested: true),
        nested: true)
    }

    static func counter(packets: UInt64 = 0) -> [UInt8] { raw(1, counterData(packets: packets), nested: true) }

    /// A counter expression's name and data, as a rule's list item or a set element's expression holds them.
    static func counterData(packets: UInt64) -> [UInt8] {
      let data =
        attribute(NFTA_COUNTER_BYTES, withUnsafeBytes(of: (packets * 100).bigEndian) { Array($0) })
        + attribute(NFTA_COUNTER_PACKETS, withUnsafeBytes(of: packets.bigEndian) { Array($0) })
      return attribute(NFTA_EXPR_NAME, string("counter")) + attribute(NFTA_EXPR_DATA, data, nested: true)
    }

    static func lookup(_ set: String, id: UInt32? = nil) -> [UInt8] {
      expression(
        "lookup",
        [attribute(NFTA_LOOKUP_SET, string(set)), attribute(NFTA_LOOKUP_SREG, u32(1))]
          + (id.map { [attribute(NFTA_LOOKUP_SET_ID, u32($0))] } ?? []))
    }

    static func verdict(_ code: UInt32) -> [UInt8] {
      expression(
        "immediate",
        [
          attribute(NFTA_IMMEDIATE_DREG, u32(0)),
          attribute(
            NFTA_IMMEDIATE_DATA,
            attribute(NFTA_DATA_VERDICT, attribute(NFTA_VERDICT_CODE, u32(code)), nested: true), nested: true),
        ])
    }

    static func rule(_ chain: String, _ expressions: [[UInt8]], handle: UInt64? = nil) -> [UInt8] {
      var attributes = [
        attribute(NFTA_RULE_TABLE, string("conduit_t")), attribute(NFTA_RULE_CHAIN, string(chain)),
        attribute(NFTA_RULE_EXPRESSIONS, Array(expressions.joined()), nested: true),
      ]
      if let handle {
        attributes.append(attribute(NFTA_RULE_HANDLE, withUnsafeBytes(of: handle.bigEndian) { Array($0) }))
      }
      return message(NetlinkConstant.messageNewRule, attributes)
    }

    static func batch(_ messages: [[UInt8]]) -> [UInt8] {
      let begin = RawBatchWriter.control(UInt16(NFNL_MSG_BATCH_BEGIN), sequence: 1)
      let delete = message(NetlinkConstant.messageDeleteTable, [attribute(NFTA_TABLE_NAME, string("conduit_t"))])
      let end = RawBatchWriter.control(UInt16(NFNL_MSG_BATCH_END), sequence: 2)
      return begin + table() + delete + Array(messages.joined()) + end
    }
  }

  static let identity = "conduit 1.0; site s; gateway g; compile 0123456789abcdef"

  /// What a batch creates: a base chain looking up an anonymous set and a named set, a conduit chain with a
  /// counter, the identity chain, a named set with elements.
  static func batchMessages() -> [[UInt8]] {
    [
      Build.table(), Build.chain("forward", hook: true), Build.chain("c_a"),
      Build.chain("identity", comment: identity), Build.set("hosts", id: 1),
      Build.elements("hosts", [1, 2, 3]), Build.set("__set%d", flags: NetlinkConstant.setAnonymous, id: 2),
      Build.elements("__set%d", [7, 8], setID: 2),
      Build.rule("forward", [Build.lookup("__set%d", id: 2), Build.verdict(1)]),
      Build.rule("forward", [Build.lookup("hosts", id: 1), Build.verdict(0)]),
      Build.rule("c_a", [Build.counter(), Build.verdict(1)]),
    ]
  }

  /// The same table as a dump lists it (`LiveTable` re-encoded): sets before rules, kernel names for anonymous
  /// sets, handles and counter values, elements in another order.
  static func dumpMessages() -> [[UInt8]] {
    [
      Build.table(), Build.chain("forward", hook: true), Build.chain("c_a"),
      Build.chain("identity", comment: identity), Build.set("hosts", id: 1), Build.elements("hosts", [3, 1, 2]),
      Build.set("__set0", flags: NetlinkConstant.setAnonymous, id: 2), Build.elements("__set0", [8, 7]),
      Build.rule("forward", [Build.lookup("__set0"), Build.verdict(1)], handle: 4),
      Build.rule("forward", [Build.lookup("hosts"), Build.verdict(0)], handle: 5),
      Build.rule("c_a", [Build.counter(packets: 42), Build.verdict(1)], handle: 6),
    ]
  }

  struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var edit: @Sendable ([[UInt8]]) -> [[UInt8]]
    var differences: [String]
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "as applied", edit: { $0 }, differences: []),
    Case(
      name: "an element added", edit: { $0 + [Build.elements("hosts", [9])] },
      differences: ["set hosts: element 10.0.0.9 added"]),
    Case(
      name: "an element removed",
      edit: { messages in
        messages.map { Array($0) == Build.elements("hosts", [3, 1, 2]) ? Build.elements("hosts", [3, 1]) : $0 }
      },
      differences: ["set hosts: element 10.0.0.2 removed"]),
    Case(
      name: "an anonymous set's element changed",
      edit: { messages in
        messages.map { $0 == Build.elements("__set0", [8, 7]) ? Build.elements("__set0", [8, 6]) : $0 }
      },
      differences: ["chain forward: rule 1 differs"]),
    Case(
      name: "a rule inserted first",
      edit: { messages in
        var edited = messages
        edited.insert(Build.rule("forward", [Build.verdict(0)]), at: 8)
        return edited
      }, differences: ["chain forward: rule 1 added"]),
    Case(
      name: "a rule deleted",
      edit: { messages in
        messages.filter {
          !$0.elementsEqual(Build.rule("c_a", [Build.counter(packets: 42), Build.verdict(1)], handle: 6))
        }
      },
      differences: ["chain c_a: rule 1 removed"]),
    Case(
      name: "a verdict changed",
      edit: { messages in
        messages.map {
          $0 == Build.rule("forward", [Build.lookup("hosts"), Build.verdict(0)], handle: 5)
            ? Build.rule("forward", [Build.lookup("hosts"), Build.verdict(1)], handle: 5) : $0
        }
      },
      differences: ["chain forward: rule 2 differs"]),
    Case(
      name: "the identity replaced",
      edit: { messages in
        messages.map {
          $0 == Build.chain("identity", comment: identity) ? Build.chain("identity", comment: "hand") : $0
        }
      },
      differences: ["chain identity: comment \"\(identity)\" becomes \"hand\""]),
    Case(
      name: "a chain and a set added", edit: { $0 + [Build.chain("extra"), Build.set("more", id: 9)] },
      differences: ["chain extra added (0 rules)", "set more added (0 elements)"]),
    Case(
      name: "a set's flags changed",
      edit: { messages in
        messages.map {
          $0 == Build.set("hosts", id: 1) ? Build.set("hosts", flags: NetlinkConstant.setInterval, id: 1) : $0
        }
      },
      differences: ["set hosts: declaration differs"]),
    Case(
      name: "element counters counting",
      edit: { messages in
        messages.map {
          $0 == Build.elements("hosts", [3, 1, 2])
            ? Build.elements(
              "hosts", [3, 1, 2],
              extra: [Build.attribute(NFTA_SET_ELEM_EXPR, Build.counterData(packets: 5), nested: true)])
            : $0
        }
      }, differences: []),
    Case(
      name: "a dynamic set's elements",
      edit: {
        $0 + [Build.set("drops", flags: UInt32(NFT_SET_EVAL.rawValue), id: 5), Build.elements("drops", [1, 2])]
      },
      differences: ["set drops added (0 elements)"]),
  ]

  @Test(arguments: cases) func differencesFromTheBatchToTheDump(_ testCase: Case) throws {
    let batch = try ComparableTable(batch: Build.batch(Array(Self.batchMessages().dropFirst())))
    let live = try ComparableTable(live: LiveTable(name: "conduit_t", messages: testCase.edit(Self.dumpMessages())))
    #expect(batch.differences(to: live).map(\.description) == testCase.differences)
    #expect(
      live.identity == (testCase.name == "the identity replaced" ? nil : NftablesIdentity(comment: Self.identity)))
  }

  @Test func aDifferenceReadsTheOtherWayRound() throws {
    let batch = try ComparableTable(batch: Build.batch(Array(Self.batchMessages().dropFirst())))
    let live = try ComparableTable(
      live: LiveTable(name: "conduit_t", messages: Self.dumpMessages() + [Build.elements("hosts", [9])]))
    #expect(live.differences(to: batch).map(\.description) == ["set hosts: element 10.0.0.9 removed"])
  }

  @Test func everySampleBatchIsReadWhole() throws {
    for artifact in try Self.sampleArtifacts() {
      let batch = try ComparableTable(batch: artifact.batch.bytes)
      #expect(batch.differences(to: batch).isEmpty)
      #expect(batch.identity == artifact.identity)
      #expect(batch.elementCount == artifact.layout.elementCount - Self.anonymousElements(artifact))
      #expect(batch.conduitChains.count == Set(batch.conduitChains.map(\.chain)).count)
      #expect(batch.conduitChains.allSatisfy { !$0.conduit.isEmpty && !$0.conduit.hasPrefix("c_") })
    }
  }

  static func sampleArtifacts() throws -> [NftablesArtifact] {
    try GoldenTests.cases.filter { $0.target == "payload" }.map { testCase in
      let request = CompileRequest(
        policy: PolicyRequest(policyPath: testCase.policy, today: CalendarDay("2026-11-28")!), gateway: testCase.gateway
      )
      let output = try Pipeline.compile(request, backend: NftablesArtifactBackend()).output
      return try NftablesArtifact(decoding: Array(output.joined()))
    }
  }

  static func anonymousElements(_ artifact: NftablesArtifact) -> Int {
    var count = 0
    let bytes = artifact.batch.bytes
    var offset = 0
    var anonymousNext = false
    while offset + 20 <= bytes.count {
      let length = Int(NetlinkBatchLayout.u32(bytes, offset))
      let message = Array(bytes[offset..<(offset + length)])
      let type = LiveTable.type(of: message)
      if type == NetlinkConstant.messageNewSet {
        anonymousNext = KernelSession.string(UInt16(NFTA_SET_NAME.rawValue), of: message)?.hasPrefix("__set") ?? false
      } else if type == NetlinkConstant.messageNewSetElement, anonymousNext {
        count += BatchOrigins.elementRanges(bytes, message: offset..<(offset + length)).count
      }
      offset += (length + 3) & ~3
    }
    return count
  }

  /// 100,000 elements on each side, one added and one removed: the comparison stays linear.
  @Test func aHundredThousandElementsCompareQuickly() throws {
    func hosts(_ range: Range<Int>) -> [[UInt8]] {
      stride(from: range.lowerBound, to: range.upperBound, by: 1000).map { start in
        let items = (start..<min(start + 1000, range.upperBound)).map { (value: Int) -> [UInt8] in
          let address: [UInt8] = [10, UInt8(value >> 16), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
          let key = Build.attribute(NFTA_SET_ELEM_KEY, Build.attribute(NFTA_DATA_VALUE, address), nested: true)
          return Build.raw(1, key, nested: true)
        }
        return Build.message(
          NetlinkConstant.messageNewSetElement,
          [
            Build.attribute(NFTA_SET_ELEM_LIST_TABLE, Build.string("conduit_t")),
            Build.attribute(NFTA_SET_ELEM_LIST_SET, Build.string("hosts")),
            Build.attribute(NFTA_SET_ELEM_LIST_ELEMENTS, Array(items.joined()), nested: true),
          ])
      }
    }
    let head = [Build.table(), Build.set("hosts", id: 1)]
    let started = Date()
    let old = try ComparableTable(live: LiveTable(name: "conduit_t", messages: head + hosts(0..<100_000)))
    let new = try ComparableTable(live: LiveTable(name: "conduit_t", messages: head + hosts(1..<100_001).reversed()))
    let differences = old.differences(to: new).map(\.description)
    #expect(differences == ["set hosts: element 10.1.134.160 added", "set hosts: element 10.0.0.0 removed"])
    #expect(Date().timeIntervalSince(started) < 20)
  }
}

/// `FlowTableDifference`: the flows two flow tables forward, compared as regions whatever their chains.
@Suite struct FlowTableDifferenceTests {
  /// An IPv4 record: protocol, chain, selectors, source and destination ranges (last octets of 10.0.0.0/8).
  static func record(
    _ protocolNumber: UInt8, chain: UInt16, _ selectors: ClosedRange<UInt16>, _ sources: ClosedRange<UInt32>,
    _ destinations: ClosedRange<UInt32>
  ) -> [UInt8] {
    var out: [UInt8] = [4, protocolNumber]
    for value in [chain, selectors.lowerBound, selectors.upperBound] {
      out += withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
    for address in [sources.lowerBound, sources.upperBound, destinations.lowerBound, destinations.upperBound] {
      out += withUnsafeBytes(of: (0x0A00_0000 | address).bigEndian) { Array($0) } + [UInt8](repeating: 0, count: 12)
    }
    return out
  }

  static func table(_ records: [[UInt8]]) throws -> FlowTable {
    try FlowTable.validating(Array(records.joined())).get()
  }

  static func text(_ difference: FlowTableDifference) -> [String] {
    difference.added.map { "+ \($0.sources) -> \($0.destinations) \($0.kind) \($0.selectors) chain \($0.chain)" }
      + difference.removed.map {
        "- \($0.sources) -> \($0.destinations) \($0.kind) \($0.selectors) chain \($0.chain)"
      }
  }

  @Test func flowsMovedToAnotherChainAreNoChangeAndEachSideIsSubtracted() throws {
    let old = try Self.table([
      Self.record(6, chain: 0, 500...510, 1...1, 2...2), Self.record(17, chain: 1, 53...53, 1...1, 3...3),
    ])
    let new = try Self.table([
      Self.record(6, chain: 1, 500...505, 1...1, 2...2), Self.record(17, chain: 0, 53...53, 1...2, 3...3),
    ])
    #expect(
      Self.text(FlowTableDifference(from: old, to: new)) == [
        "+ 10.0.0.2 -> 10.0.0.3 udp 53...53 chain 0", "- 10.0.0.1 -> 10.0.0.2 tcp 506...510 chain 0",
      ])
    #expect(FlowTableDifference(from: old, to: old).isEmpty)
    #expect(FlowTableDifference(from: try Self.table([]), to: try Self.table([])).isEmpty)
  }

  /// 100,000 host pairs on each side, one changed: near O(n log n), not a comparison of every pair.
  @Test func aHundredThousandRecordsCompareQuickly() throws {
    let hosts = (0..<UInt32(100_000)).map { Self.record(6, chain: 0, 502...502, $0...$0, ($0 + 1)...($0 + 1)) }
    var changed = hosts
    changed[500] = Self.record(6, chain: 0, 503...503, 500...500, 501...501)
    let started = Date()
    let difference = FlowTableDifference(from: try Self.table(hosts), to: try Self.table(changed))
    #expect(
      Self.text(difference) == [
        "+ 10.0.1.244 -> 10.0.1.245 tcp 503...503 chain 0", "- 10.0.1.244 -> 10.0.1.245 tcp 502...502 chain 0",
      ])
    #expect(Date().timeIntervalSince(started) < 20)
  }
}
