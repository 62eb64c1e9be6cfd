import Foundation

/// The request bodies kubectl sends as protobuf (`application/vnd.kubernetes.protobuf`: its typed
/// clients for access reviews and token requests), read into the JSON the API layer works on.
/// The envelope is apimachinery's `runtime.Unknown` after the magic `k8s\0`
/// (pkg/runtime/serializer/protobuf); the field numbers are those of the types' generated.proto.
/// Only the fields these requests carry are read; any other kind is refused with 415.
enum ProtobufBody {
    static let contentType = "application/vnd.kubernetes.protobuf"

    static func json(_ data: Data) throws(APIError) -> JSON {
        let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]
        guard data.count >= 4, Array(data.prefix(4)) == magic, let unknown = Fields(data.dropFirst(4)),
            let typeMeta = unknown.message(1), let raw = unknown.bytes(2), let object = Fields(raw)
        else {
            throw APIError.badRequest("the body of the request is not a Kubernetes protobuf message")
        }
        let apiVersion = typeMeta.string(1) ?? ""
        let kind = typeMeta.string(2) ?? ""
        var json: JSON = .object(["apiVersion": .string(apiVersion), "kind": .string(kind), "metadata": .object([:])])
        let spec = object.message(2)
        switch kind {
        case "SelfSubjectAccessReview":
            var fields: [String: JSON] = [:]
            if let resource = spec?.message(1) {
                let names = ["namespace", "verb", "group", "version", "resource", "subresource", "name"]
                fields["resourceAttributes"] = .object(Dictionary(uniqueKeysWithValues: names.enumerated().compactMap { index, name in
                    resource.string(index + 1).map { (name, JSON.string($0)) }
                }))
            }
            if let nonResource = spec?.message(2) {
                fields["nonResourceAttributes"] = .object(["path": .string(nonResource.string(1) ?? ""), "verb": .string(nonResource.string(2) ?? "")])
            }
            json["spec"] = .object(fields)
        case "SelfSubjectRulesReview":
            json["spec"] = .object(["namespace": .string(spec?.string(1) ?? "")])
        case "TokenRequest":
            var fields: [String: JSON] = ["audiences": .array((spec?.strings(1) ?? []).map { .string($0) })]
            if let seconds = spec?.varint(4) { fields["expirationSeconds"] = .int(Int(seconds)) }
            json["spec"] = .object(fields)
        default:
            throw APIError.unsupportedMediaType(Self.contentType)
        }
        return json
    }

    /// One message's fields by number: varints and length-delimited bytes (the wire types these
    /// messages use).
    struct Fields {
        private var values: [Int: [Value]] = [:]

        enum Value {
            case varint(UInt64)
            case bytes(Data)
        }

        init?(_ data: Data) {
            var bytes = Array(data)[...]
            while !bytes.isEmpty {
                guard let key = Self.varint(&bytes) else { return nil }
                let field = Int(key >> 3)
                switch key & 7 {
                case 0:
                    guard let value = Self.varint(&bytes) else { return nil }
                    self.values[field, default: []].append(.varint(value))
                case 2:
                    guard let length = Self.varint(&bytes), length <= UInt64(bytes.count) else { return nil }
                    self.values[field, default: []].append(.bytes(Data(bytes.prefix(Int(length)))))
                    bytes = bytes.dropFirst(Int(length))
                case 1:
                    guard bytes.count >= 8 else { return nil }
                    bytes = bytes.dropFirst(8)
                case 5:
                    guard bytes.count >= 4 else { return nil }
                    bytes = bytes.dropFirst(4)
                default:
                    return nil
                }
            }
        }

        private static func varint(_ bytes: inout ArraySlice<UInt8>) -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.popFirst() {
                guard shift < 64 else { return nil }
                result |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return result }
                shift += 7
            }
            return nil
        }

        func bytes(_ field: Int) -> Data? {
            if case .bytes(let data)? = self.values[field]?.last { return data }
            return nil
        }

        func string(_ field: Int) -> String? { self.bytes(field).map { String(decoding: $0, as: UTF8.self) } }

        func strings(_ field: Int) -> [String] {
            (self.values[field] ?? []).compactMap { value in
                if case .bytes(let data) = value { return String(decoding: data, as: UTF8.self) }
                return nil
            }
        }

        func message(_ field: Int) -> Fields? { self.bytes(field).flatMap(Fields.init) }

        func varint(_ field: Int) -> UInt64? {
            if case .varint(let value)? = self.values[field]?.last { return value }
            return nil
        }
    }
}
