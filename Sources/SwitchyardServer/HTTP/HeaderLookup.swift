import HTTPTypes

extension HTTPFields {
    /// `name`'s value. A field sent once (nearly every one) is returned as it is, found in place;
    /// HTTPTypes' subscript joins every occurrence through generic sequence code, a cost on every
    /// request. Repeated fields are joined by that subscript, as before.
    func value(of name: HTTPField.Name) -> String? {
        guard let first = firstIndex(where: { $0.name == name }) else { return nil }
        guard !self[index(after: first)...].contains(where: { $0.name == name }) else { return self[name] }
        return self[first].value
    }

    /// Sets `name` to `value` alone: appended when the fields lack it (an answer's own fields
    /// nearly always), else through the subscript, which replaces every occurrence. Appending
    /// skips the subscript's generic search-and-replace.
    mutating func put(_ name: HTTPField.Name, _ value: String) {
        if contains(name) {
            self[name] = value
        } else {
            append(HTTPField(name: name, value: value))
        }
    }
}
