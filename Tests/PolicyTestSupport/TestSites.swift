/// Policy text the tests of several modules start from.
public enum TestSites {
  /// Two dual-stack zones, `ops` (level 3, SL-T 2) and `ctl` (level 1, SL-T 3), with HMIs and an engineering
  /// station in `ops` and two PLCs in `ctl`: 13 lines, no `site` line, no conduit.
  public static let operationsAndControl = """
    zone ops {
      level 3; security-level 2
      network 10.30.0.0/24, fd00:30::/64
    }
    zone ctl {
      level 1; security-level 3
      network 10.40.0.0/24, fd00:40::/64
    }
    asset hmi-1 { address 10.30.0.31, fd00:30::31; role hmi }
    asset hmi-2 { address 10.30.0.32; role hmi }
    asset eng-1 { address 10.30.0.40 }
    asset plc-1 { address 10.40.0.10, fd00:40::10; role plc }
    asset plc-2 { address 10.40.0.11; role plc }

    """
}
