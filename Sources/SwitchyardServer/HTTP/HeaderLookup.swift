import HTTPTypes

extension HTTPFields {
    /// `name`'s value. A field sent once (nearly every one) is returned as it is, found in place;
    /// HTTPTypes' subscript joins every occurrence through generic sequence code, a cost on every
    /// request. Repeated fields are joined by that subscript, as before.
    func value(of name: HTTPField.Name) -> String? {
        let canonical = name.canonicalName
        guard let first = firstIndex(where: { $0.name.isCanonically(canonical) }) else { return nil }
        guard !self[index(after: first)...].contains(where: { $0.name.isCanonically(canonical) }) else {
            return self[name]
        }
        return self[first].value
    }

    /// Whether a field is named `name`.
    func holds(_ name: HTTPField.Name) -> Bool {
        let canonical = name.canonicalName
        return contains { $0.name.isCanonically(canonical) }
    }

    /// Sets `name` to `value` alone: appended when the fields lack it (an answer's own fields
    /// nearly always), else through the subscript, which replaces every occurrence. Appending
    /// skips the subscript's generic search-and-replace.
    mutating func put(_ name: HTTPField.Name, _ value: String) {
        if holds(name) {
            self[name] = value
        } else {
            append(HTTPField(name: name, value: value))
        }
    }
}

extension HTTPField.Name {
    /// Whether the name is `canonical` (a lowercase name). The lengths are compared first: most
    /// names compared are not the one looked for, and the library compares unequal strings slowly.
    @inline(__always)
    func isCanonically(_ canonical: String) -> Bool {
        canonicalName.utf8.count == canonical.utf8.count && canonicalName == canonical
    }
}
