import Foundation

/// Paths of a policy's files as they are recorded in what conduit compiles: relative to the directory of the main
/// policy, so the same policy compiled from two clones in different directories gives the same digests and origins.
public enum SourcePath {
  /// `path` relative to the directory holding `mainPolicy` (`zones/plant.conduit`, `../shared/assets.csv`). Both are
  /// made absolute against the working directory first; `.` and `..` components are resolved without following
  /// symbolic links.
  public static func relative(_ path: String, toDirectoryOf mainPolicy: String) -> String {
    let target = components(absolute(path))
    let base = components(absolute(mainPolicy)).dropLast()
    var common = 0
    while common < base.count, common < target.count - 1, base[base.startIndex + common] == target[common] {
      common += 1
    }
    let upward = Array(repeating: "..", count: base.count - common)
    return (upward + target[common...]).joined(separator: "/")
  }

  private static func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
  }

  /// The components of an absolute path with `.`, `..` and empty components resolved.
  private static func components(_ path: String) -> [String] {
    var result: [String] = []
    for component in path.split(separator: "/", omittingEmptySubsequences: true) {
      switch component {
      case ".": continue
      case "..": if !result.isEmpty { result.removeLast() }
      default: result.append(String(component))
      }
    }
    return result
  }
}
