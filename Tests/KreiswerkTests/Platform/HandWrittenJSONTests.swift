import Foundation
import NIOCore
import Testing

@testable import Kreiswerk

/// The hand-written JSON of hot lists is byte for byte what the encoder of `JSONResponse` writes.
@Suite struct HandWrittenJSONTests {
    static func encoded(_ value: some Encodable, snakeCase: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func written(_ value: some HandWrittenJSON) -> String {
        var json = JSONText()
        value.writeJSON(to: &json)
        return String(buffer: json.buffer)
    }

    @Test func aListOfCasesIsWrittenAsTheEncoderWritesIt() throws {
        let awkward =
            (0..<0x20).map { String(UnicodeScalar(UInt8($0))) }.joined() + #"" \ / ä ß 😀 "#
            + "\u{7F}\u{2028}\u{2029}\u{FEFF}"
        let full = CaseFile(
            id: UUID(),
            caseNumber: "WIT-2026-0001",
            clientID: UUID(),
            clientName: "Amira \"Mimi\" Haddad \(awkward)",
            ownerID: UUID(),
            ownerName: "Ça/va\\",
            channel: .level2External,
            phase: .closure,
            route: .counsellingReferral,
            reason: awkward,
            nextReviewOn: Day("2026-12-01"),
            openedOn: Day("2026-01-05")!,
            closedOn: Day("2026-11-23"),
            closureReason: "Ziele\nerreicht",
            version: 7,
            goalsDue: 2
        )
        let sparse = CaseFile(
            id: UUID(),
            caseNumber: "HAT-DEMO-9",
            clientID: UUID(),
            clientName: "",
            ownerID: UUID(),
            ownerName: "B",
            channel: .level1,
            phase: .intake,
            route: nil,
            reason: nil,
            nextReviewOn: nil,
            openedOn: Day("2025-02-28")!,
            closedOn: nil,
            closureReason: nil,
            version: 1,
            goalsDue: 0
        )
        for cases in [[full, sparse], [], [sparse]] {
            #expect(Self.written(cases) == (try Self.encoded(cases)))
        }
    }

    @Test func clientsAreWrittenAsTheEncoderWritesThem() throws {
        var data = ClientData(firstName: "Amira \"Mimi\"", lastName: "Haddad/Öztürk\n", dateOfBirth: Day("1994-03-12")!)
        let sparse = Client(
            id: UUID(),
            tenant: "witten",
            data: data,
            arrivedRecently: false,
            hasCaseManagementConsent: false,
            version: 1,
            createdAt: Date(timeIntervalSince1970: 1_795_000_000.999_9)
        )
        data.gender = "female"
        data.placeOfResidence = "Witten"
        data.socialArea = "Annen"
        data.residenceStatus = "Aufenthaltserlaubnis § 24"
        data.countryOfOrigin = "Syrien"
        data.languages = ["ar", "de", "ku \\ \u{1}"]
        data.germanLevel = "B1"
        data.healthSituation = "Diabetes"
        data.household = "vier Personen"
        data.youthOfficeMeasures = "Hilfe zur Erziehung"
        data.jobcenterMeasures = "Sprachkurs"
        data.clubMemberships = "SV Annen"
        data.arrivalDate = Day("2025-02-28")
        data.singleParent = true
        data.unaccompaniedMinor = false
        data.familyWithBarriers = true
        data.extra = ["herkunftsort": .text("Aleppo"), "kinderzahl": .number(3), "kurs_stunden": .number(12.5), "hilfen": .list(["a", "b/c"])]
        var full = Client(
            id: UUID(),
            tenant: "witten",
            data: data,
            arrivedRecently: true,
            hasCaseManagementConsent: true,
            version: 12,
            createdAt: Date(timeIntervalSince1970: -1.5)
        )
        for clients in [[full, sparse], [], [sparse]] {
            #expect(Self.written(clients) == (try Self.encoded(clients, snakeCase: true)))
        }
        full.data.extra = [:]
        full.createdAt = Date(timeIntervalSince1970: 951_782_400)  // 2000-02-29
        #expect(Self.written([full]) == (try Self.encoded([full], snakeCase: true)))
    }

    @Test func aCasePageIsWrittenAsTheEncoderWritesIt() throws {
        let file = CaseFile(
            id: UUID(),
            caseNumber: "WIT-2026-0001",
            clientID: UUID(),
            clientName: "Amira Haddad",
            ownerID: UUID(),
            ownerName: "Cara \"CM\"",
            channel: .level1,
            phase: .goalAgreement,
            route: nil,
            reason: "Wohnung\tSchule",
            nextReviewOn: Day("2026-12-01"),
            openedOn: Day("2026-01-05")!,
            closedOn: nil,
            closureReason: nil,
            version: 3,
            goalsDue: 1
        )
        let client = Client(
            id: file.clientID,
            tenant: "witten",
            data: ClientData(firstName: "Amira", lastName: "Haddad", dateOfBirth: Day("1994-03-12")!),
            arrivedRecently: true,
            hasCaseManagementConsent: true,
            version: 2,
            createdAt: Date(timeIntervalSince1970: 1_767_225_600.25)
        )
        let goals = [
            Goal(
                id: UUID(),
                area: .housing,
                text: "Wohnung \\ finden",
                agreedOn: Day("2026-02-01")!,
                reviewOn: Day("2026-05-01")!,
                outcome: .partly,
                outcomeNote: "halb/halb",
                reviewedOn: Day("2026-05-02"),
                version: 2
            ),
            Goal(
                id: UUID(),
                area: .language,
                text: "B1",
                agreedOn: Day("2026-02-01")!,
                reviewOn: Day("2026-08-01")!,
                outcome: nil,
                outcomeNote: nil,
                reviewedOn: nil,
                version: 1
            ),
        ]
        let timeline = [
            CaseEvent(
                id: 12,
                occurredAt: Date(timeIntervalSince1970: 1_767_300_000.5),
                actorName: nil,
                kind: "phase_changed",
                text: "Ziel\nvereinbart"
            ),
            CaseEvent(id: 3, occurredAt: Date(timeIntervalSince1970: 1_767_225_600), actorName: "Cara", kind: "opened", text: "Fall eröffnet"),
        ]
        for record in [
            CaseAPI.CaseRecord(case: file, client: client, goals: goals, timeline: timeline),
            CaseAPI.CaseRecord(case: file, client: client, goals: [], timeline: []),
        ] {
            #expect(Self.written(record) == (try Self.encoded(record, snakeCase: true)))
        }
    }
}
