// SpellingSuggestion: "did you mean 'imports'?" for a misspelt key or name.

enum SpellingSuggestion {
    /// The candidate closest to `word`, if it is close enough to be a typo.
    static func closest(to word: String, in candidates: some Sequence<String>) -> String? {
        let scored = candidates.map { (candidate: $0, distance: editDistance(word, $0)) }
        guard let best = scored.min(by: { $0.distance < $1.distance }) else { return nil }
        // Two edits catch most typos; short words need fewer, or everything matches everything.
        let allowed = min(2, max(1, word.count / 3))
        return best.distance <= allowed ? best.candidate : nil
    }

    /// " (did you mean 'x'?)", or nothing when no candidate is close.
    static func hint(for word: String, in candidates: some Sequence<String>) -> String {
        closest(to: word, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`.
    /// Swaps count as one because "improts" is one slip of the fingers, not two.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var distance = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { distance[i][0] = i }
        for j in 0...b.count { distance[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let substitution = a[i - 1] == b[j - 1] ? 0 : 1
                distance[i][j] = min(distance[i - 1][j] + 1, distance[i][j - 1] + 1,
                                     distance[i - 1][j - 1] + substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    distance[i][j] = min(distance[i][j], distance[i - 2][j - 2] + 1)
                }
            }
        }
        return distance[a.count][b.count]
    }
}
