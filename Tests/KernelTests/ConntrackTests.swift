import Conntrack
import FlowSpace
import Foundation
import PolicyTestSupport
import Testing

/// Conntrack entries listed and deleted through ctnetlink in a lab's gateway: a reload alone leaves open connections
/// running, deleting their entries ends them, and connections that are still allowed keep working.
struct ConntrackTests {
  static let eth1 = LabInterface(
    "eth1", hosts: ["10.30.0.31", "fd00:30::31"], prefixes: ["10.30.0.0/24", "fd00:30::/64"])
  static let eth2 = LabInterface(
    "eth2", hosts: ["10.40.0.10", "fd00:40::10"], prefixes: ["10.40.0.0/24", "fd00:40::/64"])

  /// A forward chain that lets established connections through and opens TCP and UDP from eth1's host to eth2's.
  static func ruleset(tcpPorts: [UInt16], udpPorts: [UInt16] = [], replacing: Bool = false) -> String {
    let tcp = tcpPorts.map(String.init).joined(separator: ", ")
    let udp = udpPorts.map(String.init).joined(separator: ", ")
    var rules = ["ct state established,related accept"]
    if !tcpPorts.isEmpty {
      rules.append("ip saddr 10.30.0.31 ip daddr 10.40.0.10 tcp dport { \(tcp) } accept")
      rules.append("ip6 saddr fd00:30::31 ip6 daddr fd00:40::10 tcp dport { \(tcp) } accept")
    }
    if !udpPorts.isEmpty { rules.append("ip saddr 10.30.0.31 ip daddr 10.40.0.10 udp dport { \(udp) } accept") }
    return (replacing ? "flush table inet cttest\n" : "") + """
      table inet cttest {
        chain forward {
          type filter hook forward priority filter; policy drop;
          \(rules.joined(separator: "\n    "))
        }
      }

      """
  }

  /// The path `setns` opens for the lab's gateway namespace.
  static func gatewayPath(_ lab: NetworkLab) -> String {
    "/run/netns/\(lab.gatewayNamespace)"
  }

  /// The network namespace of the calling thread, as the kernel names it (`net:[4026531840]`).
  static func currentThreadNamespace() -> String? {
    try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self/ns/net")
  }

  @Test(.kernelTests)
  func listingAnEmptyNamespaceReturnsNothing() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1])
    defer { lab.close() }
    let before = Self.currentThreadNamespace()
    let session = try ConntrackSession(networkNamespace: Self.gatewayPath(lab))
    #expect(Self.currentThreadNamespace() == before, "opening the session must not move the caller's thread")
    #expect(try session.entries() == [])
    #expect(try session.deleteEntries { _ in true } == 0)
  }

  @Test(.kernelTests)
  func openingAMissingNamespaceFails() throws {
    _ = try KernelTestGate.requireCapability()
    #expect(throws: ConntrackError.self) {
      try ConntrackSession(networkNamespace: "/run/netns/cdt-no-such-namespace")
    }
  }

  @Test(.kernelTests)
  func deletingAnEntryTwiceReturnsFalseTheSecondTime() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }
    try lab.loadNftables(script: Self.ruleset(tcpPorts: [502], udpPorts: [5140]))
    #expect(try lab.udpReaches(from: "10.30.0.31", to: "10.40.0.10", port: 5140))
    let session = try ConntrackSession(networkNamespace: Self.gatewayPath(lab))
    let udp = try session.entries().filter { $0.protocolNumber == 17 && $0.destinationPort == 5140 }
    #expect(udp.count == 1)
    let entry = try #require(udp.first)
    #expect(entry.source == IPAddress("10.30.0.31") && entry.destination == IPAddress("10.40.0.10"))
    #expect(entry.family == .ipv4 && entry.id != nil && entry.icmpType == nil)
    #expect(entry.description.hasPrefix("udp 10.30.0.31:") && entry.description.hasSuffix(" -> 10.40.0.10:5140"))

    var staleCopy = entry
    staleCopy.id = entry.id.map { $0 ^ 1 }
    #expect(try session.delete(staleCopy) == false, "another id names another connection")
    #expect(try session.delete(entry) == true)
    #expect(try session.delete(entry) == false)
    #expect(try session.entries().filter { $0.destinationPort == 5140 } == [])
  }

  @Test(.kernelTests)
  func thousandsOfEntriesAreListedAndDeleted() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }
    try lab.loadNftables(script: Self.ruleset(tcpPorts: [502], udpPorts: [9999]))
    let count = 5000
    let script = """
      import socket
      for port in range(20000, 20000 + \(count)):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("10.30.0.31", port))
        sock.sendto(b"x", ("10.40.0.10", 9999))
        sock.close()
      """
    try Command.run(lab.tools.ip, ["netns", "exec", lab.sideNamespaces[0], lab.tools.python, "-I", "-S", "-c", script])
      .check("UDP sender")
    let session = try ConntrackSession(networkNamespace: Self.gatewayPath(lab))
    var listed: [ConntrackEntry] = []
    for _ in 0..<50 {
      listed = try session.entries().filter { $0.protocolNumber == 17 && $0.destinationPort == 9999 }
      if listed.count >= count { break }
      usleep(100_000)
    }
    #expect(listed.count == count)
    #expect(Set(listed.compactMap(\.sourcePort)) == Set((20000..<20000 + count).map { UInt16($0) }))
    let deleted = try session.deleteEntries { $0.destinationPort == 9999 }
    #expect(deleted == count)
    #expect(try session.entries().filter { $0.destinationPort == 9999 } == [])
  }

  @Test(.kernelTests)
  func deletingEntriesEndsConnectionsAReloadNoLongerAllows() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }
    try lab.loadNftables(script: Self.ruleset(tcpPorts: [502, 503]))
    let server = try startEchoServer(in: lab)
    defer { server.kill() }
    let (cut, kept) = try holdConnectionsOnPorts502And503(lab)
    let held = cut + kept
    defer { for connection in held { connection.process.kill() } }
    try expectReports(held, "echo", within: 0.8, "before any change")

    let session = try ConntrackSession(networkNamespace: Self.gatewayPath(lab))
    let before = try session.entries()
    var keptEntries: [ConntrackEntry] = []
    for connection in held {
      let entry = before.first { connection.matches($0) }
      #expect(entry != nil, "no conntrack entry for \(connection): \(before)")
      if let entry, kept.contains(where: { $0 === connection }) { keptEntries.append(entry) }
    }
    let v6Entry = before.first { cut[1].matches($0) }
    #expect(v6Entry?.family == .ipv6)
    #expect(v6Entry?.description == "tcp [fd00:30::31]:\(cut[1].localPort) -> [fd00:40::10]:502")

    try lab.loadNftables(script: Self.ruleset(tcpPorts: [503], replacing: true))
    #expect(try !lab.nftListRuleset().contains("502"))
    try expectReports(held, "echo", within: 1.2, "after the reload alone (established connections keep running)")
    #expect(try connectionAttempt(lab: lab, from: "10.30.0.31", to: "10.40.0.10", port: 502) == false)

    let deleted = try session.deleteEntries { entry in
      entry.protocolNumber == 6 && entry.destinationPort == 502
        && [IPAddress("10.30.0.31"), IPAddress("fd00:30::31")].contains(entry.source)
    }
    #expect(deleted == 2)
    expectCut(cut, kept: kept, "after the deletion")
    let remaining = try session.entries()
    for connection in cut {
      #expect(!remaining.contains { connection.matches($0) }, "\(connection) is tracked again")
    }
    for entry in keptEntries {
      #expect(remaining.contains(entry), "the still-allowed \(entry) lost its entry (or got a new one)")
    }
  }

  static let applyPolicy = """
    site cut
    zone ops {
      level 3; security-level 2
      network 10.30.0.0/24, fd00:30::/64
    }
    zone ctl {
      level 2; security-level 2
      network 10.40.0.0/24, fd00:40::/64
    }
    asset hmi { address 10.30.0.31, fd00:30::31 }
    asset plc { address 10.40.0.10, fd00:40::10 }
    gateway gw {
      interface eth1 ops
      interface eth2 ctl
      management service ssh from hmi
    }
    conduit ops-ctl {
      between ops and ctl
      owner "ot"; justification "test"
      allow hmi -> plc service tcp/502, tcp/503
    }
    mitigation no-502 {
      reason "cut port 502"
      revoke service tcp/502
    }

    """

  @Test(.kernelTests)
  func applyCutsHeldConnectionsTheNewRulesetNoLongerAllows() throws {
    let lab = try NetworkLab(interfaces: [Self.eth1, Self.eth2])
    defer { lab.close() }
    let policy = FileManager.default.temporaryDirectory.appendingPathComponent(
      "conduit-cut-\(UUID().uuidString).conduit")
    try Self.applyPolicy.write(to: policy, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: policy) }
    let first = try ConduitExecutable.run([
      "apply", policy.path, "--netns", lab.gatewayNamespace, "--today", "2026-11-28",
    ])
    #expect(first.status == 0, "\(first.standardError)")
    let server = try startEchoServer(in: lab)
    defer { server.kill() }
    let (cut, kept) = try holdConnectionsOnPorts502And503(lab)
    let held = cut + kept
    defer { for connection in held { connection.process.kill() } }
    try expectReports(held, "echo", within: 0.8, "before the mitigation")

    let second = try ConduitExecutable.run([
      "apply", policy.path, "--netns", lab.gatewayNamespace, "--today", "2026-11-28", "--mitigation", "no-502",
    ])
    #expect(second.status == 0, "\(second.standardError)")
    #expect(second.standardOutput.contains("cut 2 tracked connections the new ruleset no longer allows"))
    expectCut(cut, kept: kept, "after the apply")
  }

  /// Held TCP connections from hmi to plc over IPv4 and IPv6: to port 502 (the ones a change cuts) and to 503.
  func holdConnectionsOnPorts502And503(_ lab: NetworkLab) throws -> (cut: [HeldConnection], kept: [HeldConnection]) {
    let cut = [
      try HeldConnection(lab: lab, from: "10.30.0.31", to: "10.40.0.10", port: 502),
      try HeldConnection(lab: lab, from: "fd00:30::31", to: "fd00:40::10", port: 502),
    ]
    let kept = [
      try HeldConnection(lab: lab, from: "10.30.0.31", to: "10.40.0.10", port: 503),
      try HeldConnection(lab: lab, from: "fd00:30::31", to: "fd00:40::10", port: 503),
    ]
    return (cut, kept)
  }

  /// Over the next 1.5 s, the `cut` connections get no echo while the `kept` ones echo every time.
  func expectCut(
    _ cut: [HeldConnection], kept: [HeldConnection], _ when: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) {
    let held = cut + kept
    let marks = held.map { $0.reports.count }
    usleep(1_500_000)
    for (connection, mark) in zip(held, marks) {
      let after = Array(connection.reports.dropFirst(mark + 1))
      #expect(after.count >= 3, "\(connection) reported too little \(when): \(after)", sourceLocation: sourceLocation)
      if cut.contains(where: { $0 === connection }) {
        #expect(
          after.allSatisfy { !$0.hasPrefix("echo ") }, "\(connection) still works \(when): \(after)",
          sourceLocation: sourceLocation)
      } else {
        #expect(
          after.allSatisfy { $0.hasPrefix("echo ") }, "\(connection) stopped working \(when): \(after)",
          sourceLocation: sourceLocation)
      }
    }
  }

  // MARK: Decoding without a kernel

  // MARK: Helpers

  /// Expects every held connection to report only `expected` for `seconds`, and at least three times.
  func expectReports(
    _ held: [HeldConnection], _ expected: String, within seconds: Double, _ when: String,
    sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let marks = held.map { $0.reports.count }
    usleep(UInt32(seconds * 1_000_000))
    for (connection, mark) in zip(held, marks) {
      let after = Array(connection.reports.dropFirst(mark))
      #expect(
        after.count >= 3 && after.allSatisfy { $0.hasPrefix(expected + " ") },
        "\(connection) \(when): \(after)", sourceLocation: sourceLocation)
    }
  }

  /// Whether a new TCP connection from `source` to `destination`:`port` opens within a second.
  func connectionAttempt(lab: NetworkLab, from source: String, to destination: String, port: UInt16) throws -> Bool {
    let side = try #require(lab.interfaces.firstIndex { $0.hosts.contains(source) })
    let output = try Command.run(
      lab.tools.ip,
      [
        "netns", "exec", lab.sideNamespaces[side], lab.tools.python, "-I", "-S", "-c", HeldConnection.clientScript,
        source, destination, "\(port)", "once",
      ]
    ).check("connection attempt")
    return output.standardOutput.split(separator: "\n").contains("connected")
  }

  /// Starts an echo server on ports 502 and 503 of eth2's hosts, in both families.
  func startEchoServer(in lab: NetworkLab) throws -> BackgroundProcess {
    try Self.startEchoServer(
      in: lab, namespace: lab.sideNamespaces[1], addresses: ["10.40.0.10", "fd00:40::10"], ports: [502, 503])
  }

  /// Starts an echo server in `namespace` of `lab` on every address and port given (IPv6 sockets IPv6 only), one
  /// thread per connection; it runs until killed.
  static func startEchoServer(in lab: NetworkLab, namespace: String, addresses: [String], ports: [UInt16]) throws
    -> BackgroundProcess
  {
    let script = #"""
      import socket, sys, threading
      listeners = []
      for address in sys.argv[1].split(","):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        for port in map(int, sys.argv[2].split(",")):
          listener = socket.socket(family, socket.SOCK_STREAM)
          listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
          if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
          listener.bind((address, port))
          listener.listen(16)
          listeners.append(listener)
      def serve(connection):
        with connection:
          while True:
            data = connection.recv(4096)
            if not data:
              return
            connection.sendall(data)
      def accept(listener):
        while True:
          connection, _ = listener.accept()
          threading.Thread(target=serve, args=(connection,), daemon=True).start()
      for listener in listeners:
        threading.Thread(target=accept, args=(listener,), daemon=True).start()
      print("ready", flush=True)
      sys.stdin.read()
      """#
    let name = "echo-\(namespace)"
    let server = try BackgroundProcess(
      executable: lab.tools.ip,
      arguments: [
        "netns", "exec", namespace, lab.tools.python, "-I", "-S", "-c", script, addresses.joined(separator: ","),
        ports.map(String.init).joined(separator: ","),
      ],
      input: .lines, output: lab.workDirectory.appendingPathComponent("\(name).out"),
      error: lab.workDirectory.appendingPathComponent("\(name).err"))
    guard server.waitForLine("ready", timeout: 10) else {
      let output = server.waitForExit(timeout: 1)
      throw NetworkLabError.probeFailed(nil, "the echo server in \(namespace) did not start:\n\(output.standardError)")
    }
    return server
  }
}

/// A TCP connection held open by a Python client that sends a byte every 200 ms and reports each echo.
final class HeldConnection: CustomStringConvertible {
  let process: BackgroundProcess
  let source: String
  let destination: String
  let port: UInt16
  let localPort: UInt16

  /// Prints `port N` and `connected`, then every 200 ms sends a byte and prints `echo K` when an echo came back
  /// within 200 ms, `noecho K` when none did, `fail K …` when sending failed. With a fourth argument `once` it
  /// exits after connecting (or printing `unreachable` when the connection does not open within a second).
  static let clientScript = #"""
    import select, socket, sys, time
    source, destination, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    once = len(sys.argv) > 4 and sys.argv[4] == "once"
    sock = socket.socket(socket.AF_INET6 if ":" in destination else socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((source, 0))
    sock.settimeout(1.0 if once else 5.0)
    try:
      sock.connect((destination, port))
    except OSError as error:
      print("unreachable %r" % (error,), flush=True)
      sys.exit(0)
    print("port %d" % sock.getsockname()[1], flush=True)
    print("connected", flush=True)
    if once:
      sys.exit(0)
    sock.setblocking(False)
    count = 0
    while True:
      count += 1
      start = time.monotonic()
      try:
        sock.send(b"x")
      except OSError as error:
        print("fail %d %r" % (count, error), flush=True)
      else:
        echoed = False
        while not echoed:
          remaining = start + 0.2 - time.monotonic()
          if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
            break
          try:
            data = sock.recv(4096)
          except BlockingIOError:
            continue
          if not data:
            print("closed %d" % count, flush=True)
            sys.exit(0)
          echoed = True
        print(("echo %d" if echoed else "noecho %d") % count, flush=True)
      time.sleep(max(0.0, start + 0.2 - time.monotonic()))
    """#

  init(lab: NetworkLab, from source: String, to destination: String, port: UInt16) throws {
    self.source = source
    self.destination = destination
    self.port = port
    guard let side = lab.interfaces.firstIndex(where: { $0.hosts.contains(source) }) else {
      throw NetworkLabError.invalidDescription("\(source) is not a host of the lab")
    }
    let name = "held-\(source)-\(port)".replacingOccurrences(of: ":", with: "_")
    process = try BackgroundProcess(
      executable: lab.tools.ip,
      arguments: [
        "netns", "exec", lab.sideNamespaces[side], lab.tools.python, "-I", "-S", "-c", Self.clientScript, source,
        destination, "\(port)",
      ],
      input: .lines, output: lab.workDirectory.appendingPathComponent("\(name).out"),
      error: lab.workDirectory.appendingPathComponent("\(name).err"))
    guard process.waitForLine("connected", timeout: 10) else {
      let output = process.waitForExit(timeout: 1)
      throw NetworkLabError.probeFailed(
        .tcp(from: source, to: destination, port: port),
        "the held connection did not open:\n\(output.standardOutput)\(output.standardError)")
    }
    let portLine = process.outputSoFar.split(separator: "\n").first { $0.hasPrefix("port ") }
    guard let localPort = portLine.flatMap({ UInt16($0.dropFirst(5)) }) else {
      process.kill()
      throw NetworkLabError.probeFailed(nil, "the held connection did not report its port")
    }
    self.localPort = localPort
  }

  /// The client's reports so far, one per byte sent: `echo K`, `noecho K`, `fail K …` or `closed K`.
  var reports: [String] {
    process.outputSoFar.split(separator: "\n").map(String.init).filter { line in
      ["echo ", "noecho ", "fail ", "closed "].contains { line.hasPrefix($0) }
    }
  }

  /// Whether `entry` is this connection's original direction.
  func matches(_ entry: ConntrackEntry) -> Bool {
    entry.protocolNumber == 6 && entry.source == IPAddress(source) && entry.destination == IPAddress(destination)
      && entry.sourcePort == localPort && entry.destinationPort == port
  }

  /// The connection in words.
  var description: String {
    "held tcp \(source):\(localPort) -> \(destination):\(port)"
  }
}
