import Platform
import Testing

@Suite struct ByteViewTests {
    /// The eight-bytes-at-a-time ASCII path agrees with the standard library on text whose
    /// multi-byte sequences and errors fall at every offset around the eight-byte steps.
    @Test func utf8ValidationAgreesWithTheStandardLibrary() {
        var generator = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array("é".utf8), Array("€".utf8), Array("😀".utf8), [0xC3], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xC0, 0xAF], Array("plain ascii text ".utf8),
        ]
        for _ in 0 ..< 5000 {
            var bytes: [UInt8] = []
            for _ in 0 ..< Int.random(in: 0 ... 12, using: &generator) {
                bytes += pieces[Int.random(in: 0 ..< pieces.count, using: &generator)]
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let produced = ByteView.with(bytes) { $0.isValidUTF8 }
            #expect(produced == expected, "\(bytes)")
        }
    }
}
