import Foundation

/// The work queue on the start page: its items grouped under headings, in the queue's order.
enum WorkQueuePage {
    /// The heading an item stands under.
    static func heading(_ kind: String, coordinator: Bool) -> String {
        switch kind {
        case "problem": "Probleme an oder nach ihrer Frist"
        case "poll" where coordinator: "Umfragen auszuwerten"
        case "poll": "Umfragen zu beantworten"
        case "conference" where coordinator: "Fallkonferenzen zu planen, vorzubereiten oder zu moderieren"
        case "conference": "Fallkonferenzen der nächsten 7 Tage"
        case "steering", "papers": "Lenkungsgruppe"
        case "documentation": "Dokumentationsstandard"
        case "referrals": "Verweisungen ohne Rückmeldung seit über \(WorkQueue.referralWaitDays) Tagen, je Stelle"
        case "review", "goal", "action_item": "Heute fällig"
        case "referral": "Neue Verweisungen an Ihre Dienste"
        case "report": "Meldungen zu entscheiden"
        default: "Weiteres"
        }
    }

    static func sections(_ items: [WorkQueue.Item], coordinator: Bool) -> [[String: Any]] {
        var order: [String] = []
        var grouped: [String: [[String: Any]]] = [:]
        for item in items {
            let heading = heading(item.kind, coordinator: coordinator)
            if grouped[heading] == nil { order.append(heading) }
            grouped[heading, default: []].append(["title": item.title, "detail": item.detail as Any, "link": item.link, "kind": item.kind])
        }
        return order.enumerated().map { index, heading in
            ["heading": heading, "id": "queue-\(index + 1)", "items": grouped[heading] ?? [], "count": grouped[heading]?.count ?? 0]
        }
    }
}
