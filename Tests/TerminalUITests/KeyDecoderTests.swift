import Testing

@testable import TerminalUI

struct KeyDecoderTests {
    @Test func textControlBytesAndEscapeSequencesBecomeKeys() {
        var decoder = KeyDecoder()
        #expect(decoder.feed(Array("jk/é".utf8)) == [.character("j"), .character("k"), .character("/"), .character("é")])
        #expect(decoder.feed([0x03, 0x1A, 0x0D, 0x7F, 0x09]) == [.control("c"), .control("z"), .enter, .backspace, .tab])
        #expect(decoder.feed(Array("\u{1B}[A\u{1B}[B\u{1B}OC\u{1B}[D\u{1B}[H\u{1B}[F".utf8)) == [.up, .down, .right, .left, .home, .end])
        #expect(decoder.feed(Array("\u{1B}[5~\u{1B}[6~\u{1B}[3~\u{1B}[Z\u{1B}[1~\u{1B}[4~".utf8)) == [.pageUp, .pageDown, .delete, .backTab, .home, .end])
    }

    @Test func aLoneEscapeIsTheEscKeyAndASplitSequenceWaitsForItsEnd() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [.escape])
        #expect(decoder.feed(Array("\u{1B}[".utf8)) == [])
        #expect(decoder.feed(Array("5~x".utf8)) == [.pageUp, .character("x")])
        // A UTF-8 character split across reads.
        let bytes = Array("ü".utf8)
        #expect(decoder.feed([bytes[0]]) == [])
        #expect(decoder.feed([bytes[1]]) == [.character("ü")])
    }

    @Test func sgrMouseReportsAreClicksAndTheWheel() {
        var decoder = KeyDecoder()
        #expect(decoder.feed(Array("\u{1B}[<0;12;5M\u{1B}[<0;12;5m".utf8)) == [.click(row: 4, column: 11)])
        #expect(decoder.feed(Array("\u{1B}[<64;1;1M\u{1B}[<65;1;1M".utf8)) == [.scrollUp, .scrollDown])
        // Unknown sequences are swallowed whole, not typed as text.
        #expect(decoder.feed(Array("\u{1B}[200~q".utf8)) == [.character("q")])
        #expect(decoder.feed(Array("\u{1B}?".utf8)) == [.escape, .character("?")])
    }
}
