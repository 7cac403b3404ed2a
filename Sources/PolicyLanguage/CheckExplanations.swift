private let languageSource =
  "conduit's policy language (LANGUAGE.md): a policy that does not resolve documents no zone and conduit model "
  + "(IEC 62443-3-2 ZCR 3)"
private let partitionSource = "IEC 62443-3-2 ZCR 3: the system is partitioned into zones joined by conduits"
private let securityLevelSource =
  "IEC 62443-3-2 ZCR 5: each zone and conduit is given a target security level (SL-T)"
private let segmentationSource =
  "IEC 62443-3-3 SR 5.1 (network segmentation) and SR 5.2 (zone boundary protection)"
private let denyByDefaultSource =
  "IEC 62443-3-3 SR 5.2 and IEC 62443-4-2 NDR 5.2 RE(1): deny by default, permit by exception"
private let purdueSource =
  "the Purdue model: levels 0-3 are the plant, 4 and 5 the enterprise, with an industrial DMZ at level 3.5 "
  + "between them (IEC 62443-3-2 ZCR 3 separates business from control assets)"
private let advisorySource =
  "IEC 62443-3-2 ZCR 5: the detailed risk assessment considers known vulnerabilities (ADVISORIES.md)"

private let zones = """
  zone operations { level 3; security-level 2; network 10.30.0.0/24, fd00:30::/64 }
  zone control { level 1; security-level 3; network 10.40.0.0/24, fd00:40::/64 }
  asset hmi-1 { address 10.30.0.31; role hmi }
  asset plc-1 { address 10.40.0.10; role plc }

  """

private func conduit(_ body: String, between: String = "operations and control") -> String {
  """
  conduit operations-control {
    between \(between)
    owner "ot-engineering"
    justification "HMI polling (CHG-2291)"
  \(body.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n"))
  }

  """
}

private func csv(_ text: String) -> (fileName: String, text: String) { ("assets.csv", text) }

extension CheckID {
  // swift-format-ignore
  var explanationParts: (String, String, CheckExample, String, String) {
    switch self {
    case .syntax:
      ("error", "A statement that does not follow the grammar means nothing; conduit reports every such place and reads on at the next statement, so one run shows them all.",
       CheckExample(policy: "zone operations {\n  level 3\n  security-level 2\n  network 10.30.0.0/24\n  colour red\n}\n"),
       "Write the statement as LANGUAGE.md gives it; the message names the tokens expected and the nearest keyword.", languageSource)
    case .unknownName:
      ("error", "A rule that names an asset, zone, service, gateway or mitigation that is not defined would silently allow less (or other) traffic than its author meant.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-3 service modbus")),
       "Correct the name (the note suggests the nearest one) or define it, in the policy or the baseline.", languageSource)
    case .duplicateDefinition:
      ("error", "A name defined twice makes every use of it ambiguous.",
       CheckExample(policy: zones + "asset plc-1 { address 10.40.0.11 }\n"),
       "Rename or remove one of the definitions (the note points at the first).", languageSource)
    case .emptyGlob:
      ("error", "A glob or role that matches no asset permits nothing; usually it is a typo that leaves a needed flow out, or the baseline is not the one expected.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plx-* service modbus")),
       "Correct the pattern or role, or add the assets to the baseline; in a conduit, the assets must lie in the conduit's zones.", denyByDefaultSource)
    case .badPrefix:
      ("error", "An invalid address, or a prefix with host bits set, does not say which network is meant.",
       CheckExample(policy: "zone operations { level 3; security-level 2; network 10.30.0.1/24 }\n"),
       "Write a valid address, or the network address the note gives (10.30.0.0/24).", languageSource)
    case .badPort:
      ("error", "A port outside 0-65535, an empty range, an ICMP error type (those belong to connections already allowed), a raw protocol number for ICMP, TCP or UDP, or a bare `icmp` cannot be compiled into an exact rule.",
       CheckExample(policy: "service historian-sync tcp/70000\n"),
       "Give a port or range within 0-65535 and use `tcp/…`, `udp/…`, `icmp/TYPE` or `icmpv6/TYPE` for those protocols.", languageSource)
    case .badValue:
      ("error", "A malformed or out-of-range value (a Purdue level such as 2.5, a security level above 4, a bad date or MAC, an interface name over 15 bytes, a statement given twice) cannot be honoured.",
       CheckExample(policy: "zone control { level 2.5; security-level 3; network 10.40.0.0/24 }\n"),
       "Give a value within the range LANGUAGE.md lists (levels 0, 1, 2, 3, 3.5, 4, 5; security levels 1-4; dates YYYY-MM-DD).", languageSource)
    case .missingStatement:
      ("error", "A conduit without `between`, a mitigation without `reason`, an asset without `address` or a zone without `network` is incomplete: its traffic cannot be placed.",
       CheckExample(policy: zones + "conduit operations-control {\n  owner \"ot-engineering\"\n  allow hmi-1 -> plc-1 service modbus\n}\n"),
       "Add the statement the message names.", languageSource)
    case .missingFile:
      ("error", "An include or baseline that cannot be read leaves the policy incomplete; the run stops with exit status 2, as for a missing policy file.",
       CheckExample(policy: "baseline \"assets.csv\"\n" + zones),
       "Correct the path (relative to the file that names it) or create the file; `--baseline FILE` overrides the policy's baseline.", languageSource)
    case .unknownCheck:
      ("error", "`accept-risk` with a check id that does not exist accepts nothing; the finding meant stays reported, or worse, the typo hides which risk was meant to be accepted.",
       CheckExample(policy: zones + "accept-risk missing-justifcation \"tracked in CHG-2291\"\n"),
       "Use the check id as `conduit check` prints it in brackets (the note suggests the nearest one).", languageSource)
    case .nameCollision:
      ("error", "The backends write zone and conduit names into table and chain names; two names that become the same generated name would share one chain, mixing their rules.",
       CheckExample(policy: zones + "zone dmz { level 3.5; security-level 2; network 10.50.0.0/24 }\nconduit ops-ctl {\n  between operations and control\n}\nconduit \"ops ctl\" {\n  between operations and dmz\n}\n"),
       "Rename one of the two so that they differ in letters, digits, `-` or `_`.", languageSource)
    case .includeCycle:
      ("error", "An include chain that loops has no end; conduit stops at the loop instead of reading for ever.",
       CheckExample(policy: zones + "include \"./\(CheckExample.policyFileName)\"\n"),
       "Remove the include that leads back to a file already being read; a file included along two separate paths is fine.", languageSource)
    case .serviceCycle:
      ("error", "A service defined through itself, directly or through other services, names no ports.",
       CheckExample(policy: "service polling polling-group, tcp/502\nservice polling-group polling\n"),
       "Define one of the services by its ports.", languageSource)
    case .baselineRow:
      ("error", "A baseline row without name or address, or with a value that does not parse, is a device the policy cannot place.",
       CheckExample(policy: "baseline \"assets.csv\"\n" + zones, baseline: csv("name,ip\nplc-2,10.40.0.300\n")),
       "Correct the row in the inventory export (the finding points at its line), or remove it.", partitionSource)
    case .duplicateAddress:
      ("error", "Two assets with one address make every rule that names either of them reach both.",
       CheckExample(policy: "baseline \"assets.csv\"\n" + zones, baseline: csv("name,ip\nplc-2,10.40.0.12\nplc-2-spare,10.40.0.12\n")),
       "Correct the address of one of them, or mark both `shared` (a virtual or redundancy address).", partitionSource)
    case .assetClash:
      ("error", "A policy `asset` and a baseline row of the same name that disagree (address, role, criticality, vendor…) leave it open which one describes the device.",
       CheckExample(policy: "baseline \"assets.csv\"\n" + "zone control { level 1; security-level 3; network 10.40.0.0/24 }\nasset plc-1 { address 10.40.0.11 }\n", baseline: csv("name,ip\nplc-1,10.40.0.10\n")),
       "Make the two agree, or remove the policy's asset and keep the inventory as the one source.", partitionSource)
    case .baselineZoneMismatch:
      ("error", "The inventory places a device in one zone while its address lies in another: one of them is wrong, and the rules follow the address.",
       CheckExample(policy: "baseline \"assets.csv\"\n" + zones, baseline: csv("name,ip,zone\nhmi-2,10.40.0.32,operations\n")),
       "Correct the row's zone or its address, or the zone's network.", partitionSource)
    case .unzonedAsset:
      ("warning", "Every device belongs to exactly one zone; an address in no zone (or in an `outside` zone that does not list it) is an unknown device or a typo.",
       CheckExample(policy: "baseline \"assets.csv\"\n" + zones, baseline: csv("name,ip\nplc-typo,10.4.0.10\n")),
       "Correct the address, extend a zone's network to hold it, or list it in the `outside` zone's `assets`.", partitionSource)
    case .dualHomedAsset:
      ("warning", "An asset with addresses in two zones can carry traffic between them outside any conduit, bypassing the gateway.",
       CheckExample(policy: zones + "asset historian { address 10.30.0.50, 10.40.0.50 }\n"),
       "Give the asset one network interface in one zone and route the traffic through a conduit.", segmentationSource)
    case .zoneMembership:
      ("error", "A zone's `assets` line lists an asset whose address lies elsewhere: the zone's documented membership is false.",
       CheckExample(policy: "zone operations { level 3; security-level 2; network 10.30.0.0/24 }\nzone control { level 1; security-level 3; network 10.40.0.0/24; assets plc-1, hmi-1 }\nasset plc-1 { address 10.40.0.10 }\nasset hmi-1 { address 10.30.0.31 }\n"),
       "Remove the asset from the list, or correct its address.", partitionSource)
    case .overlappingZones:
      ("error", "Networks that overlap put addresses in two zones at once, so the boundary between the zones is undefined.",
       CheckExample(policy: zones + "zone lab { level 3; security-level 2; network 10.30.0.128/25 }\n"),
       "Make the networks disjoint (the note points at the earlier one).", segmentationSource)
    case .missingSecurityLevel:
      ("error", "Every zone needs a target security level; the checks of SL-T (step-up, general-purpose services, SL-C gaps) and the error forms of broad sources and open ports depend on it.",
       CheckExample(policy: "zone plant { level 2; network 10.50.0.0/24 }\n"),
       "Add `security-level 1` to `4` as the risk assessment set it.", securityLevelSource)
    case .missingLevel:
      ("warning", "Without a Purdue level, conduit cannot tell whether a conduit skips levels.",
       CheckExample(policy: "zone plant { security-level 2; network 10.50.0.0/24 }\n"),
       "Add `level` (0, 1, 2, 3, 3.5, 4 or 5).", purdueSource)
    case .unusedZone:
      ("warning", "A zone that no conduit, interface or management line names is either dead documentation or a zone whose traffic was forgotten.",
       CheckExample(policy: zones + "zone lab { level 3; security-level 1; network 10.50.0.0/24 }\n" + conduit("allow hmi-1 -> plc-1 service modbus")),
       "Remove the zone, or add the conduit or gateway interface it needs.", partitionSource)
    case .unenforcedConduit:
      ("warning", "The policy declares gateways, and none has the conduit's two zones behind its interfaces: the conduit's rules are compiled nowhere.",
       CheckExample(policy: zones + "zone dmz { level 3.5; security-level 2; network 10.20.0.0/24 }\ngateway gw {\n  interface eth0 operations\n  interface eth1 dmz\n  management service ssh from hmi-1\n}\n" + conduit("allow hmi-1 -> plc-1 service modbus")),
       "Add an `interface` line for the missing zone on the gateway that joins them, or remove the conduit.", segmentationSource)
    case .hairpinConduit:
      ("error", "Both zones of a conduit behind one interface only: their traffic never crosses the gateway, so the conduit cannot be enforced.",
       CheckExample(policy: zones + "gateway gw {\n  interface eth0 operations, control\n  management service ssh from hmi-1\n}\n" + conduit("allow hmi-1 -> plc-1 service modbus")),
       "Put the two zones behind separate interfaces (or VLAN subinterfaces).", segmentationSource)
    case .noManagement:
      ("warning", "A gateway without `management` lines leaves its own input chain as it is: the boundary device itself is not deny-by-default.",
       CheckExample(policy: zones + "gateway gw {\n  interface eth0 operations\n  interface eth1 control\n}\n" + conduit("allow hmi-1 -> plc-1 service modbus")),
       "Add `management service ssh from …` naming who may administer the gateway.", denyByDefaultSource)
    case .duplicateConduit:
      ("error", "One pair of zones has one conduit, with one SL-T, owner and justification; a second conduit splits that record.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service modbus") + "conduit control-operations {\n  between control and operations\n}\n"),
       "Merge the rules into one conduit.", partitionSource)
    case .endpointOutsideConduit:
      ("error", "A rule's sources must lie in one of the conduit's zones and its destinations in the other; otherwise the conduit permits traffic between zones it does not join.",
       CheckExample(policy: zones + "zone idmz { level 3.5; security-level 2; network 10.20.0.0/24 }\nasset mirror-1 { address 10.20.0.5 }\n" + conduit("allow hmi-1 -> mirror-1 service https")),
       "Move the rule to the conduit of the right zones, or narrow the endpoint.", partitionSource)
    case .emptyRule:
      ("error", "A rule that yields no flow (IPv4-only sources to IPv6-only destinations, items of neither family) does not do what its author expects.",
       CheckExample(policy: zones + "asset plc-6 { address fd00:40::6 }\n" + conduit("allow hmi-1 -> plc-6 service modbus")),
       "Give the endpoints addresses of a common family, or remove the rule.", denyByDefaultSource)
    case .familyMismatch:
      ("warning", "An endpoint none of whose addresses shares a family with the other side contributes nothing; the rule allows less than it reads.",
       CheckExample(policy: zones + "asset eng-ws-6 { address fd00:30::46 }\n" + conduit("allow hmi-1, eng-ws-6 -> plc-1 service modbus")),
       "Remove the endpoint, or give the other side an address of its family.", denyByDefaultSource)
    case .purdueSkip:
      ("error: joins level 4 or 5 to level 0, 1 or 2; warning: joins level 3.5 to level 0 or 1",
       "Enterprise traffic ends in the industrial DMZ; a conduit from the enterprise straight to control or field devices skips the levels that broker it.",
       CheckExample(policy: "zone enterprise { level 4; security-level 1; network 10.1.0.0/16 }\nzone control { level 1; security-level 3; network 10.40.0.0/24 }\nconduit enterprise-control {\n  between enterprise and control\n  owner \"it-operations\"\n  justification \"reporting\"\n}\n"),
       "Route the traffic through the DMZ (a mirror or broker at level 3.5) and level 3.", purdueSource)
    case .slStepUp:
      ("warning", "A zone that initiates into a zone whose SL-T is two or more levels higher lets the weaker zone's attackers reach the stronger one.",
       CheckExample(policy: "zone office { level 3; security-level 1; network 10.30.0.0/24 }\nzone cell { level 2; security-level 3; network 10.40.0.0/24 }\nasset ws-1 { address 10.30.0.5 }\nasset plc-1 { address 10.40.0.10 }\nconduit office-cell {\n  between office and cell\n  owner \"ot-engineering\"\n  justification \"maintenance\"\n  allow ws-1 -> plc-1 service modbus\n}\n"),
       "Initiate from the stronger side, or through an intermediate zone; the warning can only be silenced by accepting the risk.", securityLevelSource)
    case .conduitSLBelowZone:
      ("warning", "A conduit's SL-T below the higher SL-T of its zones makes the conduit the weak point of the stronger zone.",
       CheckExample(policy: zones + conduit("security-level 2\nallow hmi-1 -> plc-1 service modbus")),
       "Raise the conduit's `security-level` to the higher zone's SL-T.", securityLevelSource)
    case .slCapabilityGap:
      ("warning", "An asset whose capability security level (SL-C) is below its zone's SL-T cannot meet the zone's target by itself; compensating measures are needed.",
       CheckExample(policy: zones + "asset plc-9 { address 10.40.0.9; security-level 1 }\n"),
       "Replace or harden the asset, or document the compensating countermeasure and accept the risk.", securityLevelSource + ", compared with the component's SL-C (IEC 62443-4-2)")
    case .broadSource:
      ("warning; error into a zone of SL-T 3 or 4", "A whole zone, or a prefix wider than /24 (IPv4) or /64 (IPv6), as a source permits every present and future device of it, not the exception that needs the flow.",
       CheckExample(policy: zones + conduit("allow zone operations -> plc-1 service modbus")),
       "Name the assets, a role or a glob, or a narrow prefix.", denyByDefaultSource)
    case .allPorts:
      ("warning; error into a zone of SL-T 3 or 4", "An item without port restriction, or a range wider than 1024 ports, permits every service the destination runs.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service tcp")),
       "Name the service or the ports the flow needs.", denyByDefaultSource)
    case .unknownDevice:
      ("warning", "A literal address or prefix that holds no known asset permits a device nobody inventoried (or a typo).",
       CheckExample(policy: zones + conduit("allow hmi-1 -> 10.40.0.99 service modbus")),
       "Add the device to the baseline and name it, or correct the address.", denyByDefaultSource)
    case .generalPurposeService:
      ("warning", "General-purpose IT services (telnet, ftp, smtp, pop3, imap, smb, rdp, vnc, http) into a zone of SL-T 3 or 4 bring the attack surface of office IT into the control system.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service http")),
       "Use the industrial or secure protocol (https, ssh, the control protocol), or a jump host in a lower zone.", denyByDefaultSource)
    case .expiredConduit:
      ("error; warning under --mitigation", "A temporary conduit past its `expires` date is an exception that should have been removed; compiled, its rules would drop at once anyway.",
       CheckExample(policy: zones + conduit("expires 2026-10-31\nallow hmi-1 -> plc-1 service modbus"), today: "2026-11-28"),
       "Remove the conduit, or renew it with a new `expires` date and justification.", denyByDefaultSource)
    case .expiringConduit:
      ("warning", "A conduit expiring within 30 days will stop the flows it allows; whoever relies on them must be warned before.",
       CheckExample(policy: zones + conduit("expires 2026-12-15\nallow hmi-1 -> plc-1 service modbus"), today: "2026-11-28"),
       "Renew it, or plan its removal with its owner.", denyByDefaultSource)
    case .expiryNotEnforced:
      ("warning", "The iptables time match cannot express a date after 2038-01-18; a later `expires` is left out of the rules, so the kernel would not stop the conduit when it expires.",
       CheckExample(policy: zones + "gateway gw {\n  interface eth0 operations\n  interface eth1 control\n  management service ssh from hmi-1\n}\n" + conduit("expires 2040-01-31\nallow hmi-1 -> plc-1 service modbus"), command: "conduit compile \(CheckExample.policyFileName) --target iptables"),
       "Use an earlier expiry date, or the nft target, which enforces any date.", denyByDefaultSource)
    case .missingJustification:
      ("warning", "Every conduit documents why it exists; without a justification no reviewer can tell whether it is still needed.",
       CheckExample(policy: zones + "conduit operations-control {\n  between operations and control\n  owner \"ot-engineering\"\n  allow hmi-1 -> plc-1 service modbus\n}\n"),
       "Add `justification \"…\"` (the change or risk-assessment reference).", partitionSource + "; " + securityLevelSource)
    case .missingOwner:
      ("warning", "Every conduit has someone who answers for it; without an owner nobody reviews or renews it.",
       CheckExample(policy: zones + "conduit operations-control {\n  between operations and control\n  justification \"HMI polling (CHG-2291)\"\n  allow hmi-1 -> plc-1 service modbus\n}\n"),
       "Add `owner \"…\"`.", partitionSource + "; " + securityLevelSource)
    case .redundantRule:
      ("warning", "A rule whose flows other rules already allow (with the same or stronger logging) adds nothing, and keeps allowing when the covering rule is later narrowed on purpose.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service modbus\nallow hmi-1 -> plc-1 service modbus")),
       "Remove the rule (the note points at the covering rule or rules).", denyByDefaultSource)
    case .emptyConduit:
      ("warning", "A conduit with no rules permits nothing: it is dead documentation or a conduit whose rules are missing.",
       CheckExample(policy: zones + conduit("")),
       "Add the rules, or remove the conduit.", partitionSource)
    case .unusedService:
      ("warning", "A service that nothing uses is dead text that a reader may take for permitted traffic.",
       CheckExample(policy: zones + "service historian-sync tcp/5450\n"),
       "Remove it, or use it in the rule it was meant for (built-in services are exempt).", denyByDefaultSource)
    case .dedicatedZone:
      ("warning", "Safety instrumented systems, wireless devices and temporarily connected devices belong in zones of their own, tagged the same.",
       CheckExample(policy: zones + "asset sis-1 { address 10.40.0.50; tags sis }\n"),
       "Move the asset into a zone tagged `sis`, `wireless` or `temporary` as its tag says.", partitionSource + " (its requirements separate safety-related, wireless and temporarily connected devices)")
    case .mitigationConflict:
      ("error", "An `allow` of one activated mitigation reopens what another activated mitigation isolates or revokes: the two cannot both hold.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service modbus") + "mitigation isolate-plc {\n  reason \"CVE under investigation\"\n  isolate plc-1\n}\nmitigation keep-polling {\n  reason \"the line must keep running\"\n  allow hmi-1 -> plc-1 service modbus\n}\n", command: "conduit compile \(CheckExample.policyFileName) --mitigation isolate-plc --mitigation keep-polling"),
       "Activate one of them, or narrow the isolation or the allow so they no longer meet.", denyByDefaultSource)
    case .mitigationOutsideConduit:
      ("error", "A mitigation may only narrow or reopen traffic within existing conduits; an allow between zones with no conduit would open a path the zone model does not have.",
       CheckExample(policy: zones + "zone idmz { level 3.5; security-level 2; network 10.20.0.0/24 }\nasset mirror-1 { address 10.20.0.5 }\n" + conduit("allow hmi-1 -> plc-1 service modbus") + "mitigation reroute {\n  reason \"emergency mirror\"\n  allow plc-1 -> mirror-1 service https\n}\n"),
       "Declare the conduit first (with its SL-T, owner and justification), or allow within an existing one.", partitionSource)
    case .functionsUnsupported:
      ("error", "`functions` on a rule restricts Modbus function codes; until the backends enforce it, a rule that carried it would allow every function, a false assurance.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service modbus functions read")),
       "Remove `functions` (and restrict the flow otherwise) until the backends enforce it.", denyByDefaultSource)
    case .writeWithoutFunctions:
      ("warning", "A Modbus rule into a zone holding a high or critical asset, without a `functions` restriction, lets the source write coils and registers of the process.",
       CheckExample(policy: zones + "asset plc-2 { address 10.40.0.11; criticality critical }\n" + conduit("allow hmi-1 -> plc-2 service modbus")),
       "Restrict the rule with `functions read` (or the codes it needs).", denyByDefaultSource)
    case .advisoryMatch:
      ("impact finding (conduit impact --advisory)", "An asset whose product and version an advisory names is vulnerable; the advisory's CVEs, CVSS and remediations say how much and what to do.",
       CheckExample(policy: zones + "asset plc-2 { address 10.40.0.11; vendor \"Siemens\"; product \"S7-1500\"; version \"2.9.2\" }\n", command: "conduit impact \(CheckExample.policyFileName) --advisory ADVISORY.json"),
       "Apply the advisory's remediation (update, or the mitigation it gives); until then, narrow the conduits that reach the asset.", advisorySource)
    case .exposedVulnerableAsset:
      ("impact finding (conduit impact --advisory; exit status 1)", "A vulnerable asset that conduits reach is exposed to every source of those flows; the finding lists each flow by source zone and criticality.",
       CheckExample(policy: zones + conduit("allow hmi-1 -> plc-1 service modbus"), command: "conduit impact \(CheckExample.policyFileName) --advisory ADVISORY.json"),
       "Remediate the asset, or activate a mitigation that isolates it or revokes the flows that reach it.", advisorySource)
    case .duplicateKey:
      ("warning", "A JSON baseline object with the same key twice is ambiguous; conduit uses the later value, which may not be the one the inventory meant.",
       CheckExample(policy: "baseline \"assets.json\"\n" + zones, baseline: ("assets.json", "[\n  {\"name\": \"plc-2\", \"ip\": \"10.40.0.11\", \"ip\": \"10.40.0.12\"}\n]\n")),
       "Remove the duplicate key from the export.", partitionSource)
    }
  }
}
