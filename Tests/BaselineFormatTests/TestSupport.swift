import BaselineFormat

/// Reads `source` as the baseline file `baseline.<pathExtension>`.
func readTable(_ source: String, pathExtension: String) -> BaselineTable {
  BaselineTable.read(Array(source.utf8), pathExtension: pathExtension)
}

/// The text of the UTF-8 byte range `range` of `source`.
func slice(_ source: String, _ range: Range<Int>) -> String {
  String(decoding: Array(source.utf8)[range], as: UTF8.self)
}

extension BaselineRecord {
  /// The keys and values of the cells, in order.
  var pairs: [KeyValue] { cells.map { KeyValue(key: $0.key, value: $0.value) } }
}

/// A key and a value, for comparing cells without their ranges.
struct KeyValue: Hashable, CustomStringConvertible {
  var key: String
  var value: BaselineValue

  init(key: String, value: BaselineValue) {
    self.key = key
    self.value = value
  }

  init(_ key: String, _ text: String) {
    self.init(key: key, value: .text(text))
  }

  init(_ key: String, list: [String]) {
    self.init(key: key, value: .list(list))
  }

  var description: String { "\(key)=\(value)" }
}
