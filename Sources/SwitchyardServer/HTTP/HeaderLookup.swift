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
}
