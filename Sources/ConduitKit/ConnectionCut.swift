import Conntrack
import FirewallIR
import FlowSpace
import Foundation

/// After an apply: the tracked connections the new ruleset would not let start are deleted, so that an established
/// flow a change removed does not live on. Connections of the gateway's own addresses are left alone.
public enum ConnectionCut {
  /// Deletes, in the calling thread's network namespace, the conntrack entries of forwarded connections that
  /// `table` does not allow; returns how many were deleted.
  public static func cut(noLongerAllowedBy table: FlowTable) throws(ConntrackError) -> Int {
    do {
      let session = try ConntrackSession()
      let entries = try session.entries()
      guard !entries.isEmpty else { return 0 }
      let local = localAddresses()
      let index = table.index()
      return try session.deleteEntries { entry in
        guard !local.contains(entry.source), !local.contains(entry.destination) else { return false }
        let selector = entry.destinationPort ?? entry.icmpType.map(UInt16.init)
        return !index.allows(
          source: entry.source, destination: entry.destination, protocolNumber: entry.protocolNumber,
          selector: selector)
      }
    } catch let error as ConntrackError {
      throw error
    } catch {
      throw ConntrackError("\(error)", errno: 0)
    }
  }

  /// The addresses of this network namespace's interfaces.
  static func localAddresses() -> Set<IPAddress> {
    var result: Set<IPAddress> = []
    var list: UnsafeMutablePointer<ifaddrs>?
    guard getifaddrs(&list) == 0 else { return result }
    defer { freeifaddrs(list) }
    var current = list
    while let entry = current {
      defer { current = entry.pointee.ifa_next }
      guard let address = entry.pointee.ifa_addr else { continue }
      let family = Int32(address.pointee.sa_family)
      guard family == AF_INET || family == AF_INET6 else { continue }
      var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
      let length = socklen_t(family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
      guard getnameinfo(address, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
      let text =
        String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "%")
        .first.map(String.init) ?? ""
      if let parsed = IPAddress(text) { result.insert(parsed) }
    }
    return result
  }
}
