import CIPDomain
import CIPStore

extension ChangeLogStore {
    /// Every change visible to `organization` after `sequence`, once the log has numbered at least
    /// `latest` (PostgreSQL numbers changes just after they commit).
    public func allChanges(
        after sequence: Int64 = 0, visibleTo organization: OrganizationRef, numberedThrough latest: Int64 = 0
    ) async throws -> [LoggedChange] {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await changeLogBounds().latest < latest, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        var changes: [LoggedChange] = []
        var after = sequence
        while true {
            let page = try await self.changes(after: after, visibleTo: organization, limit: 500)
            changes += page
            guard let last = page.last, page.count == 500 else { return changes }
            after = last.sequence
        }
    }
}
