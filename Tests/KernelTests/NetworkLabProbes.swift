import FlowSpace
import Foundation
import Testing

/// One attempt to send real packets between the hosts of a `NetworkLab`, or from a host to its gateway.
enum Probe: Hashable, Sendable, CustomStringConvertible {
  /// A TCP connection from `from` to a listener on `to`:`port`, which must receive a token over it.
  case tcp(from: String, to: String, port: UInt16)
  /// A UDP datagram from `from` to a receiver on `to`:`port`.
  case udp(from: String, to: String, port: UInt16)
  /// An ICMP or ICMPv6 echo request from `from` to `to`, which must be answered.
  case ping(from: String, to: String)
  /// A raw IP packet of protocol `protocolNumber` (such as 47, GRE) from `from` to a raw socket on `to`.
  case proto(from: String, to: String, protocolNumber: UInt8)
  /// A TCP connection from `from` to a listener in the gateway itself, on its address on `from`'s side.
  case tcpToGateway(from: String, port: UInt16)
  /// A UDP datagram sent from the side of interface `fromInterfaceSide` with the source address `forgedSource`.
  case spoofedUDP(fromInterfaceSide: String, forgedSource: String, to: String, port: UInt16)

  /// The probe in words, e.g. "tcp 10.30.0.31 -> 10.40.0.10 port 502".
  var description: String {
    switch self {
    case .tcp(let from, let to, let port): "tcp \(from) -> \(to) port \(port)"
    case .udp(let from, let to, let port): "udp \(from) -> \(to) port \(port)"
    case .ping(let from, let to): "ping \(from) -> \(to)"
    case .proto(let from, let to, let number): "protocol \(number) \(from) -> \(to)"
    case .tcpToGateway(let from, let port): "tcp \(from) -> gateway port \(port)"
    case .spoofedUDP(let side, let forged, let to, let port):
      "udp forged \(forged) from \(side)'s side -> \(to) port \(port)"
    }
  }
}

/// What happened to one probe.
struct ProbeResult: Sendable, Hashable {
  /// The probe.
  var probe: Probe
  /// Whether its packets arrived (and for a ping, whether the reply came back).
  var reached: Bool
  /// What the receiver saw or the sender reported, for messages.
  var detail: String
}

extension NetworkLab {
  /// Runs `probes` together and returns their results in the same order.
  ///
  /// All listeners start first (one process per destination namespace), then all clients (one per source namespace)
  /// send at once, so a batch takes about one `probeTimeout` when some probe is blocked and much less otherwise. A
  /// probe that cannot run at all (an unknown address, a port already bound) throws rather than reading as blocked.
  func probe(_ probes: [Probe]) throws -> [ProbeResult] {
    guard !isClosed else { throw NetworkLabError.closed }
    guard !probes.isEmpty else { return [] }
    batchCount += 1
    let batch = batchCount
    let plans = try probes.enumerated().map { index, probe in try plan(probe, token: "b\(batch)p\(index)") }

    var receivers: [(namespace: String, process: BackgroundProcess)] = []
    var senders: [BackgroundProcess] = []
    defer {
      for receiver in receivers { receiver.process.kill() }
      for sender in senders { sender.kill() }
    }
    for (namespace, group) in Dictionary(grouping: plans.filter { $0.listener != nil }, by: \.receiverNamespace) {
      let spec = ReceiverSpec(
        lifetime: Int(probeTimeout) + 30, window: probeTimeout + 0.25, tokens: group.map(\.sent.token),
        listeners: Array(Set(group.compactMap(\.listener))))
      let process = try startPython(Self.receiverScript, in: namespace, name: "b\(batch)-receiver-\(namespace)")
      process.send(String(decoding: try JSONEncoder().encode(spec), as: UTF8.self))
      receivers.append((namespace, process))
    }
    for (namespace, process) in receivers where !process.waitForLine("ready", timeout: 15) {
      let output = process.waitForExit(timeout: 1)
      throw NetworkLabError.probeFailed(nil, "the listener in \(namespace) did not start:\n\(output.standardError)")
    }
    for (_, process) in receivers { process.send("go") }
    for (namespace, group) in Dictionary(grouping: plans, by: \.senderNamespace) {
      let spec = SenderSpec(timeout: probeTimeout, probes: group.map(\.sent))
      let input = workDirectory.appendingPathComponent("b\(batch)-sender-\(namespace).json")
      try JSONEncoder().encode(spec).write(to: input)
      senders.append(
        try startPython(Self.senderScript, in: namespace, name: "b\(batch)-sender-\(namespace)", input: input))
    }

    var outcomes: [String: String] = [:]
    for sender in senders {
      let output = sender.waitForExit(timeout: probeTimeout + 20)
      guard output.status == 0 else {
        throw NetworkLabError.probeFailed(nil, "a client exited with status \(output.status):\n\(output.standardError)")
      }
      for line in output.standardOutput.split(separator: "\n") {
        let words = line.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 { outcomes[words[0]] = words[1] }
      }
    }
    var arrivals: [String: String] = [:]
    for (namespace, process) in receivers {
      let output = process.waitForExit(timeout: probeTimeout + 20)
      guard output.status == 0 else {
        throw NetworkLabError.probeFailed(nil, "the listener in \(namespace) failed:\n\(output.standardError)")
      }
      for line in output.standardOutput.split(separator: "\n") where line.hasPrefix("got ") {
        let words = line.split(separator: " ").map(String.init)
        if words.count == 3 { arrivals[words[1]] = words[2] }
      }
    }
    return try zip(probes, plans).map { probe, plan in
      let outcome = outcomes[plan.sent.token] ?? "no report"
      if outcome.hasPrefix("error") || outcome == "no report" {
        throw NetworkLabError.probeFailed(probe, "the client reported: \(outcome)")
      }
      if plan.listener == nil { return ProbeResult(probe: probe, reached: outcome == "reached", detail: outcome) }
      if let source = arrivals[plan.sent.token] {
        return ProbeResult(probe: probe, reached: true, detail: "arrived from \(source)")
      }
      if outcome == "connected" { return ProbeResult(probe: probe, reached: true, detail: outcome) }
      return ProbeResult(probe: probe, reached: false, detail: "nothing arrived; the client reported: \(outcome)")
    }
  }

  /// Records an issue for each probe in `reachable` that was blocked and each in `blocked` that arrived.
  func expectReachability(
    reachable: [Probe], blocked: [Probe], sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let results = try probe(reachable + blocked)
    for (index, result) in results.enumerated() where result.reached != (index < reachable.count) {
      let expected = result.reached ? "to be blocked, but it arrived" : "to arrive, but it was blocked"
      Issue.record("expected \(result.probe) \(expected) (\(result.detail))", sourceLocation: sourceLocation)
    }
  }

  /// Whether a TCP connection from host `source` to a listener on host `destination`:`port` succeeds.
  func tcpConnects(from source: String, to destination: String, port: UInt16) throws -> Bool {
    try probe([.tcp(from: source, to: destination, port: port)])[0].reached
  }

  /// Whether a UDP datagram from host `source` reaches a receiver on host `destination`:`port`.
  func udpReaches(from source: String, to destination: String, port: UInt16) throws -> Bool {
    try probe([.udp(from: source, to: destination, port: port)])[0].reached
  }

  /// Whether host `destination` answers an echo request from host `source` (ICMP or ICMPv6).
  func pingReaches(from source: String, to destination: String) throws -> Bool {
    try probe([.ping(from: source, to: destination)])[0].reached
  }

  /// Whether a raw IP packet of protocol `protocolNumber` from host `source` reaches host `destination`.
  func protoReaches(from source: String, to destination: String, protocolNumber: UInt8) throws -> Bool {
    try probe([.proto(from: source, to: destination, protocolNumber: protocolNumber)])[0].reached
  }

  /// Whether host `source` can connect to a listener on `port` of the gateway itself (the input chain).
  func tcpConnectsToGateway(from source: String, port: UInt16) throws -> Bool {
    try probe([.tcpToGateway(from: source, port: port)])[0].reached
  }

  /// Whether a UDP datagram with the forged source `forgedSource`, sent from the side of interface `interface`,
  /// reaches a receiver on host `destination`:`port`.
  func spoofedUDPArrives(
    fromInterfaceSide interface: String, forgedSource: String, to destination: String, port: UInt16
  ) throws -> Bool {
    try probe([.spoofedUDP(fromInterfaceSide: interface, forgedSource: forgedSource, to: destination, port: port)])[0]
      .reached
  }

  // MARK: Planning

  private struct Plan {
    var sent: SentProbe
    var senderNamespace: String
    var receiverNamespace: String
    var listener: ListenerSpec?
  }

  private struct ListenerSpec: Encodable, Hashable {
    var kind: String
    var family: Int
    var address: String
    var port: Int?
    var protocolNumber: Int?
  }

  private struct ReceiverSpec: Encodable {
    var lifetime: Int
    var window: Double
    var tokens: [String]
    var listeners: [ListenerSpec]
  }

  private struct SentProbe: Encodable {
    var token: String
    var kind: String
    var family: Int
    var source: String
    var destination: String
    var port: Int?
    var protocolNumber: Int?
  }

  private struct SenderSpec: Encodable {
    var timeout: Double
    var probes: [SentProbe]
  }

  private func plan(_ probe: Probe, token: String) throws -> Plan {
    func host(_ text: String) throws -> (address: IPAddress, side: Int) {
      guard let address = IPAddress(text) else {
        throw NetworkLabError.invalidProbe(probe, "\(text) is not an address")
      }
      guard let side = hostSides[address] else {
        throw NetworkLabError.invalidProbe(probe, "\(text) is not a host of the lab")
      }
      return (address, side)
    }
    func crossing(_ source: String, _ destination: String) throws -> (IPAddress, Int, IPAddress, Int) {
      let (from, fromSide) = try host(source)
      let (to, toSide) = try host(destination)
      guard from.family == to.family else { throw NetworkLabError.invalidProbe(probe, "the families differ") }
      guard fromSide != toSide else {
        throw NetworkLabError.invalidProbe(
          probe, "both hosts are behind \(interfaces[fromSide].name): no gateway between")
      }
      return (from, fromSide, to, toSide)
    }
    func family(_ address: IPAddress) -> Int {
      address.family == .ipv4 ? 4 : 6
    }
    switch probe {
    case .tcp(_, _, 0), .udp(_, _, 0), .tcpToGateway(_, 0), .spoofedUDP(_, _, _, 0):
      throw NetworkLabError.invalidProbe(probe, "port 0 cannot be listened on")
    case .proto(_, _, 0), .proto(_, _, 255):
      throw NetworkLabError.invalidProbe(probe, "protocol numbers 0 and 255 cannot be sent on a raw socket")
    default:
      break
    }
    switch probe {
    case .tcp(let source, let destination, let port), .udp(let source, let destination, let port):
      let (from, fromSide, to, toSide) = try crossing(source, destination)
      let kind = if case .tcp = probe { "tcp" } else { "udp" }
      return Plan(
        sent: SentProbe(
          token: token, kind: kind, family: family(from), source: "\(from)", destination: "\(to)", port: Int(port)),
        senderNamespace: sideNamespaces[fromSide], receiverNamespace: sideNamespaces[toSide],
        listener: ListenerSpec(kind: kind, family: family(to), address: "\(to)", port: Int(port)))
    case .ping(let source, let destination):
      let (from, fromSide, to, toSide) = try crossing(source, destination)
      return Plan(
        sent: SentProbe(token: token, kind: "ping", family: family(from), source: "\(from)", destination: "\(to)"),
        senderNamespace: sideNamespaces[fromSide], receiverNamespace: sideNamespaces[toSide], listener: nil)
    case .proto(let source, let destination, let number):
      let (from, fromSide, to, toSide) = try crossing(source, destination)
      return Plan(
        sent: SentProbe(
          token: token, kind: "raw", family: family(from), source: "\(from)", destination: "\(to)",
          protocolNumber: Int(number)),
        senderNamespace: sideNamespaces[fromSide], receiverNamespace: sideNamespaces[toSide],
        listener: ListenerSpec(kind: "raw", family: family(to), address: "\(to)", protocolNumber: Int(number)))
    case .tcpToGateway(let source, let port):
      let (from, fromSide) = try host(source)
      let to = Self.transitAddress(index: fromSide, family: from.family, gatewaySide: true)
      return Plan(
        sent: SentProbe(
          token: token, kind: "tcp", family: family(from), source: "\(from)", destination: to, port: Int(port)),
        senderNamespace: sideNamespaces[fromSide], receiverNamespace: gatewayNamespace,
        listener: ListenerSpec(kind: "tcp", family: family(from), address: to, port: Int(port)))
    case .spoofedUDP(let interface, let forgedSource, let destination, let port):
      guard let fromSide = interfaces.firstIndex(where: { $0.name == interface }) else {
        throw NetworkLabError.invalidProbe(probe, "the gateway has no interface \(interface)")
      }
      guard let forged = IPAddress(forgedSource) else {
        throw NetworkLabError.invalidProbe(probe, "\(forgedSource) is not an address")
      }
      let (to, toSide) = try host(destination)
      guard forged.family == to.family else { throw NetworkLabError.invalidProbe(probe, "the families differ") }
      guard fromSide != toSide else {
        throw NetworkLabError.invalidProbe(probe, "\(destination) is behind \(interface) itself: no gateway between")
      }
      return Plan(
        sent: SentProbe(
          token: token, kind: "spoof", family: family(to), source: "\(forged)", destination: "\(to)", port: Int(port)),
        senderNamespace: sideNamespaces[fromSide], receiverNamespace: sideNamespaces[toSide],
        listener: ListenerSpec(kind: "udp", family: family(to), address: "\(to)", port: Int(port)))
    }
  }

  private func startPython(_ script: String, in namespace: String, name: String, input: URL? = nil) throws
    -> BackgroundProcess
  {
    let output = workDirectory.appendingPathComponent("\(name).out")
    let error = workDirectory.appendingPathComponent("\(name).err")
    return try BackgroundProcess(
      executable: tools.ip, arguments: ["netns", "exec", namespace, tools.python, "-I", "-S", "-c", script],
      input: input.map { .file($0) } ?? .lines, output: output, error: error)
  }

  // MARK: Scripts

  /// Binds every listener of its spec (first line of stdin), prints "ready", and after "go" prints "got TOKEN SOURCE"
  /// for each expected token that arrives. It exits when all arrived, at stdin's end, or `window` seconds after "go"
  /// once it has read what is already queued (so that a listener scheduled late still counts what arrived in time).
  static let receiverScript = #"""
    import json, os, re, select, signal, socket, sys, time
    control = b""
    while b"\n" not in control:
      chunk = os.read(0, 65536)
      if not chunk:
        sys.exit(1)
      control += chunk
    line, _, control = control.partition(b"\n")
    spec = json.loads(line)
    signal.alarm(spec["lifetime"])
    expected = set(spec["tokens"])
    token_pattern = re.compile(rb"cdtprobe:([0-9a-z]+);")
    families = {4: socket.AF_INET, 6: socket.AF_INET6}
    kinds = {}
    for listener in spec["listeners"]:
      family = families[listener["family"]]
      if listener["kind"] == "tcp":
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((listener["address"], listener["port"]))
        sock.listen(128)
      elif listener["kind"] == "udp":
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((listener["address"], listener["port"]))
      else:
        sock = socket.socket(family, socket.SOCK_RAW, listener["protocolNumber"])
        sock.bind((listener["address"], 0))
      sock.setblocking(False)
      kinds[sock] = listener["kind"]
    print("ready", flush=True)
    connections = {}
    deadline = time.monotonic() + spec["window"] if control else None
    def record(data, source):
      for token in token_pattern.findall(data):
        token = token.decode()
        if token in expected:
          expected.discard(token)
          print("got", token, source, flush=True)
    def poll(wait):
      global deadline
      readable = select.select([0] + list(kinds) + list(connections), [], [], wait)[0]
      for ready in readable:
        if ready == 0:
          if not os.read(0, 4096):
            sys.exit(0)
          if deadline is None:
            deadline = time.monotonic() + spec["window"]
        elif ready in connections:
          try:
            data = ready.recv(4096)
          except OSError:
            data = b""
          if data:
            connections[ready][1] += data
            record(connections[ready][1], connections[ready][0])
          else:
            del connections[ready]
            ready.close()
        elif kinds[ready] == "tcp":
          try:
            connection, address = ready.accept()
          except OSError:
            continue
          connection.setblocking(False)
          connections[connection] = [address[0], b""]
        else:
          try:
            data, address = ready.recvfrom(65535)
          except OSError:
            continue
          record(data, address[0])
      return bool(readable)
    while expected and (deadline is None or time.monotonic() < deadline):
      poll(None if deadline is None else max(0.0, deadline - time.monotonic()))
    for _ in range(1000):
      if not expected or not poll(0):
        break
    """#

  /// Prepares every probe of its spec (stdin), printing "TOKEN error …" for one that cannot be set up, then sends
  /// them all at once and prints "TOKEN connected|sent|reached" or "TOKEN failed …" for each.
  static let senderScript = #"""
    import json, random, select, signal, socket, struct, sys, threading, time
    spec = json.loads(sys.stdin.read())
    timeout = spec["timeout"]
    signal.alarm(int(timeout) + 30)
    families = {4: socket.AF_INET, 6: socket.AF_INET6}
    lock = threading.Lock()
    def report(token, outcome):
      with lock:
        print(token, outcome.replace("\n", " "), flush=True)
    def payload(probe):
      return ("cdtprobe:%s;" % probe["token"]).encode()
    def checksum(data):
      padded = data + b"\0" * (len(data) % 2)
      total = sum(struct.unpack("!%dH" % (len(padded) // 2), padded))
      total = (total >> 16) + (total & 0xFFFF)
      return ~(total + (total >> 16)) & 0xFFFF
    def tcp(probe, family):
      sock = socket.socket(family, socket.SOCK_STREAM)
      sock.bind((probe["source"], 0))
      sock.settimeout(timeout)
      def send():
        sock.connect((probe["destination"], probe["port"]))
        sock.sendall(payload(probe))
        sock.close()
        return "connected"
      return send
    def udp(probe, family, transparent=False):
      sock = socket.socket(family, socket.SOCK_DGRAM)
      if transparent and family == socket.AF_INET:
        sock.setsockopt(socket.IPPROTO_IP, 19, 1)
      elif transparent:
        sock.setsockopt(socket.IPPROTO_IPV6, 75, 1)
      sock.bind((probe["source"], 0))
      def send():
        sock.sendto(payload(probe), (probe["destination"], probe["port"]))
        sock.close()
        return "sent"
      return send
    def raw(probe, family):
      sock = socket.socket(family, socket.SOCK_RAW, probe["protocolNumber"])
      sock.bind((probe["source"], 0))
      def send():
        sock.sendto(b"\0\0\x88\xb5" + payload(probe), (probe["destination"], 0))
        sock.close()
        return "sent"
      return send
    def ping(probe, family):
      v4 = family == socket.AF_INET
      sock = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_ICMP if v4 else socket.IPPROTO_ICMPV6)
      sock.bind((probe["source"], 0))
      ident, sequence = random.randrange(1, 0xFFFF), random.randrange(1, 0xFFFF)
      body = payload(probe)
      header = struct.pack("!BBHHH", 8 if v4 else 128, 0, 0, ident, sequence)
      if v4:
        header = struct.pack("!BBHHH", 8, 0, checksum(header + body), ident, sequence)
      def send():
        sock.sendto(header + body, (probe["destination"], 0))
        deadline = time.monotonic() + timeout
        while select.select([sock], [], [], max(0.0, deadline - time.monotonic()))[0]:
          data, address = sock.recvfrom(65535)
          if v4:
            data = data[(data[0] & 0x0F) * 4:]
          if len(data) >= 8 and address[0] == probe["destination"]:
            kind, _, _, reply_ident, reply_sequence = struct.unpack("!BBHHH", data[:8])
            if kind == (0 if v4 else 129) and (reply_ident, reply_sequence) == (ident, sequence):
              return "reached"
        return "failed: no echo reply"
      return send
    actions = {"tcp": tcp, "udp": udp, "raw": raw, "ping": ping, "spoof": lambda p, f: udp(p, f, transparent=True)}
    prepared = []
    for probe in spec["probes"]:
      try:
        prepared.append((probe["token"], actions[probe["kind"]](probe, families[probe["family"]])))
      except Exception as error:
        report(probe["token"], "error: %r" % error)
    def run(token, send):
      try:
        report(token, send())
      except Exception as error:
        report(token, "failed: %r" % error)
    threads = [threading.Thread(target=run, args=item) for item in prepared]
    for thread in threads:
      thread.start()
    for thread in threads:
      thread.join()
    """#
}
