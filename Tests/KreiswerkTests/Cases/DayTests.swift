import Foundation
import Testing

@testable import Kreiswerk

/// Days as the API, the forms and the database write them.
@Suite struct DayTests {
    @Test func onlyDaysThatExistAreDays() {
        #expect(Day("2026-11-23")?.iso == "2026-11-23")
        #expect(Day(" 2026-11-23 ")?.iso == "2026-11-23")
        #expect(Day("2028-02-29") != nil, "2028 is a leap year")
        #expect(Day("2000-02-29") != nil, "so is 2000")
        #expect(Day("2100-02-29") == nil, "2100 is not")
        #expect(Day("2027-02-29") == nil)
        #expect(Day("2026-04-31") == nil)
        #expect(Day("2026-13-01") == nil)
        #expect(Day("2026-00-10") == nil)
        #expect(Day("2026-01-00") == nil)
        for text in ["23.11.2026", "2026-1-5", "2026-11-23T00:00", "20261123", "2026/11/23", "", "２０２６-11-23", "2026-11-2x"] {
            #expect(Day(text) == nil, "'\(text)'")
        }
    }

    @Test func daysFromInstantsAreBerlinDaysAndReadInGerman() {
        // 23:30 UTC on 31 December is already New Year's Day in Berlin.
        #expect(Day(try! Date("2026-12-31T23:30:00Z", strategy: .iso8601)).iso == "2027-01-01")
        #expect(Day("2026-11-23")!.german == "23.11.2026")
        #expect(Day("2026-11-23")! < Day("2026-12-01")!)
    }

    /// KIM's first target group: arrived within the last two years, counted as the calendar counts.
    @Test func arrivedRecentlyMeansWithinTwoCalendarYears() {
        #expect(Day("2026-11-23")!.yearsEarlier(2).iso == "2024-11-23")
        #expect(Day("2028-02-29")!.yearsEarlier(2).iso == "2026-02-28", "no 29 February in 2026")
        #expect(Day("2028-02-29")!.yearsEarlier(4).iso == "2024-02-29")
        #expect(Day("0012-03-01")!.yearsEarlier(2).iso == "0010-03-01")
        var client = ClientData(firstName: "A", lastName: "B", dateOfBirth: Day("1990-01-01")!)
        let today = Day("2026-11-23")!
        #expect(!client.arrivedRecently(today: today), "no arrival date")
        client.arrivalDate = Day("2024-11-23")
        #expect(client.arrivedRecently(today: today), "exactly two years ago")
        client.arrivalDate = Day("2024-11-22")
        #expect(!client.arrivedRecently(today: today))
        client.arrivalDate = Day("2026-11-23")
        #expect(client.arrivedRecently(today: today))
    }
}
