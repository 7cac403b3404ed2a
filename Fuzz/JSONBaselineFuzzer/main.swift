import FuzzDriver
import FuzzEntries

/// libFuzzer's entry: a JSON baseline read and checked against a fixed policy.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = FuzzEntry.jsonBaseline.run(fuzzInput(data, size))
  return 0
}

runLibFuzzer(testOneInput)
