/// Suggestions for misspelt names ("did you mean"), by edit distance.
public enum Spelling {
  /// The candidate closest to `name`, if it is close enough to be a likely typo. Compares UTF-8 bytes, ASCII letters
  /// ignoring case; candidates whose length differs too much are skipped without computing a distance.
  public static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
    let target = lowercased(name)
    let limit = max(1, min(3, target.count / 3))
    var best: (name: String, distance: Int)?
    var buffer: [UInt8] = []
    var rows = EditDistanceRows(capacity: 64)
    for candidate in candidates {
      let length = candidate.utf8.count
      if abs(length - target.count) > limit { continue }
      buffer.removeAll(keepingCapacity: true)
      for byte in candidate.utf8 { buffer.append(lowercase(byte)) }
      let distance = editDistance(target, buffer, limit: limit, rows: &rows)
      if distance <= limit,
        best == nil || distance < best!.distance
          || (distance == best!.distance && candidate < best!.name)
      {
        best = (candidate, distance)
      }
    }
    return best?.name
  }

  struct EditDistanceRows {
    var beforePrevious: [Int]
    var previous: [Int]
    var current: [Int]

    init(capacity: Int) {
      beforePrevious = Array(repeating: 0, count: capacity)
      previous = beforePrevious
      current = beforePrevious
    }

    mutating func ensure(_ count: Int) {
      guard previous.count < count else { return }
      beforePrevious = Array(repeating: 0, count: count)
      previous = beforePrevious
      current = beforePrevious
    }
  }

  static func editDistance(_ a: [UInt8], _ b: [UInt8], limit: Int, rows: inout EditDistanceRows) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    rows.ensure(b.count + 1)
    for j in 0...b.count { rows.previous[j] = j }
    for i in 1...a.count {
      rows.current[0] = i
      var rowMinimum = i
      for j in 1...b.count {
        let cost = a[i - 1] == b[j - 1] ? 0 : 1
        var value = min(rows.previous[j] + 1, rows.current[j - 1] + 1, rows.previous[j - 1] + cost)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          value = min(value, rows.beforePrevious[j - 2] + 1)
        }
        rows.current[j] = value
        rowMinimum = min(rowMinimum, value)
      }
      if rowMinimum > limit { return rowMinimum }
      swap(&rows.beforePrevious, &rows.previous)
      swap(&rows.previous, &rows.current)
    }
    return rows.previous[b.count]
  }

  private static func lowercased(_ text: String) -> [UInt8] { text.utf8.map(lowercase) }

  private static func lowercase(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
  }
}
