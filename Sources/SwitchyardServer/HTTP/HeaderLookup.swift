import HTTPTypes

extension HTTPFields {
    /// `name`'s value. A field sent once (nearly every one) is returned as it is; HTTPTypes'
    /// subscript joins every occurrence through generic sequence code, a cost on every request.
    /// Repeated fields are joined by that subscript, as before.
    func value(of name: HTTPField.Name) -> String? {
        var occurrences = self[fields: name].makeIterator()
        guard let first = occurrences.next() else { return nil }
        guard occurrences.next() == nil else { return self[name] }
        return first.value
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
