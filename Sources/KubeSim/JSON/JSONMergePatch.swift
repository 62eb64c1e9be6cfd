/// RFC 7386 JSON merge patch (`application/merge-patch+json`), as the apiserver applies it.
enum JSONMergePatch {
    static func apply(_ patch: JSON, to target: JSON) -> JSON {
        guard case .object(let patchFields) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, value) in patchFields {
            if value == .null {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
