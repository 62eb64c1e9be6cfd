/// How a cell is drawn: a foreground colour, bold, dim, reversed (the selection). With
/// `NO_COLOR` the colours are dropped and only bold, dim and reverse remain, so every state
/// still reads by its symbol and its word.
public struct TextStyle: Sendable, Hashable {
    public enum Color: UInt8, Sendable {
        case red = 31, green = 32, yellow = 33, blue = 34, magenta = 35, cyan = 36
    }

    public var color: Color?
    public var bold = false
    public var dim = false
    public var reverse = false

    public init(color: Color? = nil, bold: Bool = false, dim: Bool = false, reverse: Bool = false) {
        self.color = color
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
    }

    public static let plain = TextStyle()

    /// The SGR sequence that sets this style from a reset.
    func escape(colors: Bool) -> String {
        var codes = ["0"]
        if self.bold { codes.append("1") }
        if self.dim { codes.append("2") }
        if self.reverse { codes.append("7") }
        if colors, let color = self.color { codes.append(String(color.rawValue)) }
        return "\u{1B}[" + codes.joined(separator: ";") + "m"
    }
}
