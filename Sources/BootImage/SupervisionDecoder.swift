// SupervisionDecoder: a service's [service.supervision] table into SupervisionSettings.
// Every field is range-checked; a cap below the first back-off is a contradiction the
// reader should hear about rather than have silently raised.

enum SupervisionDecoder {
    static let fields = ["backoff_ms", "backoff_cap_ms", "budget", "window_s", "stable_after_s", "hang_limit_ms", "stop_grace_ms"]

    static func decode(_ section: ImageSection) throws(ImageError) -> SupervisionSettings {
        try section.rejectUnknownKeys(allowed: fields)
        typealias S = SupervisionSettings
        var settings = SupervisionSettings()
        settings.backoffMilliseconds = try section.integer("backoff_ms", in: S.backoffRange) ?? settings.backoffMilliseconds
        settings.backoffCapMilliseconds = try section.integer("backoff_cap_ms", in: S.backoffCapRange)
            ?? max(settings.backoffCapMilliseconds, settings.backoffMilliseconds)
        settings.budget = try section.integer("budget", in: S.budgetRange) ?? settings.budget
        settings.windowSeconds = try section.integer("window_s", in: S.windowRange) ?? settings.windowSeconds
        settings.stableAfterSeconds = try section.integer("stable_after_s", in: S.stableAfterRange) ?? settings.stableAfterSeconds
        settings.hangLimitMilliseconds = try section.integer("hang_limit_ms", in: S.hangLimitRange)
        settings.stopGraceMilliseconds = try section.integer("stop_grace_ms", in: S.stopGraceRange) ?? settings.stopGraceMilliseconds
        if settings.backoffCapMilliseconds < settings.backoffMilliseconds, let cap = section.table["backoff_cap_ms"] {
            throw section.failure("backoff_cap_ms", line: cap.line,
                                  "the cap (\(settings.backoffCapMilliseconds) ms) is below backoff_ms (\(settings.backoffMilliseconds) ms)")
        }
        return settings
    }
}
