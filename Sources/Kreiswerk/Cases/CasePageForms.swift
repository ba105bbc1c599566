import Foundation

/// The case page's actions, each its own form in a disclosure that is closed until it is needed (issue 17: on a phone the
/// page shows what the case is and what is due, not screens of stacked forms). The form an answer came back to opens again
/// with what was chosen and typed, and each error next to its field; the error summary links to the fields in form order.
enum CaseAction: Sendable, Equatable {
    case phase, handOver, goal, note, referral, conference
    case review(goal: UUID)
    case postpone(goal: UUID)

    /// The action a `POST /faelle/{id}/PART` performs (`goal` for the parts of one goal).
    init?(part: String, goal: UUID?) {
        switch part {
        case "phase": self = .phase
        case "uebergabe": self = .handOver
        case "ziele": self = .goal
        case "vermerke": self = .note
        case "verweisungen": self = .referral
        case "konferenzen": self = .conference
        case "ziele/{goal}/pruefung":
            guard let goal else { return nil }
            self = .review(goal: goal)
        case "ziele/{goal}/verschieben":
            guard let goal else { return nil }
            self = .postpone(goal: goal)
        default: return nil
        }
    }

    /// The disclosure that opens (`open_NAME` in case.mustache); a goal's own forms open in its row.
    var disclosure: String? {
        switch self {
        case .phase: "open_phase"
        case .handOver: "open_handover"
        case .goal: "open_goal"
        case .note: "open_note"
        case .referral: "open_referral"
        case .conference: "open_conference"
        case .review, .postpone: nil
        }
    }

    /// Where each field's error leads: the id of the field in this action's form (field names repeat across the forms).
    var anchors: [String: String] {
        switch self {
        case .phase: ["phase": "next-phase"]
        case .goal: ["text": "goal-text"]
        case .note: ["text": "note-text"]
        case .conference:
            [
                "kind": "conference-kind", "title": "conference-title", "scheduled_at": "conference-when", "participants": "conference-participants",
                "invitees": "conference-invitees", "summary": "conference-summary", "consent": "conference-consent",
                "consent_given_how": "conference_consent_given_how", "consent_interpreter_language": "conference_consent_interpreter_language",
            ]
        case .review(let goal): ["outcome": "outcome-\(goal.uuidString.lowercased())"]
        case .postpone(let goal): ["review_on": "postpone-\(goal.uuidString.lowercased())"]
        case .handOver, .referral: [:]
        }
    }

    /// The template's key for a field's message (`error_KEY`), where the plain field name would be another form's.
    func errorKey(_ field: String) -> String? {
        switch self {
        case .goal: field == "text" ? "goal_text" : field
        case .note: field == "text" ? "note_text" : field
        case .conference: "conference_\(field)"
        case .review, .postpone: nil  // in the goal's row
        case .phase, .handOver, .referral: field
        }
    }
}

extension CasePages {
    /// The fields of the case page's forms, in the order they stand on the page: the error summary follows it.
    static let caseFieldOrder = [
        "case", "phase", "route", "next_review_on", "closure_reason", "owner_id", "area", "text", "agreed_on", "review_on", "outcome", "note",
        "service_id", "referral_reason", "referral_consent", "referral_consent_date", "kind", "title", "scheduled_at", "participants",
        "invitees", "external", "summary", "agenda", "consent",
    ]

    /// The error summary and the messages next to the fields for the form `action`, in form order, linked to its fields.
    static func caseErrorValues(_ errors: InvalidInput, action: CaseAction?) -> [String: Any] {
        let anchors = action?.anchors ?? [:]
        let rank = { (field: String) in caseFieldOrder.firstIndex(of: field) ?? caseFieldOrder.count }
        let ordered = errors.errors.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }
        var values: [String: Any] = [
            "hasErrors": !ordered.isEmpty,
            "errorList": ordered.map {
                // "kind" is a referral answer's elsewhere; here, the conference's level.
                let label = action == .conference && $0.key == "kind" ? "Ebene" : labels[$0.key] ?? $0.key
                return ["field": anchors[$0.key] ?? $0.key, "label": label, "message": $0.value]
            },
        ]
        for (field, message) in ordered {
            if let key = action.map({ $0.errorKey(field) }) ?? field { values["error_\(key)"] = message }
        }
        return values
    }

    /// What the open form shows again after an error: the choices made and the text typed (`form` is what was sent).
    static func caseFormValues(_ action: CaseAction?, form: Form, file: CaseFile, page: CaseWork.CasePage) -> [String: Any] {
        var values: [String: Any] = [:]
        if let disclosure = action?.disclosure { values[disclosure] = true }
        let sent = action == nil ? Form() : form
        let phase = action == .phase ? sent["phase"] : ""
        let route = action == .phase && !sent["route"].isEmpty ? sent["route"] : file.route?.rawValue
        values["nextPhases"] = file.phase.next(route: file.route ?? .counsellingReferral).map {
            ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == phase]
        }
        values["routes"] = CaseRoute.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == route] }
        if action == .phase {
            values["phaseNextReview"] = sent["next_review_on"].nonEmpty
            values["phaseClosureReason"] = sent["closure_reason"].nonEmpty
        }
        let owner = action == .handOver ? sent["owner_id"] : ""
        values["colleagues"] = page.handOverTo.map {
            ["id": $0.id.uuidString.lowercased(), "name": $0.displayName, "selected": $0.id.uuidString.lowercased() == owner]
        }
        let area = action == .goal ? sent["area"] : ""
        values["areas"] = GoalArea.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == area] }
        values["goalAgreedOn"] = action == .goal && !sent["agreed_on"].isEmpty ? sent["agreed_on"] : Day.today.iso
        if action == .goal {
            values["goalText"] = sent.raw("text").nonEmpty
            values["goalReviewOn"] = sent["review_on"].nonEmpty
        }
        if action == .note { values["noteText"] = sent.raw("text").nonEmpty }
        let conference = action == .conference ? sent : Form()
        let kind = conference["kind"]
        values["conferenceKinds"] = [("municipal", "kommunal (Sie laden ein)"), ("district", "Kreisebene (Koordinierungsstelle moderiert)")].map {
            ["value": $0.0, "label": $0.1, "selected": $0.0 == kind]
        }
        let invited = Set(conference.all("participants"))
        values["conferenceTenants"] = page.conferenceTenants.map { ["slug": $0.slug, "name": $0.name, "checked": invited.contains($0.slug)] }
        if action == .conference {
            values["conferenceForm"] = [
                "title": conference["title"], "scheduledAt": conference["scheduled_at"], "invitees": conference["invitees"],
                "external": conference["external"], "summary": conference.raw("summary"), "agenda": conference.raw("agenda"),
                "moderator": conference["moderator"] == "1", "consent": conference["consent"] == "1",
            ]
        }
        return values
    }

    /// A goal's row: its review and postponement forms, open with the error and what was typed when the answer is about it.
    static func goalFormValues(_ goal: Goal, action: CaseAction?, form: Form, errors: InvalidInput?) -> [String: Any] {
        var values: [String: Any] = [:]
        var outcome = ""
        switch action {
        case .review(let id) where id == goal.id:
            values["reviewOpen"] = true
            values["reviewError"] = errors?.errors["outcome"]
            values["reviewNote"] = form["note"].nonEmpty
            outcome = form["outcome"]
        case .postpone(let id) where id == goal.id:
            values["postponeOpen"] = true
            values["postponeError"] = errors?.errors["review_on"]
            values["postponeOn"] = form["review_on"].nonEmpty
            values["postponeReason"] = form["reason"].nonEmpty
        default: break
        }
        values["reviewOutcomes"] = GoalOutcome.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == outcome] }
        return values
    }
}
