import CNetlink
import FlowSpace
import Glibc

/// The kernel's routing decisions (`RTM_GETROUTE` over `NETLINK_ROUTE`) in the calling thread's network namespace.
public enum RouteLookup {
  /// The name of the interface the namespace sends packets toward `address` out of, as `ip route get` finds it; nil
  /// when there is no route (`ENETUNREACH`, `EHOSTUNREACH`, or an answer without an output interface).
  ///
  /// For an address of the namespace itself the kernel answers with the loopback interface (`lo`). The route is
  /// the one for packets the namespace sends, not for packets it forwards (no input interface is given).
  public static func outputInterface(toward address: IPAddress) throws(ConntrackError) -> String? {
    let socket = try NetlinkRequestSocket(protocol: NETLINK_ROUTE, name: "rtnetlink")
    let sequence = try socket.send { header in
      header.pointee.nlmsg_type = UInt16(RTM_GETROUTE)
      header.pointee.nlmsg_flags = UInt16(NLM_F_REQUEST)
      let route = mnl_nlmsg_put_extra_header(header, MemoryLayout<rtmsg>.size)!
        .bindMemory(to: rtmsg.self, capacity: 1)
      switch address {
      case .v4(let v4):
        route.pointee.rtm_family = UInt8(AF_INET)
        route.pointee.rtm_dst_len = 32
        withUnsafeBytes(of: v4.value.bigEndian) {
          mnl_attr_put(header, UInt16(RTA_DST.rawValue), $0.count, $0.baseAddress)
        }
      case .v6(let v6):
        route.pointee.rtm_family = UInt8(AF_INET6)
        route.pointee.rtm_dst_len = 128
        withUnsafeBytes(of: v6.value.bigEndian) {
          mnl_attr_put(header, UInt16(RTA_DST.rawValue), $0.count, $0.baseAddress)
        }
      }
    }
    let answer = RouteAnswer()
    let context = Unmanaged.passUnretained(answer).toOpaque()
    do {
      try withExtendedLifetime(answer) { () throws(ConntrackError) in
        try socket.receive(sequence: sequence, callback: routeCallback, context: context)
      }
    } catch let error where error.errno == ENETUNREACH || error.errno == EHOSTUNREACH {
      return nil
    }
    if let failure = answer.failure { throw failure }
    guard let index = answer.outputInterface else { return nil }
    var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
    guard if_indextoname(index, &name) != nil else {
      throw ConntrackError.system("naming the interface with index \(index)", errno: errno)
    }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }

  /// The output interface index in the payload of one `RTM_NEWROUTE` answer (`struct rtmsg`, then attributes), or
  /// nil when it has none; throws when the payload is shorter than its header or the index is not 4 bytes.
  static func outputInterface(routePayload payload: UnsafeRawBufferPointer) throws(ConntrackError) -> UInt32? {
    let headerSize = (MemoryLayout<rtmsg>.size + 3) & ~3
    guard payload.count >= headerSize else {
      throw ConntrackError("a route answer of \(payload.count) bytes, shorter than an rtmsg", errno: EPROTO)
    }
    let attributes = NetlinkAttributes(ArraySlice(payload[headerSize...]))
    guard let index = attributes[UInt16(RTA_OIF.rawValue)] else { return nil }
    guard index.count == 4 else {
      throw ConntrackError("a route answer with an RTA_OIF of \(index.count) bytes", errno: EPROTO)
    }
    return index.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
  }
}

/// The answer to one route lookup; reached from the C callback through its `data` pointer.
private final class RouteAnswer {
  var outputInterface: UInt32?
  var failure: ConntrackError?

  func add(_ header: UnsafePointer<nlmsghdr>) {
    guard header.pointee.nlmsg_type == UInt16(RTM_NEWROUTE), let payload = mnl_nlmsg_get_payload(header) else {
      failure = ConntrackError("a route answer of message type \(header.pointee.nlmsg_type)", errno: EPROTO)
      return
    }
    do {
      outputInterface = try RouteLookup.outputInterface(
        routePayload: UnsafeRawBufferPointer(start: payload, count: mnl_nlmsg_get_payload_len(header)))
    } catch {
      failure = error
    }
  }
}

private let routeCallback: mnl_cb_t = { header, data in
  guard let header, let data else { return MNL_CB_ERROR }
  Unmanaged<RouteAnswer>.fromOpaque(data).takeUnretainedValue().add(header)
  return MNL_CB_STOP
}
