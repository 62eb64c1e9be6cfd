/// A forward as files and annotations write it: its alias beside the fields of a saved forward
/// (`{alias: web, target: svc/web, ports: [8080]}`), for kfwd.yaml and `kfwd.dev/forwards`.
struct AliasedForwardConfig: Decodable {
    var alias: String?
    var config: ForwardConfig

    enum CodingKeys: String, CodingKey { case alias }

    init(from decoder: any Decoder) throws {
        self.alias = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .alias)
        self.config = try ForwardConfig(from: decoder)
    }
}
