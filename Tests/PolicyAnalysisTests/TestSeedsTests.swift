import PolicyTestSupport
import Testing

/// `CONDUIT_TEST_SEED` takes a seed as a failing test names it, in decimal or hex.
@Suite struct TestSeedsTests {
  @Test func seedsAreDecimalOrHex() {
    #expect(TestSeeds.parse("3") == 3)
    #expect(TestSeeds.parse("0x5EED_0003") == 0x5EED_0003)
    #expect(TestSeeds.parse(" 0XC0FFEE ") == 0xC0FFEE)
    #expect(TestSeeds.parse("18446744073709551615") == UInt64.max)
    for invalid in ["", "seed", "-1", "0x", "18446744073709551616", "3.5"] {
      #expect(TestSeeds.parse(invalid) == nil, "\(invalid)")
    }
  }
}
