import Testing

@testable import Advisories

/// The ports an advisory's text names, from forms found in CISA's OT advisories.
@Suite struct NamedPortsTests {
  @Test(arguments: [
    ("Block access to port 102/tcp from untrusted networks.", ["tcp/102"]),
    ("Restrict ports 22/tcp, 80/tcp and 443/tcp.", ["tcp/22", "tcp/80", "tcp/443"]),
    ("An attacker could send packets to UDP Port 2222.", ["udp/2222"]),
    ("Unitronics Vision PLCs listen on TCP/20256.", ["tcp/20256"]),
    ("EtherNet/IP on Port 44818 is affected.", ["port 44818"]),
    ("Close TCP and UDP port 44818.", ["tcp/44818", "udp/44818"]),
    ("TCP ports 80 and 443 expose the web server.", ["tcp/80", "tcp/443"]),
    ("ports 80 and 443/tcp", ["tcp/80", "tcp/443"]),
    ("SNMP (161/udp) and NTP on udp/123.", ["udp/161", "udp/123"]),
    ("Version 2.0 of the firmware fixes 3 issues on Ethernet port two.", []),
    ("port 0 and port 70000 are no ports", []),
  ])
  func portsAreReadFromTheText(_ text: String, _ ports: [String]) {
    #expect(NamedPorts.named(in: text).map(\.description) == ports)
  }
}
