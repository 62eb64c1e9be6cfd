/// Turns the bytes a terminal sends in raw mode into ``Key``s: UTF-8 text, control bytes,
/// CSI and SS3 sequences (arrows, Home, End, PgUp, PgDn, Del, Shift-Tab) and SGR mouse
/// reports (`ESC [ < b ; x ; y M`). A sequence split across reads is kept until it is whole;
/// an ESC that ends a read with nothing after it, or that is followed by anything but `[` or
/// `O`, is the Esc key (terminals send a sequence in one write).
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Key] {
        self.pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var index = 0
        while index < self.pending.count {
            switch self.decode(from: index) {
            case .key(let key, let length):
                if let key { keys.append(key) }
                index += length
            case .incomplete:
                if self.pending[index] == 0x1B && index + 1 == self.pending.count {
                    keys.append(.escape)
                    index += 1
                    continue
                }
                self.pending.removeFirst(index)
                return keys
            }
        }
        self.pending.removeAll()
        return keys
    }

    private enum Decoded {
        case key(Key?, length: Int)
        case incomplete
    }

    private func decode(from start: Int) -> Decoded {
        let bytes = self.pending
        let byte = bytes[start]
        switch byte {
        case 0x1B:
            guard start + 1 < bytes.count else { return .incomplete }
            switch bytes[start + 1] {
            case UInt8(ascii: "["): return self.csi(from: start)
            case UInt8(ascii: "O"):
                guard start + 2 < bytes.count else { return .incomplete }
                let key: Key? =
                    switch bytes[start + 2] {
                    case UInt8(ascii: "A"): .up
                    case UInt8(ascii: "B"): .down
                    case UInt8(ascii: "C"): .right
                    case UInt8(ascii: "D"): .left
                    case UInt8(ascii: "H"): .home
                    case UInt8(ascii: "F"): .end
                    default: nil
                    }
                return .key(key, length: 3)
            default:
                // Esc typed just before another key arrives with it (tmux sends them so):
                // Esc, then that key. Alt-key, which kfwd does not use, reads the same.
                return .key(.escape, length: 1)
            }
        case 0x0D, 0x0A: return .key(.enter, length: 1)
        case 0x09: return .key(.tab, length: 1)
        case 0x7F, 0x08: return .key(.backspace, length: 1)
        case 0x01...0x1A: return .key(.control(Character(Unicode.Scalar(byte + 0x60))), length: 1)
        case 0x00, 0x1C...0x1F: return .key(nil, length: 1)
        default:
            let length =
                switch byte {
                case 0xC0...0xDF: 2
                case 0xE0...0xEF: 3
                case 0xF0...0xF7: 4
                default: 1
                }
            guard start + length <= bytes.count else { return .incomplete }
            let text = String(decoding: bytes[start..<(start + length)], as: UTF8.self)
            return .key(text.first.map(Key.character), length: length)
        }
    }

    /// `ESC [` parameters, then a final byte in 0x40...0x7E.
    private func csi(from start: Int) -> Decoded {
        let bytes = self.pending
        var end = start + 2
        while end < bytes.count, !(0x40...0x7E).contains(bytes[end]) {
            end += 1
        }
        guard end < bytes.count else { return .incomplete }
        let parameters = String(decoding: bytes[(start + 2)..<end], as: UTF8.self)
        let length = end - start + 1
        let final = Character(Unicode.Scalar(bytes[end]))
        if parameters.hasPrefix("<") { return .key(Self.mouse(String(parameters.dropFirst()), final: final), length: length) }
        let key: Key? =
            switch (final, parameters) {
            case ("A", _): .up
            case ("B", _): .down
            case ("C", _): .right
            case ("D", _): .left
            case ("H", _): .home
            case ("F", _): .end
            case ("Z", _): .backTab
            case ("~", "1"), ("~", "7"): .home
            case ("~", "4"), ("~", "8"): .end
            case ("~", "3"): .delete
            case ("~", "5"): .pageUp
            case ("~", "6"): .pageDown
            default: nil
            }
        return .key(key, length: length)
    }

    /// An SGR mouse report: button;column;row, `M` pressed, `m` released (1-based cells).
    private static func mouse(_ parameters: String, final: Character) -> Key? {
        let numbers = parameters.split(separator: ";").compactMap { Int($0) }
        guard numbers.count == 3 else { return nil }
        switch (numbers[0], final) {
        case (0, "M"): return .click(row: numbers[2] - 1, column: numbers[1] - 1)
        case (64, "M"): return .scrollUp
        case (65, "M"): return .scrollDown
        default: return nil
        }
    }
}
