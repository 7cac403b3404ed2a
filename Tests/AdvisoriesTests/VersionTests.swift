import Testing

@testable import Advisories

/// Versions compare part by part as ADVISORIES.md says, and ranges are read from the `vers:` and free-text forms of
/// real advisories; what cannot be read is unreadable, never guessed.
@Suite struct VersionTests {
  static func version(_ text: String) -> ProductVersion { ProductVersion(text)! }

  @Test(arguments: [
    ("22.011", "22.11", 0), ("V2.9", "2.9.0", 0), ("SV3.51", "3.51", 0), ("v22.011", "22.11", 0),
    ("4.21a", "4.21", 1), ("4.21a", "4.22", -1), ("4.21a", "4.21.1", -1), ("4.21a", "4.21b", -1),
    ("V1.0 SP1", "V1.0", 1), ("V1.0 SP1", "V1.0 SP2", -1), ("3.4.4 Build 16102416", "3.4.4", 1),
    ("02.07.07(10)", "2.7.7.10", 0), ("10.0", "9.99", 1), ("1.000.HW02.3", "1.0", 1), ("2020", "2019.12", 1),
  ])
  func versionsCompareAsTheSpecSays(_ left: String, _ right: String, _ order: Int) {
    let (a, b) = (Self.version(left), Self.version(right))
    #expect((a < b ? -1 : a == b ? 0 : 1) == order, "\(left) vs \(right)")
    #expect((b < a ? -1 : b == a ? 0 : 1) == -order, "\(right) vs \(left)")
  }

  @Test(arguments: [
    "FW14", "April/5/2023", "4.x", "V3.X.17", "", "R4.01.00", "the_first_5_digits", "1.2*", "99999999999999999999",
  ])
  func textThatIsNoVersionIsNotRead(_ text: String) {
    #expect(ProductVersion(text) == nil, "\(text)")
  }

  @Test(arguments: [
    ("vers:all/*", "all versions"), ("All versions", "all versions"), ("vers:all/<V3.1.4", "< V3.1.4"),
    ("vers:all/>=V7.80<V9.40", ">= V7.80 < V9.40"), ("< 4.21", "< 4.21"), ("<= 2020", "<= 2020"),
    (">=5.0|<7.17.0.0", ">= 5.0 < 7.17.0.0"), ("vers:generic/>=1.0|<2.0", ">= 1.0 < 2.0"),
    ("All versions < V2.1 SP3", "< V2.1 SP3"), ("All BIOS versions < V1.0.212N", "< V1.0.212N"),
    (">= V1.2 < V1.4", ">= V1.2 < V1.4"), (" <1.000.HW02.3.20181109", "< 1.000.HW02.3.20181109"),
    ("<v22.011", "< v22.011"), ("< SV3.51", "< SV3.51"), (">= 9.1 | <= 9.4", ">= 9.1 <= 9.4"),
    ("1.2 | 1.4", "= 1.2 | = 1.4"), ("< 1.99 | 2.20 | 2.40", "< 1.99 | = 2.20 | = 2.40"),
  ])
  func rangesOfRealAdvisoriesAreRead(_ text: String, _ expected: String) {
    #expect(VersionRange.range(text).description == expected, "\(text)")
  }

  @Test(arguments: [
    "<April/5/2023", "<=the_first_5_digits_of_serial_number_20082", ">= R4.01.00 | <= R4.02.00", "< V3.X.17",
    "> 5.0 < 4.0", "1.0 || 2.0", "firmware", "< FW14", "vers:all", "",
  ])
  func rangesThatCannotBeReadAreUnreadable(_ text: String) {
    guard case .unreadable = VersionRange.range(text) else {
      Issue.record("'\(text)' read as \(VersionRange.range(text))")
      return
    }
  }

  /// Rockwell's `<V33.017_V34.014_V35.013_V36.011` (ICSA-24-284-20) names the fix of each release branch.
  @Test(arguments: [
    ("33.011", true), ("33.017", false), ("33.020", false), ("34.010", true), ("34.014", false), ("36.010", true),
    ("37.011", false), ("32.5", true),
  ])
  func aBranchFixListHoldsWhatIsBelowTheFixOfItsOwnBranch(_ version: String, _ affected: Bool) {
    let range = VersionRange.range("<V33.017_V34.014_V35.013_V36.011")
    #expect(range.description == "< V33.017 or V34.014 or V35.013 or V36.011 (by release branch)")
    #expect(range.contains(Self.version(version)) == affected, "\(version)")
    #expect(VersionRange.range("<v36.011_v35.013_v34.014").contains(Self.version("35.020")) == false)
    #expect(VersionRange.range("<=v36.011_v35.013").contains(Self.version("35.013")) == true)
  }

  @Test func aRangeSaysWhichVersionsItHolds() {
    let range = VersionRange.range("vers:all/>=V7.80<V9.40")
    #expect(range.contains(Self.version("7.80")) == true)
    #expect(range.contains(Self.version("V9.39.9")) == true)
    #expect(range.contains(Self.version("9.40")) == false)
    #expect(range.contains(Self.version("7.79")) == false)
    #expect(VersionRange.range("<= 2020").contains(Self.version("2020")) == true)
    #expect(VersionRange.range("< 22.011").contains(Self.version("22.11")) == false)
    #expect(VersionRange.range("vers:all/*").contains(Self.version("1")) == true)
    #expect(VersionRange.range("< FW14").contains(Self.version("1")) == nil)
    #expect(VersionRange.version("2.03-02").contains(Self.version("2.3.2")) == true)
    let list = VersionRange.range("< 1.99 | 2.20 | 2.40")
    #expect(list.contains(Self.version("2.20")) == true)
    #expect(list.contains(Self.version("2.30")) == false)
    #expect(list.contains(Self.version("1.5")) == true)
  }
}
