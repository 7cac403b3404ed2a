import BaselineFormat
import FlowSpace
import PolicyLanguage

/// An asset's values as read from a policy declaration or a baseline row, each with the range it was written at.
struct AssetDraft {
  var name: Literal
  var addresses: [(address: IPAddress, range: SourceRange)] = []
  var role: Literal?
  var vendor: Literal?
  var product: Literal?
  var model: Literal?
  var version: Literal?
  var criticality: (value: Criticality, range: SourceRange)?
  var securityLevel: (value: Int, range: SourceRange)?
  var mac: Literal?
  var tags: Set<String> = []
  var isShared = false
  var zone: Literal?
  var attributes: [String: String] = [:]
  var range: SourceRange
}

/// The baseline stage: interprets a CSV or JSON inventory export as assets, with the column aliases of LANGUAGE.md.
struct BaselineInterpreter {
  enum Column: String {
    case name, address, role, vendor, product, model, version, criticality, securityLevel, mac, zone, tags, shared
  }

  static let aliases: [String: Column] = {
    var table: [String: Column] = [:]
    let entries: [(Column, [String])] = [
      (.name, ["name", "device_name", "hostname", "asset", "asset_name"]),
      (.address, ["address", "ip", "ip_address", "ipv4", "ipv6", "addresses"]),
      (.role, ["role", "device_role", "type"]),
      (.vendor, ["vendor", "manufacturer"]),
      (.product, ["product", "device_family", "product_name"]),
      (.model, ["model", "model_number", "order_number"]),
      (.version, ["version", "firmware", "firmware_version"]),
      (.criticality, ["criticality"]),
      (.securityLevel, ["security-level", "sl-c", "sl_c"]),
      (.mac, ["mac", "mac_address"]),
      (.zone, ["zone"]),
      (.tags, ["tags"]),
      (.shared, ["shared"]),
    ]
    for (column, names) in entries {
      for name in names { table[normalize(name)] = column }
    }
    return table
  }()

  /// Lowercased, without spaces, `-` and `_`: `IP Address` and `ip_address` are the same column.
  static func normalize(_ key: String) -> String {
    String(key.lowercased().unicodeScalars.filter { $0 != " " && $0 != "-" && $0 != "_" && $0 != "\t" })
  }

  let file: SourceFile

  /// Reads every row into a draft; rows that cannot be used are reported and skipped. The file is read in chunks of
  /// 65,536 records, each interpreted in parts on all cores and joined in order, so that the records of a large
  /// inventory never all exist at once beside their drafts.
  func interpret(diagnostics: inout DiagnosticEngine) -> [AssetDraft] {
    var drafts: [AssetDraft] = []
    var found = DiagnosticEngine()
    let chunkSize = 4096
    let table = BaselineTable.read(file.bytes, pathExtension: pathExtension, recordsInChunksOf: 16 * chunkSize) {
      format, records in
      let isJSON = format == .json
      let splitsOnSemicolon = isJSON || format != .csv(delimiter: UInt8(ascii: ";"))
      let parts = concurrentMap(count: (records.count + chunkSize - 1) / chunkSize) { part in
        var drafts: [AssetDraft] = []
        var found = DiagnosticEngine()
        var columns = ColumnCache()
        for record in records[(part * chunkSize)..<min(records.count, (part + 1) * chunkSize)] {
          if let draft = interpret(
            record, splitsOnSemicolon: splitsOnSemicolon, isJSON: isJSON, columns: &columns, diagnostics: &found)
          {
            drafts.append(draft)
          }
        }
        return (drafts, found)
      }
      for (partDrafts, partFound) in parts {
        drafts += partDrafts
        found.append(contentsOf: partFound)
      }
    }
    for error in table.errors {
      diagnostics.error(.baselineRow, error.message, at: SourceRange(file: file, error.range))
    }
    for duplicate in table.duplicateKeys {
      diagnostics.warning(
        .duplicateKey, "key '\(duplicate.key)' is given twice in this object; the later value is used",
        at: SourceRange(file: file, duplicate.range),
        notes: [DiagnosticNote("first given here", at: SourceRange(file: file, duplicate.earlierRange))])
    }
    diagnostics.append(contentsOf: found)
    return drafts
  }

  private var pathExtension: String {
    guard let dot = file.path.lastIndex(of: "."), !file.path[dot...].contains("/") else { return "" }
    return String(file.path[file.path.index(after: dot)...])
  }

  /// The column each key names, remembered by key and by position (CSV rows repeat the header's keys in order).
  struct ColumnCache {
    private var byKey: [String: Column?] = [:]
    private var byPosition: [(key: String, column: Column?)] = []

    mutating func column(of key: String, at position: Int) -> Column? {
      if position < byPosition.count, byPosition[position].key == key { return byPosition[position].column }
      let column: Column?
      if let known = byKey[key] {
        column = known
      } else {
        column = BaselineInterpreter.aliases[BaselineInterpreter.normalize(key)]
        byKey[key] = .some(column)
      }
      if position < byPosition.count {
        byPosition[position] = (key, column)
      } else if position == byPosition.count {
        byPosition.append((key, column))
      }
      return column
    }
  }

  private func interpret(
    _ record: BaselineRecord, splitsOnSemicolon: Bool, isJSON: Bool, columns: inout ColumnCache,
    diagnostics: inout DiagnosticEngine
  ) -> AssetDraft? {
    let rowRange = SourceRange(file: file, record.range)
    var draft = AssetDraft(name: Literal(text: "", range: rowRange), range: rowRange)
    var hasName = false
    var addressCells = 0
    var problems = 0
    for (position, cell) in record.cells.enumerated() {
      let range = SourceRange(file: file, cell.valueRange)
      let joined: String
      switch cell.value {
      case .text(let text):
        joined = text.trimmingSpaces()
      case .list(let list):
        joined = list.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }.joined(separator: " ")
      }
      let column = columns.column(of: cell.key, at: position)
      guard let column else {
        if !joined.isEmpty { draft.attributes[cell.key] = joined }
        continue
      }
      if joined.isEmpty { continue }
      func report(_ message: String) {
        if isJSON {
          let objectStart = SourceRange(file: file, start: record.range.lowerBound, end: record.range.lowerBound + 1)
          diagnostics.error(
            .baselineRow, message, at: objectStart, notes: [DiagnosticNote("the value is here", at: range)])
        } else {
          diagnostics.error(.baselineRow, message, at: range)
        }
        problems += 1
      }
      switch column {
      case .name:
        if !hasName {
          draft.name = Literal(text: joined, range: range)
          hasName = true
        }
      case .address:
        addressCells += 1
        // Most cells hold one address: splitting a String walks Characters, so it is done only when needed.
        let separated = joined.utf8.contains {
          $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || (splitsOnSemicolon && $0 == UInt8(ascii: ";"))
        }
        let words =
          separated
          ? joined.split(whereSeparator: { $0 == " " || $0 == "\t" || (splitsOnSemicolon && $0 == ";") })
          : [Substring(joined)]
        for word in words {
          switch IPPrefix.parse(word) {
          case .success(let prefix) where prefix.isHost:
            draft.addresses.append((prefix.address, range))
          case .success(let prefix):
            report("'\(word)' is a network (\(prefix)), not an asset address")
          case .failure(.hostBitsSet):
            report("'\(word)' is not a host address")
          case .failure:
            report("'\(word)' is not an IP address")
          }
        }
      case .role: draft.role = Literal(text: joined, range: range)
      case .vendor: draft.vendor = Literal(text: joined, range: range)
      case .product: draft.product = Literal(text: joined, range: range)
      case .model: draft.model = Literal(text: joined, range: range)
      case .version: draft.version = Literal(text: joined, range: range)
      case .criticality:
        if let value = Criticality(joined) {
          draft.criticality = (value, range)
        } else {
          report("criticality '\(joined)' is not low, medium, high, critical or 1-4")
        }
      case .securityLevel:
        if let value = Int(joined), (0...4).contains(value) {
          draft.securityLevel = (value, range)
        } else {
          report("security level (SL-C) '\(joined)' is not 0-4")
        }
      case .mac:
        if MACAddress.isValid(joined) {
          draft.mac = Literal(text: joined, range: range)
        } else {
          report("'\(joined)' is not a MAC address (six groups of two hex digits)")
        }
      case .zone: draft.zone = Literal(text: joined, range: range)
      case .tags:
        draft.tags.formUnion(joined.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init))
      case .shared:
        switch joined.lowercased() {
        case "yes", "true", "1", "y": draft.isShared = true
        case "no", "false", "0", "n": draft.isShared = false
        default: report("shared '\(joined)' is not yes or no")
        }
      }
    }
    if !hasName {
      diagnostics.error(
        .baselineRow, "baseline row has no name (columns: name, device_name, hostname, asset, asset_name)", at: rowRange
      )
      return nil
    }
    if draft.addresses.isEmpty {
      if problems == 0 {
        diagnostics.error(
          .baselineRow,
          "baseline row '\(draft.name.text)' has no address (columns: address, ip, ip_address, ipv4, ipv6, addresses)",
          at: rowRange)
      }
      return nil
    }
    return draft
  }
}

/// MAC address syntax: six groups of two hex digits joined by `:` or `-`.
enum MACAddress {
  static func isValid(_ text: String) -> Bool {
    let groups = text.split(separator: ":", omittingEmptySubsequences: false)
    let parts = groups.count == 6 ? groups : text.split(separator: "-", omittingEmptySubsequences: false)
    return parts.count == 6 && parts.allSatisfy { $0.count == 2 && $0.allSatisfy(\.isHexDigit) }
  }
}

extension String {
  func trimmingSpaces() -> String {
    guard let first = utf8.first, let last = utf8.last else { return self }
    let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    if !isBlank(first) && !isBlank(last) { return self }
    var scalars = Substring(self)
    while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
    while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
    return String(scalars)
  }
}
