extension StoreSettings {
    /// Every setting's name, as `kfwd settings` shows them.
    public static let names = CodingKeys.allCases.map(\.rawValue)

    /// The settings as `name: value` text, in ``names`` order (`default` for an unset image).
    public var values: [(name: String, value: String)] {
        CodingKeys.allCases.map { key in
            let value: String =
                switch key {
                case .holdSeconds: "\(self.holdSeconds)"
                case .transport: self.transport
                case .relayImage: self.relayImage ?? "default"
                case .dashboardPort: "\(self.dashboardPort)"
                case .networkSettleSeconds: "\(self.networkSettleSeconds)"
                case .syncIntervalMinutes: "\(self.syncIntervalMinutes)"
                }
            return (key.rawValue, value)
        }
    }

    /// Sets one setting from text, checked as its field requires.
    /// - Throws: ``ConfigStoreError`` naming the setting and what it takes.
    public mutating func set(_ name: String, to text: String) throws(ConfigStoreError) {
        guard let key = CodingKeys(rawValue: name) else {
            throw ConfigStoreError("no setting is named '\(name)': the settings are \(Self.names.joined(separator: ", "))")
        }
        switch key {
        case .holdSeconds:
            guard let value = Double(text), value > 0, value.isFinite else { throw Self.bad(name, text, "a number of seconds above 0") }
            self.holdSeconds = value
        case .transport:
            guard ["auto", "tunnel", "spdy", "websocket"].contains(text) else { throw Self.bad(name, text, "auto, tunnel, spdy or websocket") }
            self.transport = text
        case .relayImage:
            guard !text.isEmpty, !text.contains(where: \.isWhitespace) else { throw Self.bad(name, text, "an image reference, or 'default'") }
            self.relayImage = text == "default" ? nil : text
        case .dashboardPort:
            guard let value = Int(text), (0...65535).contains(value) else { throw Self.bad(name, text, "a port, 0 to 65535 (0: any free port)") }
            self.dashboardPort = value
        case .networkSettleSeconds:
            guard let value = Double(text), value >= 0, value <= 300 else { throw Self.bad(name, text, "a number of seconds, 0 to 300") }
            self.networkSettleSeconds = value
        case .syncIntervalMinutes:
            guard let value = Double(text), value >= 0, value <= 1440 else { throw Self.bad(name, text, "a number of minutes, 0 (only kfwd sync pulls) to 1440") }
            self.syncIntervalMinutes = value
        }
    }

    private static func bad(_ name: String, _ text: String, _ wanted: String) -> ConfigStoreError {
        ConfigStoreError("setting \(name) cannot be '\(text)': it takes \(wanted)")
    }
}
