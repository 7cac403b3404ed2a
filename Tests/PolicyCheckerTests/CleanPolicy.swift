/// A policy that every check passes: four zones with levels and SL-T, a gateway with management, conduits with
/// owner and justification, rules with names, globs, roles, several items and IPv6, a policy asset and a mitigation.
let cleanPolicy = """
  # Clean site: every check stays quiet
  site clean-site
  baseline "assets.csv"

  service historian-web tcp/443
  service engineering s7comm, ssh
  service replication historian-web, tcp/5450-5460

  zone enterprise {
    level 4
    security-level 1
    network 10.1.0.0/16
    description "office network"
  }

  zone idmz {
    level 3.5
    security-level 2
    network 10.20.0.0/24, fd00:20::/64
  }

  zone operations {
    level 3
    security-level 2
    network 10.30.0.0/24, fd00:30::/64
  }

  zone control {
    level 1
    security-level 3
    network 10.40.0.0/24, fd00:40::/64
    assets plc-1, plc-2
  }

  asset ntp-1 { address 10.20.0.9, fd00:20::9; role time-server; criticality low }

  gateway gw-core {
    interface eth0 enterprise
    interface eth1 idmz
    interface eth2 operations
    interface eth3 control
    management service ssh, https from eng-ws-1, role engineering
  }

  conduit enterprise-idmz {
    between enterprise and idmz
    security-level 2
    owner "it-operations"
    justification "business users read the historian mirror (CHG-1001)"

    allow reporting-* -> hist-mirror service historian-web
  }

  conduit idmz-operations {
    between idmz and operations
    security-level 2
    owner "ot-engineering"
    justification "historian replication and time (CHG-1002)"

    allow historian -> hist-mirror service replication log
    allow role engineering, historian -> ntp-1 service ntp, ping
  }

  conduit operations-control {
    between operations and control
    security-level 3
    owner "ot-engineering"
    justification "HMI polling and engineering access (CHG-2291)"
    expires 2027-06-30

    allow role hmi -> plc-1, plc-2 service modbus
    allow eng-ws-1 -> plc-* service engineering, ping log
    allow plc-1 -> historian service opcua
    allow historian -> fd00:40::10 service snmp
  }

  mitigation isolate-plc-2 {
    reason "incident playbook: cut plc-2 off all but engineering"
    isolate plc-2
    allow eng-ws-1 -> plc-2 service s7comm
  }
  """

/// The baseline `cleanPolicy` reads.
let cleanBaseline = """
  name,ip,role,vendor,model,firmware,criticality,sl-c
  reporting-1,10.1.5.10,workstation,Dell,OptiPlex 7090,,low,
  reporting-2,10.1.5.11,workstation,Dell,OptiPlex 7090,,low,
  hist-mirror,10.20.0.5 fd00:20::5,historian,AVEVA,PI Server,2018 SP3,medium,2
  hmi-1,10.30.0.31,HMI,Siemens,SIMATIC IPC477E,,high,2
  eng-ws-1,10.30.0.40 fd00:30::40,engineering,Dell,Precision 3660,,medium,2
  historian,10.30.0.50 fd00:30::50,historian,AVEVA,PI Server,2018 SP3,high,2
  plc-1,10.40.0.10 fd00:40::10,plc,Siemens,S7-1516-3 PN/DP,V2.9.4,critical,3
  plc-2,10.40.0.11,plc,Siemens,S7-1516-3 PN/DP,V2.9.4,critical,3
  """

/// The files of the clean policy, for `checkFiles`.
let cleanFiles = [CaseFile("policy.conduit", cleanPolicy), CaseFile("assets.csv", cleanBaseline)]

/// Two zones and a few policy assets that the conduit cases build on: `operations` (level 3, SL-T 2) and
/// `control` (level 1, SL-T 3), each dual-stack; hmi-1 is IPv4 only, eng-ws-6 and plc-6 IPv6 only.
let twoZones = """
  zone operations {
    level 3
    security-level 2
    network 10.30.0.0/24, fd00:30::/64
  }
  zone control {
    level 1
    security-level 3
    network 10.40.0.0/24, fd00:40::/64
  }
  asset hmi-1 { address 10.30.0.31; role hmi }
  asset eng-ws-1 { address 10.30.0.40, fd00:30::40; role engineering }
  asset eng-ws-6 { address fd00:30::46; role engineering }
  asset plc-1 { address 10.40.0.10, fd00:40::10; role plc }
  asset plc-2 { address 10.40.0.11; role plc }
  asset plc-6 { address fd00:40::6; role plc }

  """
