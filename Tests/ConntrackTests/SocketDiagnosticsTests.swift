import CNetlink
import FlowSpace
import Foundation
import PolicyTestSupport
import Testing

@testable import Conntrack

/// Established TCP connections and output interfaces read from the kernel in a lab of two namespaces, and the
/// kernel's answers decoded without one.
struct SocketDiagnosticsTests {
  static func address(_ text: String) -> IPAddress {
    IPAddress(text)!
  }

  @Test(.diagnosticsKernelTests)
  func establishedConnectionsToManagementPortsAreListedWithTheirPeers() throws {
    let lab = try DiagnosticsLab()
    defer { lab.close() }
    let server = try lab.start(in: lab.gateway, name: "server", python: DiagnosticsLab.serverScript)
    try lab.waitForLines(of: server, starting: "ready", count: 1)
    let client = try lab.start(in: lab.client, name: "client", python: DiagnosticsLab.clientScript)
    let connected = try lab.waitForLines(of: client, starting: "connected", count: 3)
    try lab.waitForLines(of: server, starting: "accepted", count: 3)

    var clientPorts: [String: UInt16] = [:]
    for line in connected {
      let fields = line.split(separator: " ")
      guard fields.count == 4, let port = UInt16(fields[3]) else {
        Issue.record("unexpected client line \(line)")
        continue
      }
      clientPorts["\(fields[1]) \(fields[2])"] = port
    }
    let v4 = EstablishedConnection(
      local: Self.address("10.77.0.1"), localPort: 22, remote: Self.address("10.77.0.2"),
      remotePort: try #require(clientPorts["22 10.77.0.2"]))
    let v6 = EstablishedConnection(
      local: Self.address("fd77::1"), localPort: 22, remote: Self.address("fd77::2"),
      remotePort: try #require(clientPorts["22 fd77::2"]))
    let netconf = EstablishedConnection(
      local: Self.address("10.77.0.1"), localPort: 830, remote: Self.address("10.77.0.2"),
      remotePort: try #require(clientPorts["830 10.77.0.2"]))

    let ssh = try lab.inNamespace(lab.gateway) { () throws(ConntrackError) in
      try SocketDiagnostics.establishedTCPConnections(localPorts: [22])
    }
    #expect(ssh.count == 2 && Set(ssh) == [v4, v6], "an IPv4 client of a dual-stack socket is reported as IPv4")
    let both = try lab.inNamespace(lab.gateway) { () throws(ConntrackError) in
      try SocketDiagnostics.establishedTCPConnections(localPorts: [22, 830, 9])
    }
    #expect(both.count == 3 && Set(both) == [v4, v6, netconf])
    #expect(both.first == netconf, "the IPv4 sockets come first")
    let listenerOnly = try lab.inNamespace(lab.gateway) { () throws(ConntrackError) in
      try SocketDiagnostics.establishedTCPConnections(localPorts: [2222])
    }
    #expect(listenerOnly == [], "a listening socket is not a connection")
    let none = try lab.inNamespace(lab.gateway) { () throws(ConntrackError) in
      try SocketDiagnostics.establishedTCPConnections(localPorts: [])
    }
    #expect(none == [])
    let clientSide = try lab.inNamespace(lab.client) { () throws(ConntrackError) in
      try SocketDiagnostics.establishedTCPConnections(localPorts: [v4.remotePort])
    }
    #expect(
      clientSide == [
        EstablishedConnection(local: v4.remote, localPort: v4.remotePort, remote: v4.local, remotePort: 22)
      ])
  }

  @Test(.diagnosticsKernelTests)
  func routesNameTheirOutputInterface() throws {
    let lab = try DiagnosticsLab()
    defer { lab.close() }
    let answers = try lab.inNamespace(lab.gateway) { () throws(ConntrackError) in
      var answers: [String?] = []
      for target in ["10.77.0.2", "fd77::2", "192.0.2.9", "2001:db8::9", "10.77.0.1", "fd77::1"] {
        answers.append(try RouteLookup.outputInterface(toward: Self.address(target)))
      }
      return answers
    }
    #expect(answers == ["mgmt0", "mgmt0", nil, nil, "lo", "lo"])
    let fromClient = try lab.inNamespace(lab.client) { () throws(ConntrackError) in
      try RouteLookup.outputInterface(toward: Self.address("10.77.0.1"))
    }
    #expect(fromClient == "eth0")
  }

  // MARK: Without a kernel

  static func inetDiagMessage(
    family: Int32, state: Int32 = Int32(TCP_ESTABLISHED), source: [UInt32], destination: [UInt32]
  ) -> [UInt8] {
    var message = inet_diag_msg()
    message.idiag_family = UInt8(family)
    message.idiag_state = UInt8(state)
    message.id.idiag_sport = UInt16(22).bigEndian
    message.id.idiag_dport = UInt16(40_022).bigEndian
    let words = { (values: [UInt32]) in
      let padded = (values + [0, 0, 0, 0]).map(\.bigEndian)
      return (padded[0], padded[1], padded[2], padded[3])
    }
    message.id.idiag_src = words(source)
    message.id.idiag_dst = words(destination)
    message.idiag_inode = 1234
    return withUnsafeBytes(of: message) { Array($0) } + [8, 0, 1, 0, 0, 0, 0, 0]
  }

  static func decode(_ bytes: [UInt8], family: Int32) -> EstablishedConnection? {
    bytes.withUnsafeBytes { SocketDiagnostics.connection(inetDiagMessage: $0, family: UInt8(family)) }
  }

  @Test func inetDiagMessagesDecodeWithV4MappedAddressesAsIPv4() {
    let v4 = Self.inetDiagMessage(family: AF_INET, source: [0x0a4d_0001], destination: [0x0a4d_0002])
    #expect(
      Self.decode(v4, family: AF_INET)
        == EstablishedConnection(
          local: Self.address("10.77.0.1"), localPort: 22, remote: Self.address("10.77.0.2"), remotePort: 40_022))
    let v6 = Self.inetDiagMessage(
      family: AF_INET6, source: [0xfd77_0000, 0, 0, 1], destination: [0xfd77_0000, 0, 0, 2])
    #expect(Self.decode(v6, family: AF_INET6)?.remote == Self.address("fd77::2"))
    let mapped = Self.inetDiagMessage(
      family: AF_INET6, source: [0, 0, 0xffff, 0x0a4d_0001], destination: [0, 0, 0xffff, 0x0a4d_0002])
    #expect(Self.decode(mapped, family: AF_INET6)?.local == Self.address("10.77.0.1"))
    #expect(Self.decode(mapped, family: AF_INET6)?.remote == Self.address("10.77.0.2"))
    let compatible = Self.inetDiagMessage(family: AF_INET6, source: [0, 0, 0, 1], destination: [0, 0, 0xfffe, 2])
    #expect(Self.decode(compatible, family: AF_INET6)?.remote == Self.address("::fffe:0:2"))
  }

  @Test func otherStatesFamiliesAndShortMessagesAreNotConnections() {
    let v4 = Self.inetDiagMessage(family: AF_INET, source: [0x0a4d_0001], destination: [0x0a4d_0002])
    #expect(Self.decode(v4, family: AF_INET6) == nil)
    for state in [2, 3, 6, 10] {
      let other = Self.inetDiagMessage(family: AF_INET, state: Int32(state), source: [1], destination: [2])
      #expect(Self.decode(other, family: AF_INET) == nil, "state \(state)")
    }
    for length in 0..<MemoryLayout<inet_diag_msg>.size {
      #expect(Self.decode(Array(v4.prefix(length)), family: AF_INET) == nil)
    }
    #expect(Self.decode(Array(v4.prefix(MemoryLayout<inet_diag_msg>.size)), family: AF_INET) != nil)
  }

  @Test func routeAnswersGiveTheirOutputInterfaceOrNone() throws {
    func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
      let length = UInt16(4 + payload.count)
      var bytes = withUnsafeBytes(of: length) { Array($0) } + withUnsafeBytes(of: type) { Array($0) } + payload
      while bytes.count % 4 != 0 { bytes.append(0) }
      return bytes
    }
    func decode(_ bytes: [UInt8]) throws(ConntrackError) -> UInt32? {
      try bytes.withUnsafeBytes { raw in
        Result { () throws(ConntrackError) in try RouteLookup.outputInterface(routePayload: raw) }
      }.get()
    }
    var route = rtmsg()
    route.rtm_family = UInt8(AF_INET)
    route.rtm_dst_len = 32
    let header = withUnsafeBytes(of: route) { Array($0) }
    let destination = attribute(UInt16(RTA_DST.rawValue), [10, 77, 0, 2])
    let index = attribute(UInt16(RTA_OIF.rawValue), withUnsafeBytes(of: UInt32(7)) { Array($0) })
    #expect(try decode(header + destination + index) == 7)
    #expect(try decode(header + destination) == nil)
    #expect(try decode(header + destination + Array(index.prefix(6))) == nil, "a cut attribute is not read")
    #expect(throws: ConntrackError.self) {
      try decode(header + attribute(UInt16(RTA_OIF.rawValue), [7, 0]))
    }
    for length in 0..<header.count {
      #expect(throws: ConntrackError.self) { try decode(Array(header.prefix(length))) }
    }
  }
}

/// Decides whether the tests that need root and `ip netns` run, are skipped or fail (`KernelTestRequirement`, as
/// KernelTests' gate decides): where either is missing they are skipped, unless `CONDUIT_REQUIRE_KERNEL_TESTS=1` is
/// set (as in CI); then `available` is true anyway, so the test runs and fails when it builds its `DiagnosticsLab`.
enum DiagnosticsKernelGate {
  /// Whether a gated test should run: when the capability is there, or when it is required (to fail if missing).
  static var available: Bool {
    KernelTestRequirement.isRequired || missingCapability == nil
  }

  /// Why kernel tests cannot run, or nil when they can. Checked once per process.
  static var missingCapability: String? {
    if case .failure(let failure) = capability { return failure.description }
    return nil
  }

  /// The paths of `ip` and `python3`, or why kernel tests cannot run.
  static func requireCapability() throws -> (ip: String, python: String) {
    try capability.get()
  }

  private static let capability: Result<(ip: String, python: String), DiagnosticsLabError> = checkCapability()

  private static func checkCapability() -> Result<(ip: String, python: String), DiagnosticsLabError> {
    if let missing = KernelTestRequirement.missingNamespaces(
      probe: "cdt-diag-\(DiagnosticsLab.randomIdentifier())-gate")
    {
      return .failure(DiagnosticsLabError("kernel tests cannot run: \(missing)"))
    }
    guard let ip = KernelTestRequirement.locate("ip"), let python = KernelTestRequirement.locate("python3") else {
      return .failure(DiagnosticsLabError("kernel tests cannot run: `ip` or `python3` is not installed"))
    }
    return .success((ip, python))
  }
}

extension Trait where Self == ConditionTrait {
  /// Runs the test where kernel tests can run, and also where they are required (so that it fails there).
  static var diagnosticsKernelTests: Self {
    .enabled(
      if: DiagnosticsKernelGate.available,
      "needs root and `ip netns`; \(KernelTestRequirement.variable)=1 turns this skip into a failure")
  }
}

/// A failed lab step, or why the lab cannot be built.
struct DiagnosticsLabError: Error, CustomStringConvertible {
  var description: String

  init(_ description: String) {
    self.description = description
  }
}

/// Two namespaces joined by a veth: `cdt-diag-<id>-gw` (`mgmt0`: 10.77.0.1/24, fd77::1/64) and `cdt-diag-<id>-cl`
/// (`eth0`: 10.77.0.2/24, fd77::2/64), no default route in either. `close()` (or `deinit`) kills the processes it
/// started and deletes both namespaces.
final class DiagnosticsLab {
  let gateway: String
  let client: String
  private let ip: String
  private let python: String
  private let directory: URL
  private var processes: [Process] = []
  private var created: [String] = []
  private var isClosed = false

  /// Listens on 22 (dual-stack), 830 (IPv4 only) and 2222 (IPv6 only, never connected to); holds what it accepts
  /// for at most 60 s.
  static let serverScript = """
    import select, socket, time
    def listener(family, address, port, v6only=None):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if v6only is not None:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
        s.bind((address, port))
        s.listen(8)
        return s
    listeners = [listener(socket.AF_INET6, "::", 22, 0), listener(socket.AF_INET, "10.77.0.1", 830),
                 listener(socket.AF_INET6, "::", 2222, 1)]
    print("ready", flush=True)
    held = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select(listeners, [], [], 0.5)
        for s in ready:
            connection, peer = s.accept()
            held.append(connection)
            print("accepted", s.getsockname()[1], peer[0], peer[1], flush=True)
    """

  /// Connects to the gateway's 22 over IPv4 and IPv6 and to 830 over IPv4; holds the connections for at most 60 s.
  static let clientScript = """
    import socket, time
    held = []
    for address, port in [("10.77.0.1", 22), ("fd77::1", 22), ("10.77.0.1", 830)]:
        connection = socket.create_connection((address, port), timeout=5)
        held.append(connection)
        local = connection.getsockname()
        print("connected", port, local[0], local[1], flush=True)
    time.sleep(60)
    """

  init() throws {
    (ip, python) = try DiagnosticsKernelGate.requireCapability()
    let identifier = Self.randomIdentifier()
    gateway = "cdt-diag-\(identifier)-gw"
    client = "cdt-diag-\(identifier)-cl"
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdt-diag-\(identifier)")
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      for namespace in [gateway, client] {
        try Self.run(ip, ["netns", "add", namespace])
        created.append(namespace)
      }
      try Self.run(
        ip, ["-n", gateway, "link", "add", "mgmt0", "type", "veth", "peer", "name", "eth0", "netns", client])
      for (namespace, link, host) in [(gateway, "mgmt0", "1"), (client, "eth0", "2")] {
        try Self.run(ip, ["-n", namespace, "address", "add", "10.77.0.\(host)/24", "dev", link])
        try Self.run(ip, ["-n", namespace, "address", "add", "fd77::\(host)/64", "dev", link, "nodad"])
        try Self.run(ip, ["-n", namespace, "link", "set", link, "up"])
        try Self.run(ip, ["-n", namespace, "link", "set", "lo", "up"])
      }
    } catch {
      close()
      throw error
    }
  }

  deinit {
    close()
  }

  /// Kills the lab's processes and deletes its namespaces and files. Safe to repeat.
  func close() {
    guard !isClosed else { return }
    isClosed = true
    for process in processes where process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    for namespace in created { try? Self.run(ip, ["netns", "delete", namespace]) }
    try? FileManager.default.removeItem(at: directory)
  }

  /// Starts `python` in `namespace`, its standard output going to a file named after `name`.
  func start(in namespace: String, name: String, python script: String) throws -> URL {
    let output = directory.appendingPathComponent("\(name).out")
    guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
      throw DiagnosticsLabError("cannot create \(output.path)")
    }
    let handle = try FileHandle(forWritingTo: output)
    defer { try? handle.close() }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ip)
    process.arguments = ["netns", "exec", namespace, python, "-I", "-S", "-c", script]
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    processes.append(process)
    return output
  }

  /// Waits at most `timeout` seconds for `count` lines starting with `prefix` in `output`, and returns them.
  @discardableResult
  func waitForLines(of output: URL, starting prefix: String, count: Int, timeout: Double = 10) throws -> [String] {
    let deadline = Date().addingTimeInterval(timeout)
    var text = ""
    while true {
      text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
      let lines = text.split(separator: "\n").filter { $0.hasPrefix(prefix) }.map(String.init)
      if lines.count >= count { return lines }
      guard Date() < deadline else {
        throw DiagnosticsLabError(
          "\(output.lastPathComponent) printed no \(count) \"\(prefix)\" lines in \(timeout) s:\n\(text)")
      }
      usleep(20_000)
    }
  }

  /// The result of `work` on a thread of its own that entered `namespace` first.
  func inNamespace<Value: Sendable>(
    _ namespace: String, _ work: @escaping @Sendable () throws(ConntrackError) -> Value
  ) throws -> Value {
    let path = "/run/netns/\(namespace)"
    return try onThreadOfItsOwn { () -> Result<Value, ConntrackError> in
      let descriptor = open(path, O_RDONLY | O_CLOEXEC)
      guard descriptor >= 0 else { return .failure(ConntrackError("opening \(path)", errno: errno)) }
      defer { Glibc.close(descriptor) }
      guard conduit_enter_network_namespace(descriptor) == 0 else {
        return .failure(ConntrackError("entering \(path)", errno: errno))
      }
      return Result { () throws(ConntrackError) in try work() }
    }.get()
  }

  /// Six random lowercase hex digits.
  static func randomIdentifier() -> String {
    String(format: "%06x", UInt32.random(in: 0..<0x100_0000))
  }

  /// Runs `executable` with `arguments`, killing it after 20 s; throws when it does not exit with status 0.
  static func run(_ executable: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let errors = Pipe()
    process.standardOutput = FileHandle.nullDevice
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = Date().addingTimeInterval(20)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      throw DiagnosticsLabError("\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(message)")
    }
  }
}
