import FuzzDriver
import FuzzEntries

/// libFuzzer's entry: a CSAF advisory read with its products, versions and vulnerabilities.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = FuzzEntry.csaf.run(fuzzInput(data, size))
  return 0
}

runLibFuzzer(testOneInput)
