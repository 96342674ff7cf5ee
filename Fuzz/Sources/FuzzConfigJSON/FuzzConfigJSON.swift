import FuzzSupport

@_cdecl("FuzzConfigJSON_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt { runFuzzer(argc, argv, test) }

/// Pullwarden's config file, for the inputs the loader reads as JSON (`fuzzConfig`).
@_cdecl("LLVMFuzzerTestOneInput")
func test(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { fuzzConfig(data, size, readAsJSON: true) }
